// Identifier shapes documented in mdso-api.md §4: circuit ids, TIDs, FQDNs, UUID resource ids.
import type { Rng } from './rng.js';

const UPPER_DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

function chars(rng: Rng, alphabet: string, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[rng.int(0, alphabet.length - 1)];
  return s;
}

export function uuid(rng: Rng): string {
  const h = rng.hex(32);
  // version 4 / variant 1 nibbles so the ids look like what MDSO hands out
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${'89ab'[rng.int(0, 3)]}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** `NN.L1XX.NNNNNN..CHTR` or `..TWCC` */
export function circuitId(rng: Rng): string {
  const nn = String(rng.int(10, 99));
  const mid = rng.pick(['L1XX', 'KGFD', 'IPXN', 'VLXP', 'CEXX']);
  const num = String(rng.int(0, 999999)).padStart(6, '0');
  return `${nn}.${mid}.${num}..${rng.chance(0.8) ? 'CHTR' : 'TWCC'}`;
}

/** 11 characters: `[A-Z0-9]{10}W` */
export function tid(rng: Rng): string {
  return `${chars(rng, UPPER, 6)}${chars(rng, UPPER_DIGITS, 4)}W`;
}

export function fqdn(rng: Rng, host = tid(rng)): string {
  return `${host}.${rng.pick(['DEV', 'CORE', 'EDGE'])}.CHTRSE.COM`;
}

export function ipv4(rng: Rng): string {
  return `10.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`;
}

export function port(rng: Rng): string {
  return rng.pick([`ge-0/0/${rng.int(0, 47)}`, `xe-0/1/${rng.int(0, 7)}`, `et-0/0/${rng.int(0, 3)}`, `GigabitEthernet0/${rng.int(0, 9)}`]);
}
