/**
 * Robustness: whatever the name, whatever DNS and HTTP answer (garbage
 * records, odd errors, synchronous throws, non-arrays, hostile well-knowns),
 * discovery settles with a result that keeps its promises or with one of the
 * two typed errors, and never hangs.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../src/errors.js';
import { AddressPolicy } from '../../../src/federation/discovery/addresses.js';
import type { DnsResolver } from '../../../src/federation/discovery/dns.js';
import { DiscoveryError } from '../../../src/federation/discovery/errors.js';
import type { HttpResponse, HttpTransport } from '../../../src/federation/discovery/http.js';
import { type ResolvedServer, ServerResolver, SPEC_STEPS } from '../../../src/federation/discovery/resolve.js';
import { FakeClock } from './harness.js';

const names = fc.oneof(
  fc.constantFrom(
    'example.org',
    'example.org:8448',
    '1.2.3.4',
    '[2001:db8::1]:1',
    'a.b',
    'x.example',
    '010.1.1.1',
    '0x7f.1',
  ),
  fc.domain(),
  fc.string({ maxLength: 20 }),
);
const ips = fc.oneof(
  fc.ipV4(),
  fc.ipV6(),
  fc.constantFrom('127.0.0.1', '10.0.0.1', '::1', '::ffff:10.0.0.1', 'garbage', ''),
);
const dnsError = fc.constantFrom(
  'ENOTFOUND',
  'ENODATA',
  'ENOTIMP',
  'ESERVFAIL',
  'ETIMEOUT',
  'EREFUSED',
  'EWHATEVER',
  undefined,
);

/** What one DNS query does. */
const addressAnswer = fc.oneof(
  fc.array(
    fc.record({ address: ips, ttl: fc.oneof(fc.nat(), fc.constantFrom(-1, Number.NaN, Number.POSITIVE_INFINITY)) }),
    { maxLength: 3 },
  ),
  dnsError.map((code) => ({ reject: code })),
  fc.constantFrom({ weird: null }, { weird: 'string' }, { throwSync: true }),
);
const srvAnswer = fc.oneof(
  fc.array(
    fc.record({
      name: fc.oneof(fc.constantFrom('', '.', 'target.example', '1.2.3.4', 'x.'), fc.domain()),
      port: fc.oneof(fc.integer({ min: -1, max: 70_000 }), fc.constant(Number.NaN)),
      priority: fc.oneof(fc.integer({ min: -5, max: 70_000 }), fc.constant(Number.NaN)),
      weight: fc.oneof(fc.integer({ min: -5, max: 70_000 }), fc.constant(1e300)),
    }),
    { maxLength: 4 },
  ),
  dnsError.map((code) => ({ reject: code })),
  fc.constantFrom({ weird: null }, { throwSync: true }),
);
const server = fc.oneof(
  fc.constantFrom('target.example', 'target.example:443', '1.2.3.4', '[::1]:1', ''),
  fc.string({ maxLength: 12 }),
);
const httpAnswer = fc.oneof(
  fc.record({
    status: fc.constantFrom(200, 200, 200, 301, 302, 404, 500, 999),
    headers: fc.dictionary(
      fc.constantFrom('location', 'cache-control', 'expires'),
      fc.oneof(
        fc.string(),
        fc.constantFrom('max-age=60', 'https://x.example/y', '/z', 'http://x/', 'https://127.0.0.1/'),
      ),
    ),
    body: fc.oneof(
      server.map((s) => JSON.stringify({ 'm.server': s })),
      fc.string({ maxLength: 30 }),
      fc.jsonValue().map((v) => JSON.stringify(v)),
    ),
  }),
  fc.constantFrom({ fail: 'error' }, { fail: 'string' }, { fail: 'discovery' }),
);

type Script<T> = (T | { reject: string | undefined } | { weird: unknown } | { throwSync: true } | { fail: string })[];

function scripted<T>(script: Script<T>, i: number) {
  return script.length === 0 ? { reject: 'ENOTFOUND' } : script[i % script.length];
}

