// Two answers every client can meet that the OpenAPI document left out (found by review): 431,
// which the HTTP server gives any request whose headers are too large, before routing, and HEAD,
// which fastify serves for every GET route. The 431 declared is checked against the bytes a raw
// socket receives, and each HEAD operation against the status a real HEAD request gets.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { listen } from '../helpers/app.js';

type Json = Record<string, unknown>;
interface Response {
  description?: string;
  headers?: Json;
  content?: Record<string, { schema: { required?: string[]; properties?: Record<string, { enum?: unknown[] }> } }>;
}
interface Operation {
  operationId?: string;
  parameters?: Json[];
  responses: Record<string, Response>;
}
type Doc = { paths: Record<string, Record<string, Operation>> };

const operations = (doc: Doc) =>
  Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ path, method, op })));

/** A concrete URL of the path: each parameter a value no stored thing has. */
const concrete = (path: string) => path.replace(/\{[^}]+\}/g, 'none');

async function documentOf(url: string): Promise<Doc> {
  const res = await fetch(`${url}/docs/json`);
  assert.equal(res.status, 200);
  return (await res.json()) as Doc;
}

/** Sends the request line and a header over the server's limit; everything read until the server closes. */
function oversizedHeaders(port: number, method: string, path: string): Promise<{ head: string[]; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(`${method} ${path} HTTP/1.1\r\nHost: x\r\nX-Filler: ${'a'.repeat(20_000)}\r\n\r\n`));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    // The server closes on its answer, possibly before it read all that was sent: a reset may follow.
    const done = () => {
      const raw = Buffer.concat(chunks).toString('latin1');
      const end = raw.indexOf('\r\n\r\n');
      if (end < 0) reject(new Error(`no answer to ${method} ${path}: ${JSON.stringify(raw)}`));
      else resolve({ head: raw.slice(0, end).split('\r\n'), body: raw.slice(end + 4) });
    };
    socket.on('close', done);
    socket.on('error', () => {});
  });
}

function send(url: string, method: string): Promise<{ status: number; contentType: string | undefined; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method }, res => {
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'], bytes }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the OpenAPI document declares', () => {
  it('431 on every operation, as a raw request with oversized headers gets it on each', async t => {
    const { app, url } = await listen(t);
    const port = (app.server.address() as { port: number }).port;
    const doc = await documentOf(url);
    const ops = operations(doc);
    assert.ok(ops.some(o => o.method === 'head') && ops.some(o => o.path === '/v1/traces'), 'HEAD and OTLP operations are among them');
    for (const { path, method, op } of ops) {
      const at = `${method.toUpperCase()} ${path}`;
      const declared = op.responses['431'];
      assert.ok(declared?.description, `${at} declares 431 with a description`);
      const [type, ...otherTypes] = Object.keys(declared.content ?? {});
      assert.deepEqual(otherTypes, [], `${at}: one body type`);
      const schema = declared.content![type!]!.schema;

      const got = await oversizedHeaders(port, method.toUpperCase(), concrete(path));
      assert.equal(got.head[0], 'HTTP/1.1 431 Request Header Fields Too Large', at);
      const headers = new Map(got.head.slice(1).map(h => [h.slice(0, h.indexOf(':')).toLowerCase(), h.slice(h.indexOf(':') + 1).trim()]));
      assert.deepEqual([...headers.keys()].sort(), ['content-length', 'content-type'], `${at}: no other header, as declared`);
      assert.equal(headers.get('content-type'), type, `${at}: the body's type`);
      assert.equal(Number(headers.get('content-length')), Buffer.byteLength(got.body), `${at}: the whole body, then the close`);
      const body = JSON.parse(got.body) as Json;
      assert.deepEqual(Object.keys(body).sort(), [...(schema.required ?? [])].sort(), `${at}: the declared fields, only those`);
      for (const [field, value] of Object.entries(body)) {
        assert.deepEqual(schema.properties?.[field]?.enum, [value], `${at}: ${field} is the one value declared`);
      }
    }
  });

  it('HEAD for each GET path, its responses those of the GET without a body, and the status a HEAD request gets', async t => {
    const { url } = await listen(t);
    const doc = await documentOf(url);
    const gets = Object.entries(doc.paths).filter(([, item]) => item.get);
    assert.ok(gets.length >= 20, `${gets.length} GET paths`);
    for (const [path, item] of gets) {
      const get = item.get!;
      const head = item.head;
      assert.ok(head, `HEAD ${path} is listed`);
      assert.equal(head.operationId, `${get.operationId}Head`, `HEAD ${path}: its operationId follows the GET's`);
      assert.deepEqual(head.parameters, get.parameters, `HEAD ${path}: the GET's parameters`);
      assert.deepEqual(Object.keys(head.responses).sort(), Object.keys(get.responses).sort(), `HEAD ${path}: the GET's statuses`);
      for (const [status, response] of Object.entries(head.responses)) {
        assert.deepEqual(response.headers, get.responses[status]!.headers, `HEAD ${path} ${status}: the GET's headers`);
        if (status === '431') continue;
        assert.equal(response.content, undefined, `HEAD ${path} ${status}: no body`);
        assert.ok(response.description, `HEAD ${path} ${status}: described`);
      }

      const asHead = await send(url + concrete(path), 'HEAD');
      const asGet = await send(url + concrete(path), 'GET');
      assert.ok(head.responses[String(asHead.status)], `HEAD ${path} answered ${asHead.status}, which it declares`);
      assert.deepEqual([asHead.status, asHead.contentType, asHead.bytes], [asGet.status, asGet.contentType, 0], `HEAD ${path}: GET's answer, no body`);
    }
  });
});
