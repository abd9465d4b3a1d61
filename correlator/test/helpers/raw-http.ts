// Requests fetch cannot make: bodies streamed at the pace the test chooses, and answers read
// while the upload is still going (a server may refuse before the body is complete).
import http from 'node:http';
import net from 'node:net';
import type { Readable } from 'node:stream';

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function collect(res: http.IncomingMessage): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    res.on('error', reject);
  });
}

/**
 * POSTs `body` chunk by chunk (respecting back-pressure) and resolves with the answer, whether it
 * comes after the whole body or in the middle of it. Also reports how many bytes were written
 * before the answer came, which shows the server stopped reading early.
 */
export function streamingPost(
  url: string,
  headers: Record<string, string>,
  body: Readable,
): Promise<RawResponse & { bytesWritten: number }> {
  return new Promise((resolve, reject) => {
    let written = 0;
    let answered = false;
    const req = http.request(url, { method: 'POST', headers });
    req.on('response', res => {
      answered = true;
      body.unpipe(req);
      body.destroy();
      collect(res).then(r => resolve({ ...r, bytesWritten: written }), reject);
    });
    // Once the server has answered, a reset of the rest of the upload is expected.
    req.on('error', e => {
      if (!answered) reject(e);
    });
    body.on('data', (c: Buffer) => (written += c.length));
    body.pipe(req);
  });
}

/** An upload that sends its headers and a first part, then waits until told to finish. */
export interface HeldUpload {
  response: Promise<RawResponse>;
  finish: () => void;
  abort: () => void;
}

export function heldUpload(url: string, headers: Record<string, string>, body: Uint8Array): HeldUpload {
  const req = http.request(url, { method: 'POST', headers: { ...headers, 'transfer-encoding': 'chunked' } });
  const half = Math.floor(body.length / 2);
  const response = new Promise<RawResponse>((resolve, reject) => {
    req.on('response', res => collect(res).then(resolve, reject));
    req.on('error', reject);
  });
  req.flushHeaders();
  req.write(body.subarray(0, half));
  return {
    response,
    finish: () => req.end(body.subarray(half)),
    abort: () => req.destroy(),
  };
}

/**
 * Sends only the request head (e.g. a Content-Length over the limit) and waits for the answer
 * before any body byte, which shows the server judged by the declared length alone.
 */
export function headOnlyPost(url: string, headers: Record<string, string>): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers });
    req.on('response', res =>
      collect(res).then(r => {
        req.destroy();
        resolve(r);
      }, reject),
    );
    req.on('error', reject);
    req.flushHeaders();
  });
}

/**
 * One TCP connection spoken to in raw HTTP/1.1, for what no client library shows: whether the
 * server reads the rest of an upload after answering, keeps the connection for a next request,
 * or cuts it.
 */
export class RawConnection {
  private received = Buffer.alloc(0);
  private wake: (() => void) | undefined;
  private error: Error | undefined;
  /** Resolves when the server has closed or reset the connection. */
  readonly closed: Promise<void>;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (c: Buffer) => {
      this.received = Buffer.concat([this.received, c]);
      this.wake?.();
    });
    socket.on('error', e => (this.error = e));
    this.closed = new Promise(resolve => socket.once('close', () => resolve()));
    void this.closed.then(() => this.wake?.());
  }

  static open(url: string): Promise<RawConnection> {
    const { hostname, port } = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = net.connect(Number(port), hostname, () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  get isClosed(): boolean {
    return this.socket.destroyed;
  }

  /** Writes and waits until the kernel took the bytes; rejects if the connection was reset. */
  write(data: string | Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(data, e => (e ? reject(e) : resolve())));
  }

  /** The next complete response (bodies must carry Content-Length, as error answers do). */
  async response(): Promise<RawResponse> {
    for (;;) {
      const parsed = this.parseOne();
      if (parsed) return parsed;
      if (this.socket.destroyed) {
        throw new Error(`connection closed before a full response (${this.error?.message ?? 'no error'})`);
      }
      await new Promise<void>(resolve => (this.wake = resolve));
    }
  }

  destroy(): void {
    this.socket.destroy();
  }

  private parseOne(): RawResponse | undefined {
    const headEnd = this.received.indexOf('\r\n\r\n');
    if (headEnd < 0) return undefined;
    const [statusLine = '', ...lines] = this.received.subarray(0, headEnd).toString('latin1').split('\r\n');
    const headers: http.IncomingHttpHeaders = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = Number(headers['content-length'] ?? 0);
    if (this.received.length < headEnd + 4 + length) return undefined;
    const body = Buffer.from(this.received.subarray(headEnd + 4, headEnd + 4 + length));
    this.received = this.received.subarray(headEnd + 4 + length);
    return { status: Number(statusLine.split(' ')[1]), headers, body };
  }
}
