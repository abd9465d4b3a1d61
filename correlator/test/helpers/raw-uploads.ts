// Uploads on raw sockets that stop, trickle or pause part-way, for the request timeouts' tests: a
// client library would hide what the server does with a connection that stays open.
import net from 'node:net';
import { SpanKind } from '@opentelemetry/api';
import { serviceTelemetry } from './sdk-bodies.js';
import { until } from './until.js';

export interface StalledUpload {
  socket: net.Socket;
  /** What the server sent back, if anything. */
  received: () => string;
  closed: Promise<void>;
}

/** Headers declaring a 1 MiB body and 100 bytes of it, then nothing more, or 4 bytes every `trickleMs`. */
export function stalledUpload(port: number, path: string, trickleMs?: number, contentType = 'application/x-protobuf'): StalledUpload {
  const socket = net.connect(port, '127.0.0.1');
  let received = '';
  socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
  socket.on('error', () => {});
  const closed = new Promise<void>(resolve => socket.once('close', () => resolve()));
  socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: ${contentType}\r\nContent-Length: 1048576\r\n\r\n`);
  socket.write(Buffer.alloc(100, contentType === 'application/json' ? 0x20 : 0x0a));
  if (trickleMs !== undefined) {
    const every = setInterval(() => (socket.destroyed ? clearInterval(every) : socket.write(Buffer.alloc(4, 0x0a))), trickleMs);
    socket.once('close', () => clearInterval(every));
  }
  return { socket, received: () => received, closed };
}

/**
 * Sends a one-span trace, pausing `pauseMs` half-way through its body, and resolves with the
 * answer's head and body as received. The caller destroys the socket (`onSocket`) when done.
 */
export async function pausedUpload(port: number, pauseMs: number, onSocket: (s: net.Socket) => void): Promise<string> {
  const body = (await serviceTelemetry('beorn', Date.now() - 5_000, [{ name: 'POST /slow', startMs: 0, endMs: 1, kind: SpanKind.SERVER }])).traces.protobuf;
  const socket = net.connect(port, '127.0.0.1');
  onSocket(socket);
  let answer = '';
  socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
  socket.write(`POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: ${body.length}\r\n\r\n`);
  const half = Math.floor(body.length / 2);
  socket.write(body.subarray(0, half));
  await new Promise(resolve => setTimeout(resolve, pauseMs));
  socket.write(body.subarray(half));
  await until(async () => (answer.includes('\r\n\r\n') ? true : null), 'the paused upload is answered');
  return answer;
}
