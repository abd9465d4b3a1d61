import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withoutCredentials } from '../../../src/mdso/client/safe-url.js';

describe('withoutCredentials (URLs shown in logs and status)', () => {
  // [configured URL, shown]
  const cases: Array<[string | null, string | null]> = [
    [null, null],
    ['https://mdso.example', 'https://mdso.example'],
    ['https://mdso.example/', 'https://mdso.example/'],
    ['http://tempo:4318/otlp', 'http://tempo:4318/otlp'],
    ['https://admin:s3cret@mdso.example', 'https://<hidden>@mdso.example'],
    ['https://admin@mdso.example/', 'https://<hidden>@mdso.example/'],
    ['http://127.0.0.1:14318/otlp?api_key=SECRETQ', 'http://127.0.0.1:14318/otlp?api_key=<hidden>'],
    ['https://mdso.example?token=SECRETQ', 'https://mdso.example?token=<hidden>'],
    ['https://u:p@mdso.example/bpocore?token=SECRETQ&tenant=ops&SECRETQ#SECRETQ', 'https://<hidden>@mdso.example/bpocore?token=<hidden>&tenant=<hidden>&<hidden>#<hidden>'],
    ['http://[::1]:9/?SECRETQ', 'http://[::1]:9/?<hidden>'],
    ['not a url', '<unparseable URL>'],
  ];
  for (const [url, shown] of cases) {
    it(`${String(url)} → ${String(shown)}`, () => {
      assert.equal(withoutCredentials(url), shown);
    });
  }
});
