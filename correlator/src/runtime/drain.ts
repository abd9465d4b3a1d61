// Shutdown in two steps: first the HTTP server drains, then the app closes (store, writer thread,
// MDSO poller). fastify's close() alone reset requests in flight: node's server.close() closes at
// once every connection it counts as idle, which includes one accepted whose request had not yet
// been read; a request whose headers came after close() began was answered 503 by fastify without
// its body being read, so the socket closed on unread bytes (a reset, which the client often
// saw before the answer); and a keep-alive connection whose request was in flight stayed open
// after its answer, holding shutdown until the force-exit timer ended it (exit 1).
//
// Draining: the listener closes (no new connections); every request already received or arriving
// on a connection already accepted is answered as usual, the store still open, with
// `Connection: close`; connections still idle after a grace period are closed, then any that go
// idle; at the deadline what is left is cut, so a client that never finishes cannot hold shutdown.
import { Server as NetServer } from 'node:net';
import type { Server, ServerResponse } from 'node:http';

export interface DrainBounds {
  /** How long a connection accepted before the listener closed may take to send its request. */
  idleGraceMs: number;
  /** When connections still open are cut. */
  deadlineMs: number;
}

export interface DrainOutcome {
  /** Connections cut at the deadline. */
  cut: number;
  /** Requests that were in flight (received, not yet answered) when the drain began. */
  inFlight: number;
  ms: number;
}

const POLL_MS = 100;

export class HttpDrain {
  private readonly open = new Set<ServerResponse>();
  private draining = false;

  /** Call before the server listens: it sees every request from the first. */
  constructor(private readonly server: Server) {
    // Before fastify's own listener, so the header is set before any answer is written.
    server.prependListener('request', (_req, res: ServerResponse) => {
      if (this.draining) {
        res.setHeader('Connection', 'close');
        return;
      }
      this.open.add(res);
      // 'close' comes when the answer is complete or the connection ended first.
      res.once('close', () => this.open.delete(res));
    });
  }

  async drain(bounds: DrainBounds): Promise<DrainOutcome> {
    const started = Date.now();
    this.draining = true;
    const inFlight = this.open.size;
    for (const res of this.open) if (!res.headersSent) res.setHeader('Connection', 'close');
    this.open.clear();
    if (!this.server.listening) return { cut: 0, inFlight, ms: Date.now() - started };
    let closed = false;
    // net's close, not http's: http's also closes at once the connections it counts as idle, among
    // them those accepted whose request is still on its way.
    const stopped = new Promise<void>(resolve =>
      NetServer.prototype.close.call(this.server, () => {
        closed = true;
        resolve();
      }),
    );
    const wait = (ms: number) => Promise.race([stopped, new Promise<void>(resolve => setTimeout(resolve, ms))]);
    const deadline = started + bounds.deadlineMs;
    await wait(Math.min(bounds.idleGraceMs, bounds.deadlineMs));
    // Idle now: answered (a keep-alive connection) or never sent a request within the grace.
    while (!closed && Date.now() < deadline) {
      this.server.closeIdleConnections();
      await wait(Math.min(POLL_MS, Math.max(0, deadline - Date.now())));
    }
    let cut = 0;
    if (!closed) {
      cut = await new Promise<number>(resolve => this.server.getConnections((_e, n) => resolve(n ?? 0)));
      this.server.closeAllConnections();
      await wait(1000);
    }
    return { cut, inFlight, ms: Date.now() - started };
  }
}
