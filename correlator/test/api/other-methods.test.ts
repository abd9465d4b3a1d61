// Any method other than those a path serves is a 405 with Allow, on the OTLP receivers, /api/logs
// and the query API alike, over real HTTP: OPTIONS, TRACE and PROPFIND were answered 404 "no route"
// (fastify routes no method it was not told of, and the 405 routes listed only GET, PUT, DELETE
// and PATCH). fetch refuses to send TRACE, so node:http sends them.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { describe, it } from 'node:test';
import { listen } from '../helpers/app.js';

function send(url: string, method: string, body?: string): Promise<{ status: number; allow: string | undefined; type: string; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' } }, res => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, allow: res.headers.allow, type: String(res.headers['content-type']), text: Buffer.concat(chunks).toString() }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

const OTLP_PATHS = ['/v1/traces', '/v1/logs', '/api/otlp/v1/traces', '/api/otlp/v1/logs'];
const METHODS = ['OPTIONS', 'TRACE', 'PROPFIND', 'SEARCH', 'MKCOL', 'PUT'];

describe('any other method is a 405 with Allow', () => {
  it('on the OTLP receivers, as a google.rpc.Status with Allow: POST (HEAD and GET too)', async t => {
    const { url } = await listen(t);
    for (const path of OTLP_PATHS) {
      for (const method of [...METHODS, 'GET', 'HEAD']) {
        const res = await send(url + path, method);
        assert.equal(res.status, 405, `${method} ${path}: ${res.text}`);
        assert.equal(res.allow, 'POST', `${method} ${path}`);
        if (method === 'HEAD') continue;
        const status = JSON.parse(res.text) as { code: number; message: string };
        assert.deepEqual([typeof status.code, status.message], ['number', `${method} is not allowed on ${path}; use POST`], `${method} ${path}`);
      }
    }
  });

  it('on /api/logs, with Allow: GET, HEAD, POST; GET, HEAD and POST are served', async t => {
    const { url } = await listen(t);
    for (const method of METHODS) {
      const res = await send(`${url}/api/logs`, method, method === 'PROPFIND' ? '{}' : undefined);
      assert.equal(res.status, 405, `${method}: ${res.text}`);
      assert.equal(res.allow, 'GET, HEAD, POST', method);
      const body = JSON.parse(res.text) as { code: string; message: string };
      assert.deepEqual([body.code, body.message], ['CORR_ERR_METHOD_NOT_ALLOWED', `${method} is not allowed on /api/logs; use GET or POST`]);
    }
    assert.equal((await send(`${url}/api/logs`, 'GET')).status, 200);
    assert.equal((await send(`${url}/api/logs`, 'HEAD')).status, 200);
    const post = await send(`${url}/api/logs`, 'POST', JSON.stringify({ resource: { service: 's' }, records: [] }));
    assert.equal(post.status, 200, post.text);
  });

  // The query API's paths were a 404 "no route" for POST /api/circuits, which says the path is
  // wrong when the method is (found by a black-box review).
  const QUERY_PATHS: [path: string, allow: string][] = [
    ['/api/circuits', 'GET, HEAD'],
    ['/api/circuits/C-1', 'GET, HEAD'],
    ['/api/circuits/C-1/trace', 'GET, HEAD'],
    [`/api/traces/${'a'.repeat(32)}`, 'GET, HEAD'],
    ['/api/correlations', 'GET, HEAD'],
    ['/api/service-graph', 'GET, HEAD'],
    ['/api/info', 'GET, HEAD'],
    // The service's own paths too (RV18: a 404 "no route" for PUT /health).
    ['/health', 'GET, HEAD'],
    ['/ready', 'GET, HEAD'],
    ['/metrics', 'GET, HEAD'],
    ['/docs', 'GET, HEAD'],
    ['/docs/json', 'GET, HEAD'],
    // The documentation's page with its slash, and its static files (RV19: still 404s).
    ['/docs/', 'GET, HEAD'],
    ['/docs/static/index.html', 'GET, HEAD'],
    ['/docs/static/swagger-ui.css', 'GET, HEAD'],
  ];
  it('on the query API, with the methods each path serves in Allow', async t => {
    const { url } = await listen(t);
    for (const [path, allow] of QUERY_PATHS) {
      for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'PROPFIND', 'OPTIONS']) {
        const res = await send(url + path, method);
        assert.equal(res.status, 405, `${method} ${path}: ${res.text}`);
        assert.equal(res.allow, allow, `${method} ${path}`);
        const body = JSON.parse(res.text) as { code: string; message: string };
        assert.deepEqual([body.code, body.message], ['CORR_ERR_METHOD_NOT_ALLOWED', `${method} is not allowed on ${path}; use GET`]);
      }
    }
    // A path with more than GET names them all; served methods are still served.
    const res = await send(`${url}/api/mdso/issues/ISS-1`, 'DELETE');
    assert.deepEqual([res.status, res.allow], [405, 'GET, HEAD, PATCH']);
    assert.equal((await send(`${url}/api/circuits`, 'GET')).status, 200);
  });

  it('a path nobody serves is still a 404, whatever the method', async t => {
    const { url } = await listen(t);
    for (const method of ['GET', 'POST', 'PROPFIND']) {
      const res = await send(`${url}/api/circuitz`, method);
      assert.equal(res.status, 404, res.text);
      assert.match(res.text, new RegExp(`no route ${method} /api/circuitz`));
    }
  });
});
