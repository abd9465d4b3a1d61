// Requests fetch cannot make: bodies streamed at the pace the test chooses, and answers read
// while the upload is still going (a server may refuse before the body is complete).
import http from 'node:http';
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
 * before any body byte. A server that judges by the declared length answers at once and closes
 * the connection; a client that sent the body first would only see EPIPE.
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
