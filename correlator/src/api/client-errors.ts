// A request node's parser refuses (headers too large, bytes that are no HTTP) is answered on its
// socket before routing. fastify's handler wrote that answer at once and destroyed the socket, so
// a request pipelined before it on the same connection, read whole but not yet answered, got no
// answer: a POST of spans could be stored and its client never told. Here the earlier answers are
// sent first, in order, then the refusal, then the connection is closed. node's own request
// timeout (requestTimeout, headersTimeout: ERR_HTTP_REQUEST_TIMEOUT) comes here too.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { STATUS_CODES } from 'node:http';
import type { ConnectionError, FastifyInstance, onRequestHookHandler } from 'fastify';
import type { OtlpEncoding } from '../otlp/responses.js';
import { otlpErrorEncoding } from './error-answers.js';
import { noteUploadTimedOut, timeoutAnswerBytes, uploadTimeoutMessage } from './timeout-answers.js';

/**
 * A client that reads neither its earlier answers nor the refusal still has its connection closed:
 * the refusal waits at most this long to be written out.
 */
const FLUSH_BOUND_MS = 10_000;

/** The requests of each connection whose answers are not finished, and who waits for them. */
export class OpenExchanges {
  readonly #open = new WeakMap<Socket, Set<IncomingMessage>>();
  readonly #settled = new WeakMap<Socket, () => void>();
  /**
   * How a routed request's 408 is encoded (an OTLP route's in the request's encoding, `api` for the
   * others' JSON error), and only that: holding the FastifyRequest itself kept each request's body
   * alive past its answer, and the ingest bench's receive-only server needed 40% more CPU for it.
   */
  readonly #routed = new WeakMap<IncomingMessage, OtlpEncoding | 'api'>();

  /** First among the server's 'request' listeners, so an answer fastify gives at once is seen too. */
  watch(server: Server): void {
    server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => this.#add(req, res));
  }

  #add(req: IncomingMessage, res: ServerResponse): void {
    const socket = req.socket;
    let open = this.#open.get(socket);
    if (!open) this.#open.set(socket, (open = new Set()));
    open.add(req);
    // 'close' comes after 'finish', and also when the connection is lost first.
    res.once('close', () => {
      open.delete(req);
      if (open.size > 0) return;
      this.#open.delete(socket);
      const then = this.#settled.get(socket);
      this.#settled.delete(socket);
      then?.();
    });
  }

  /**
   * Whether every open request of `socket` was read whole: its answer will come. A request whose
   * body is still expected (the parser failed in it, or it timed out) is not waited for.
   */
  allRead(socket: Socket): boolean {
    for (const req of this.#open.get(socket) ?? []) if (!req.complete) return false;
    return true;
  }

  /** An onRequest hook: the route a request took, for a timeout of its body to be answered as the route answers. */
  readonly noteRoute: onRequestHookHandler = (request, _reply, done) => {
    this.#routed.set(request.raw, otlpErrorEncoding(request) ?? 'api');
    done();
  };

  /** The request of `socket` whose body is still expected, and how its route answers; null when none was routed. */
  unread(socket: Socket): { raw: IncomingMessage; answerAs: OtlpEncoding | 'api' } | null {
    for (const raw of this.#open.get(socket) ?? []) {
      if (raw.complete) continue;
      const answerAs = this.#routed.get(raw);
      return answerAs === undefined ? null : { raw, answerAs };
    }
    return null;
  }

  /** Calls `then` once every open request of `socket` is answered; at once when none is open. */
  whenAnswered(socket: Socket, then: () => void): void {
    if (this.#open.has(socket)) this.#settled.set(socket, then);
    else then();
  }
}

/** fastify's answers (defaultClientErrorHandler), byte for byte: the 431 is documented as it is. */
function answerTo(code: string): { status: number; label: string; bytes: string } {
  const [status, label, message] =
    code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'timeout', 'Client Timeout']
      : code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'header_overflow', 'Exceeded maximum allowed HTTP header size']
        : [400, 'error', 'Client Error'];
  const reason = STATUS_CODES[status]!;
  const body = `{"error":"${reason}","message":"${message}","statusCode":${status}}`;
  return { status, label, bytes: `HTTP/1.1 ${status} ${reason}\r\nContent-Length: ${body.length}\r\nContent-Type: application/json\r\n\r\n${body}` };
}

/**
 * fastify's `clientErrorHandler`: answers after the requests before it on the same connection,
 * waiting for them at most `waitMs` (REQUEST_TIMEOUT_MS).
 */
export function answerClientErrors(exchanges: OpenExchanges, waitMs: number) {
  // node's parser fails again on every later chunk of the connection: it is answered once.
  const answering = new WeakSet<Socket>();
  return function answerClientError(this: FastifyInstance, err: ConnectionError, socket: Socket): void {
    if (err.code === 'ECONNRESET' || socket.destroyed || answering.has(socket)) return;
    const answer = answerTo(err.code);
    this.log.trace({ err }, `client ${answer.label}`);
    if (!exchanges.allRead(socket)) {
      // As fastify does: the request in flight is cut, as its body will not come.
      const bytes = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? bodyTimeoutAnswer(this, exchanges.unread(socket)) ?? answer.bytes : answer.bytes;
      if (socket.writable) socket.write(bytes);
      socket.destroy(err);
      return;
    }
    answering.add(socket);
    // A handler that never answers (or an answer its client never reads) held the connection for
    // good. The refusal is not written then: answers are matched to requests by their order, so
    // it would be read as the answer to the request still unanswered (a POST of spans "refused",
    // and not sent again), or land inside that answer's body if it had begun. Cut without it, the
    // client retries what went unanswered, as RFC 9112 (9.3.2) has it do.
    const bound = setTimeout(() => {
      this.log.info(
        { waitMs },
        `a request refused with ${answer.status} waited for the answers before it on its connection for REQUEST_TIMEOUT_MS; connection closed without them`,
      );
      socket.destroy();
    }, waitMs).unref();
    exchanges.whenAnswered(socket, () => {
      clearTimeout(bound);
      closeWith(socket, answer.bytes);
    });
  };
}

/**
 * node's requestTimeout cut a request whose headers came (they came slowly, so node's timer, counted
 * from the request's first byte, ran out before OverloadGuard's, counted from its headers): it is
 * answered as the guard answers, naming the setting in the route's encoding. Null for one whose
 * headers never all came: node keeps no request for it, so no path or type to answer by, and
 * fastify's plain JSON 408 is sent.
 */
function bodyTimeoutAnswer(app: FastifyInstance, unread: { raw: IncomingMessage; answerAs: OtlpEncoding | 'api' } | null): Buffer | null {
  if (unread === null) return null;
  noteUploadTimedOut(unread.raw);
  const message = uploadTimeoutMessage('REQUEST_TIMEOUT_MS');
  app.log.info({ url: unread.raw.url }, message);
  return timeoutAnswerBytes(unread.answerAs === 'api' ? null : unread.answerAs, message);
}

/** Writes the last answer, then closes once it is written out (the earlier answers before it). */
function closeWith(socket: Socket, bytes: string): void {
  if (socket.destroyed) return;
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const bound = setTimeout(() => socket.destroy(), FLUSH_BOUND_MS).unref();
  socket.end(bytes, () => {
    clearTimeout(bound);
    socket.destroy();
  });
}
