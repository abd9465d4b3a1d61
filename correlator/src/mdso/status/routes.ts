// GET /api/mdso/status and POST /api/mdso/collect.
import { ErrorResponse, MdsoCollectResponse, MdsoStatusResponse, NoQuery } from '@correlation-station/api-schema';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import { CorrelatorError } from '../../api/errors.js';
import type { MdsoConfig } from '../../config/config.js';
import { PollInProgressError, type MdsoPoller } from '../poller/poller.js';
import { collectView, statusView } from './status-view.js';

export interface MdsoPollerRoutesOptions {
  config: Readonly<MdsoConfig>;
  poller: MdsoPoller | null;
  disabledReason: string | null;
}

export const mdsoPollerRoutes: FastifyPluginAsync<MdsoPollerRoutesOptions> = async (fastify, opts) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/api/mdso/status',
    {
      schema: {
        tags: ['mdso'],
        summary: 'MDSO poller status: enabled or why not, last poll, lag, cursors per product, last error',
        querystring: NoQuery,
        response: { 200: MdsoStatusResponse },
      },
    },
    async () => statusView(opts.config, opts.poller, opts.disabledReason),
  );

  app.post(
    '/api/mdso/collect',
    {
      schema: {
        tags: ['mdso'],
        summary: 'Run an MDSO poll now and report what it did',
        response: { 200: MdsoCollectResponse, 409: ErrorResponse, 503: ErrorResponse },
      },
    },
    async (_request, reply) => {
      if (!opts.poller) {
        throw new CorrelatorError('MDSO_NOT_CONFIGURED', 503, `MDSO polling is off: ${opts.disabledReason ?? 'not configured'}`);
      }
      try {
        return collectView(await opts.poller.pollNow());
      } catch (err) {
        if (err instanceof PollInProgressError) {
          // Not an overload refusal (which CorrelatorError's Retry-After is counted as): the header is set here.
          reply.header('retry-after', '5');
          throw new CorrelatorError('MDSO_POLL_RUNNING', 409, 'an MDSO poll is already running; try again when it has finished');
        }
        throw err;
      }
    },
  );
};
