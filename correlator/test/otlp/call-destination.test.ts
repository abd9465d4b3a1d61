// Where a call went, as ingest reads it from SDK-made spans, protobuf and JSON alike, and as the
// store reads it back from a stored span's bytes: the bridge planner hangs a bridge from the call
// that names the child's service.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Attributes } from '@opentelemetry/api';
import { loadConfig } from '../../src/config/config.js';
import { keyRulesFromConfig } from '../../src/ingest/key-rules.js';
import type { BusinessKeyName } from '@correlation-station/api-schema';
import { AliasMatcher } from '../../src/otlp/alias-matcher.js';
import { DESTINATION_ATTRIBUTES, destinationAttribute, storedCallDestination, urlHost, type CallDestination } from '../../src/otlp/call-destination.js';
import { normaliseTraceJson } from '../../src/otlp/json-normaliser.js';
import { decodeTraceRequest } from '../../src/otlp/trace-decoder.js';
import { SpanKind, buildTraces, tracesJson, tracesProtobuf } from '../fixtures/otel-sdk.js';

const rules = keyRulesFromConfig(loadConfig({}));
const T0 = Date.now() - 60_000;

/** The destination of one span with these attributes and kind, decoded from protobuf, from JSON, and read back from its bytes. */
async function destinations(attributes: Attributes, kind = SpanKind.CLIENT): Promise<(CallDestination | null)[]> {
  const [t] = await buildTraces([{ service: 'beorn', spans: [{ name: 'call', kind, startMs: T0, endMs: T0 + 5, attributes }] }]);
  const fromProto = decodeTraceRequest(tracesProtobuf(t!.spans), rules);
  const fromJson = decodeTraceRequest(normaliseTraceJson(tracesJson(t!.spans)).binary, rules);
  const spans = [fromProto.spans[0]!, fromJson.spans[0]!];
  return [...spans.map(s => s.destination ?? null), storedCallDestination(spans[0]!.bytes)];
}

describe('call destinations', () => {
  const cases: { title: string; attributes: Attributes; kind?: SpanKind; expect: CallDestination | null }[] = [
    { title: 'peer.service is the service it names', attributes: { 'peer.service': 'mdso' }, expect: { name: 'mdso', isHost: false } },
    { title: 'server.address is a host', attributes: { 'server.address': 'mdso.example.net', 'server.port': 8443 }, expect: { name: 'mdso.example.net', isHost: true } },
    { title: 'the older net.peer.name is a host', attributes: { 'net.peer.name': 'mdso-bpo' }, expect: { name: 'mdso-bpo', isHost: true } },
    { title: "url.full's host, without user or port", attributes: { 'url.full': 'https://u:p@MDSO.example.net:8443/bpo/api/v1?x=1' }, expect: { name: 'mdso.example.net', isHost: true } },
    { title: "the older http.url's host", attributes: { 'http.method': 'POST', 'http.url': 'http://palantir:5002/api' }, expect: { name: 'palantir', isHost: true } },
    {
      title: 'peer.service before any host, whatever the order of the attributes',
      attributes: { 'server.address': 'gateway.example.net', 'url.full': 'https://gateway.example.net/x', 'peer.service': 'MDSO' },
      expect: { name: 'mdso', isHost: false },
    },
    { title: 'server.address before a URL', attributes: { 'url.full': 'https://gateway/x', 'server.address': 'mdso' }, expect: { name: 'mdso', isHost: true } },
    { title: 'a producer says where it sends too', attributes: { 'peer.service': 'arda' }, kind: SpanKind.PRODUCER, expect: { name: 'arda', isHost: false } },
    { title: "a server span's address is its own, no destination", attributes: { 'server.address': 'mdso' }, kind: SpanKind.SERVER, expect: null },
    { title: 'nor has an internal step one', attributes: { 'peer.service': 'mdso' }, kind: SpanKind.INTERNAL, expect: null },
    { title: 'a value that is no string names nothing', attributes: { 'peer.service': 42 }, expect: null },
    { title: 'nor does an empty one', attributes: { 'peer.service': '  ' }, expect: null },
    { title: 'nor a URL without a host', attributes: { 'url.full': '/relative/path' }, expect: null },
    { title: 'nor a name longer than any host', attributes: { 'server.address': `${'m'.repeat(300)}.net` }, expect: null },
    { title: 'a call with none of them has none', attributes: { 'http.method': 'GET', circuit_id: 'C-1' }, expect: null },
  ];
  for (const c of cases) {
    it(c.title, async () => {
      const [proto, json, stored] = await destinations(c.attributes, c.kind);
      assert.deepEqual(proto, c.expect, 'protobuf');
      assert.deepEqual(json, c.expect, 'JSON');
      assert.deepEqual(stored, c.expect, 'read back from the stored bytes');
    });
  }

  it('takes the host of URLs of every form', () => {
    assert.equal(urlHost('https://mdso.example.net'), 'mdso.example.net');
    assert.equal(urlHost('http://mdso:8080?x=1'), 'mdso');
    assert.equal(urlHost('http://mdso#frag'), 'mdso');
    assert.equal(urlHost('http://user@mdso/path@x'), 'mdso');
    assert.equal(urlHost('http://[::1]:8080/'), '[::1]');
    assert.equal(urlHost('mdso/path'), '');
  });

  it('are found by the alias look-up, with aliases of any form, and an alias of the same name wins', () => {
    const plain = new AliasMatcher(new Map());
    // An alias holding U+FFFD sends every key through the string look-up.
    const decodingEveryKey = new AliasMatcher(new Map<string, BusinessKeyName>([['c\uFFFDi', 'circuit_id']]));
    const named = new AliasMatcher(new Map<string, BusinessKeyName>([['peer.service', 'circuit_id']]));
    DESTINATION_ATTRIBUTES.forEach((name, i) => {
      const key = Buffer.from(`xx${name}yy`);
      for (const m of [plain, decodingEveryKey]) assert.equal(m.match(key, 2, key.length - 2), i, name);
      assert.equal(destinationAttribute(key, 2, key.length - 2), i, name);
      assert.equal(named.match(key, 2, key.length - 2), i === 0 ? 'circuit_id' : i, name);
    });
    for (const near of ['peer.servicE', 'server.addresses', 'url.ful', 'http.urls', 'net.peer.nam3', 'peer_service']) {
      const key = Buffer.from(near);
      assert.equal(plain.match(key, 0, key.length), undefined, near);
      assert.equal(decodingEveryKey.match(key, 0, key.length), undefined, near);
      assert.equal(destinationAttribute(key, 0, key.length), -1, near);
    }
  });
});

describe('a stored call it cannot read', () => {
  it('has no destination, and reading it throws nothing', () => {
    // Span { kind: CLIENT, attributes: KeyValue { key: "peer.service", value: AnyValue truncated } }
    const key = Buffer.from('peer.service');
    const keyValue = Buffer.concat([Buffer.from([0x0a, key.length]), key, Buffer.from([0x12, 0x03, 0x0a, 0x09, 0x6d])]);
    const span = Buffer.concat([Buffer.from([0x30, 0x03, 0x4a, keyValue.length]), keyValue]);
    assert.equal(storedCallDestination(span), null);
    assert.equal(storedCallDestination(Buffer.from([0x30, 0x03, 0x4a, 0x7f])), null);
  });
});
