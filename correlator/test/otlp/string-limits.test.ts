// Every string a span carries has a limit, not only span attribute values: a 20 MiB attribute key,
// span name or service.name was accepted and then copied into every list and graph that names it
// (/api/services answered 20 MiB). Names and keys have MAX_NAME_BYTES, values
// MAX_ATTRIBUTE_VALUE_BYTES, wherever they are (span, event, resource); a resource over a limit
// rejects the items under it, and the message names the place, the field and the size.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Attributes } from '@opentelemetry/api';
import { loadConfig } from '../../src/config/config.js';
import { keyRulesFromConfig } from '../../src/ingest/key-rules.js';
import { normaliseLogsJson, normaliseTraceJson } from '../../src/otlp/json-normaliser.js';
import { decodeLogsRequest } from '../../src/otlp/logs-decoder.js';
import { decodeTraceRequest } from '../../src/otlp/trace-decoder.js';
import { buildLogs, buildTraces, logsJson, logsProtobuf, tracesJson, tracesProtobuf, type SpanSpec } from '../fixtures/otel-sdk.js';

const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);
const VALUE = 100;
const NAME = 64;
const rules = keyRulesFromConfig(loadConfig({ MAX_ATTRIBUTE_VALUE_BYTES: String(VALUE), MAX_NAME_BYTES: String(NAME) }));
const x = (n: number) => 'x'.repeat(n);
const SPAN0 = 'resourceSpans[0].scopeSpans[0].spans[0]';

interface Case {
  title: string;
  resource?: Attributes;
  service?: string;
  span: Partial<SpanSpec>;
  /** Spans of the one resource: a second span shows whether a rejection is the resource's. */
  spans?: number;
  rejected: number;
  message?: string;
}

const cases: Case[] = [
  { title: 'a span name at the name limit', span: { name: x(NAME) }, rejected: 0 },
  { title: 'a span name over the name limit', span: { name: x(NAME + 1) }, rejected: 1, message: `${SPAN0}: span name is ${NAME + 1} bytes, over the name limit of ${NAME} (MAX_NAME_BYTES)` },
  { title: 'a span name over it in two-byte characters', span: { name: 'é'.repeat(NAME / 2 + 1) }, rejected: 1, message: `${SPAN0}: span name is ${NAME + 2} bytes, over the name limit of ${NAME} (MAX_NAME_BYTES)` },
  { title: 'an attribute key at the name limit', span: { attributes: { [x(NAME)]: 'v' } }, rejected: 0 },
  { title: 'an attribute key over the name limit', span: { attributes: { [x(NAME + 1)]: 'v' } }, rejected: 1, message: `${SPAN0}: attribute key "${x(NAME + 1)}…" is ${NAME + 1} bytes, over the name limit of ${NAME} (MAX_NAME_BYTES)` },
  { title: 'an event name over the name limit', span: { events: [{ name: x(NAME + 1), atMs: T0 }] }, rejected: 1, message: `${SPAN0}: events[0] name is ${NAME + 1} bytes, over the name limit of ${NAME} (MAX_NAME_BYTES)` },
  {
    title: 'an event attribute value over the value limit',
    span: { events: [{ name: 'ok', atMs: T0 }, { name: 'e', atMs: T0, attributes: { ev: x(VALUE + 1) } }] },
    rejected: 1,
    message: `${SPAN0}: events[1] attribute "ev" value is ${VALUE + 1} bytes, over the limit of ${VALUE} (MAX_ATTRIBUTE_VALUE_BYTES)`,
  },
  { title: 'an event attribute key over the name limit', span: { events: [{ name: 'e', atMs: T0, attributes: { [x(NAME + 1)]: 1 } }] }, rejected: 1, message: `${SPAN0}: events[0] attribute key "${x(NAME + 1)}…" is ${NAME + 1} bytes, over the name limit of ${NAME} (MAX_NAME_BYTES)` },
  { title: 'a resource attribute value at the value limit', resource: { huge: x(VALUE) }, span: {}, spans: 2, rejected: 0 },
  {
    title: 'a resource attribute value over the value limit rejects its spans',
    resource: { huge: x(VALUE + 1) },
    span: {},
    spans: 2,
    rejected: 2,
    message: `resourceSpans[0].resource: resource attribute "huge" value is ${VALUE + 1} bytes, over the limit of ${VALUE} (MAX_ATTRIBUTE_VALUE_BYTES) (rejects its 2 spans)`,
  },
  {
    title: 'a resource attribute key over the name limit',
    resource: { [x(NAME + 1)]: 'v' },
    span: {},
    rejected: 1,
    message: `resourceSpans[0].resource: resource attribute key "${x(NAME + 1)}…" is ${NAME + 1} bytes, over the name limit of ${NAME} (MAX_NAME_BYTES) (rejects its 1 spans)`,
  },
  { title: 'a service.name at the name limit', service: x(NAME), span: {}, rejected: 0 },
  {
    title: 'a service.name over the name limit, though within the value limit',
    service: x(NAME + 1),
    span: {},
    rejected: 1,
    message: `resourceSpans[0].resource: resource attribute "service.name" value is ${NAME + 1} bytes, over the name limit of ${NAME} (MAX_NAME_BYTES) (rejects its 1 spans)`,
  },
];