function fuzzDns(addr: Script<unknown>, srv: Script<unknown>): DnsResolver {
  let a = 0;
  let s = 0;
  const answer = (x: unknown): Promise<never> => {
    if (typeof x === 'object' && x !== null && 'throwSync' in x) throw new Error('sync');
    if (typeof x === 'object' && x !== null && 'reject' in x) {
      return Promise.reject(
        x.reject === undefined ? 'not an error' : Object.assign(new Error('dns'), { code: x.reject }),
      );
    }
    if (typeof x === 'object' && x !== null && 'weird' in x) return Promise.resolve(x.weird as never);
    return Promise.resolve(x as never);
  };
  return {
    resolveSrv: () => answer(scripted(srv, s++)),
    resolve4: () => answer(scripted(addr, a++)),
    resolve6: () => answer(scripted(addr, a++)),
  };
}

function fuzzHttp(script: Script<{ status: number; headers: Record<string, string>; body: string }>): HttpTransport {
  let i = 0;
  return {
    async get(): Promise<HttpResponse> {
      const x = scripted(script, i++);
      if (typeof x === 'object' && x !== null && 'fail' in x) {
        if (x.fail === 'string') throw 'a string';
        if (x.fail === 'discovery') throw new DiscoveryError('network', 'down', true);
        throw new Error('boom');
      }
      const r = x as { status: number; headers: Record<string, string>; body: string };
      return { status: r.status, headers: r.headers, body: new TextEncoder().encode(r.body) };
    },
  };
}

const policy = new AddressPolicy({ allow: ['1.2.3.4'] });

function checkResult(r: ResolvedServer, name: string): void {
  expect(r.serverName).toBe(name);
  expect(r.via in SPEC_STEPS).toBe(true);
  expect(r.targets.length).toBeGreaterThan(0);
  expect(r.address).toBe(r.targets[0]?.addresses[0]);
  expect(r.port).toBe(r.targets[0]?.port);
  for (const t of r.targets) {
    expect(Number.isInteger(t.port) && t.port >= 0 && t.port <= 65535).toBe(true);
    expect(t.addresses.length).toBeGreaterThan(0);
    for (const a of t.addresses) expect(policy.isAllowed(a)).toBe(true);
  }
  const delegated = r.via.startsWith('well-known-');
  expect(r.delegatedServerName !== undefined).toBe(delegated);
  if (!delegated) expect(r.hostHeader).toBe(name);
  if (r.via === 'ip-literal' || r.via === 'well-known-ip-literal') expect(r.tlsServerName).toBeUndefined();
  else expect(typeof r.tlsServerName).toBe('string');
}

describe('discovery under arbitrary DNS and HTTP answers', () => {
  it('settles with a sound result or a typed error, from the network and from the caches', async () => {
    await fc.assert(
      fc.asyncProperty(
        names,
        fc.array(addressAnswer, { maxLength: 4 }),
        fc.array(srvAnswer, { maxLength: 3 }),
        fc.array(httpAnswer, { maxLength: 4 }),
        async (name, addr, srv, http) => {
          const clock = new FakeClock();
          const resolver = new ServerResolver({
            dns: fuzzDns(addr as Script<unknown>, srv as Script<unknown>),
            http: fuzzHttp(http as Script<{ status: number; headers: Record<string, string>; body: string }>),
            policy,
            now: clock.now,
          });
          for (let round = 0; round < 2; round++) {
            try {
              checkResult(await resolver.resolve(name), name);
            } catch (e) {
              if (!(e instanceof DiscoveryError || e instanceof InvalidInputError)) throw e;
            }
            try {
              const cached = resolver.resolveCached(name);
              if (cached !== undefined) checkResult(cached, name);
            } catch (e) {
              if (!(e instanceof InvalidInputError)) throw e;
            }
            clock.advance(3600);
          }
        },
      ),
      { numRuns: 1500 },
    );
  });
});
