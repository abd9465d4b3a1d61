import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CORRELATOR_SERVICE_NAME, EXPECTED_API_VERSION } from './constants';

// The plugin copies these values instead of importing them (that would bundle TypeBox); this
// reads the schema source so the copies cannot drift from the correlator's.
const systemSource = readFileSync(join(__dirname, '..', '..', 'api-schema', 'src', 'system.ts'), 'utf8');

describe('constants mirrored from @correlation-station/api-schema', () => {
  it('API version', () => {
    expect(systemSource.match(/export const API_VERSION = (\d+)/)?.[1]).toBe(String(EXPECTED_API_VERSION));
  });

  it('service name', () => {
    expect(systemSource.match(/export const CORRELATOR_SERVICE_NAME = '([^']+)'/)?.[1]).toBe(CORRELATOR_SERVICE_NAME);
  });
});