describe('string limits of spans, their events and resources', () => {
  for (const c of cases) {
    it(`${c.title}: ${c.rejected ? `${c.rejected} rejected, named` : 'accepted'}`, async () => {
      const spans = Array.from({ length: c.spans ?? 1 }, (_, i): SpanSpec => ({ name: `s${i}`, startMs: T0, endMs: T0 + 1, ...(i === 0 ? c.span : {}) }));
      const [t] = await buildTraces([{ service: c.service ?? 'beorn', resource: c.resource, spans }]);
      const json = normaliseTraceJson(tracesJson(t!.spans));
      for (const [form, batch] of [
        ['protobuf', decodeTraceRequest(tracesProtobuf(t!.spans), rules)],
        ['JSON', decodeTraceRequest(json.binary, rules, Date.now(), json.places)],
      ] as const) {
        assert.ok(batch.rejected === c.rejected, `${form}: ${c.rejected} rejected, got ${batch.rejected} ${JSON.stringify(batch.rejectionMessages)}`);
        assert.ok(batch.spans.length === spans.length - c.rejected, `${form}: the others are kept`);
        if (c.message) assert.ok(batch.rejectionMessages[0] === c.message, `${form}: message ${JSON.stringify(batch.rejectionMessages[0])}, expected ${JSON.stringify(c.message)}`);
      }
    });
  }
});

describe('string limits of log records', () => {
  const LOG0 = 'resourceLogs[0].scopeLogs[0].logRecords[0]';
  const logCases: [title: string, service: string, attributes: Attributes, message: string | null, eventName?: string][] = [
    ['a log attribute key at the name limit', 'arda', { [x(NAME)]: 1 }, null],
    ['an event_name at the name limit', 'arda', {}, null, x(NAME)],
    ['an event_name over the name limit', 'arda', {}, `${LOG0}: log event_name is ${NAME + 1} bytes, over the name limit of ${NAME} (MAX_NAME_BYTES)`, x(NAME + 1)],
    ['an event_name over it in two-byte characters', 'arda', {}, `${LOG0}: log event_name is ${NAME + 2} bytes, over the name limit of ${NAME} (MAX_NAME_BYTES)`, 'é'.repeat(NAME / 2 + 1)],
    ['a log attribute key over the name limit', 'arda', { [x(NAME + 1)]: 1 }, `${LOG0}: log attribute key "${x(NAME + 1)}…" is ${NAME + 1} bytes, over the name limit of ${NAME} (MAX_NAME_BYTES)`],
    ['a service.name over the name limit', x(NAME + 1), {}, `resourceLogs[0].resource: resource attribute "service.name" value is ${NAME + 1} bytes, over the name limit of ${NAME} (MAX_NAME_BYTES) (rejects its 1 logRecords)`],
  ];
  for (const [title, service, attributes, message, eventName] of logCases) {
    it(title, async () => {
      const records = await buildLogs(service, [{ body: 'b', atMs: T0, attributes, ...(eventName === undefined ? {} : { eventName }) }]);
      const json = normaliseLogsJson(logsJson(records));
      for (const [form, batch] of [
        ['protobuf', decodeLogsRequest(logsProtobuf(records), rules, T0)],
        ['JSON', decodeLogsRequest(json.binary, rules, T0, json.places)],
      ] as const) {
        assert.ok(batch.rejected === (message ? 1 : 0), `${form}: ${JSON.stringify(batch.rejectionMessages)}`);
        if (message) assert.ok(batch.rejectionMessages[0] === message, `${form}: message ${JSON.stringify(batch.rejectionMessages[0])}, expected ${JSON.stringify(message)}`);
        else if (eventName !== undefined) assert.equal(batch.logs[0]?.eventName, eventName, `${form}: the event_name as sent`);
      }
    });
  }
});
