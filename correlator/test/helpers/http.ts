// Small HTTP helpers for tests that talk to a listening correlator.
import assert from 'node:assert/strict';

export async function getJson<T = unknown>(base: string, path: string, headers: Record<string, string> = {}): Promise<T> {
  const res = await fetch(base + path, { headers });
  const text = await res.text();
  assert.equal(res.status, 200, `GET ${path} → ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}

/** Sum of every sample of a counter in the Prometheus text exposition (0 when absent). */
export async function counterTotal(base: string, name: string, labelFilter?: RegExp): Promise<number> {
  const res = await fetch(`${base}/metrics`);
  assert.equal(res.status, 200);
  let total = 0;
  for (const line of (await res.text()).split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    if (labelFilter && !labelFilter.test(m[2] ?? '')) continue;
    total += Number(m[3]);
  }
  return total;
}
