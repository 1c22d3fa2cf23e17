/**
 * Caching, with a fake clock and injected DNS and HTTP. The spec (step 3):
 * "Responses (successful or otherwise) to the /.well-known endpoint should
 * be cached by the requesting server. Servers should respect the cache
 * control headers present on the response, or use a sensible default when
 * headers are not present. The recommended sensible default is 24 hours.
 * Servers should additionally impose a maximum cache time for responses: 48
 * hours is recommended. Errors are recommended to be cached for up to an
 * hour, and servers are encouraged to exponentially back off for repeated
 * failures." Where it is silent, Synapse's numbers (WELL_KNOWN_CACHE).
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  cachePeriodFromHeaders,
  type HeaderMap,
  parseHttpDate,
  WELL_KNOWN_CACHE,
} from '../../../src/federation/discovery/cache.js';
import type { DnsResolver } from '../../../src/federation/discovery/dns.js';
import { DiscoveryError } from '../../../src/federation/discovery/errors.js';
import type { HttpResponse, HttpTransport } from '../../../src/federation/discovery/http.js';
import { ServerResolver, type ServerResolverOptions } from '../../../src/federation/discovery/resolve.js';
import type { SrvRecord } from '../../../src/federation/discovery/srv.js';
import { FakeClock, memoryDns } from './harness.js';

const HOUR = 3600;

describe('parseHttpDate (the formats of RFC 9110 section 5.6.7, read as Twisted does)', () => {
  // RFC 9110's example instant in its three formats: Sun, 06 Nov 1994 08:49:37 GMT = 784111777.
  it.each([
    'Sun, 06 Nov 1994 08:49:37 GMT',
    'Sunday, 06-Nov-94 08:49:37 GMT',
    'Sun Nov  6 08:49:37 1994',
    '06 Nov 1994 08:49:37 GMT',
    'sun, 06 nov 1994 08:49:37 gmt',
  ])('%s', (value) => {
    expect(parseHttpDate(value)).toBe(784_111_777);
  });

  it('reads RFC 850 two-digit years below 69 as 20xx', () => {
    expect(parseHttpDate('Sunday, 06-Nov-68 08:49:37 GMT')).toBe(Date.UTC(2068, 10, 6, 8, 49, 37) / 1000);
    expect(parseHttpDate('Sunday, 06-Nov-70 08:49:37 GMT')).toBe(Date.UTC(1970, 10, 6, 8, 49, 37) / 1000);
    expect(parseHttpDate('Sunday, 06-Nov-69 08:49:37 GMT')).toBeUndefined(); // 1969: before the epoch
  });

  it('handles leap years', () => {
    expect(parseHttpDate('Thu, 29 Feb 2024 00:00:00 GMT')).toBe(Date.UTC(2024, 1, 29) / 1000);
    expect(parseHttpDate('Wed, 01 Mar 2000 00:00:00 GMT')).toBe(Date.UTC(2000, 2, 1) / 1000);
    expect(parseHttpDate('Mon, 01 Mar 2100 00:00:00 GMT')).toBe(Date.UTC(2100, 2, 1) / 1000);
  });

  it('refuses what is not a date so read', () => {
    for (const v of [
      '',
      ' ',
      '0',
      '-1',
      'garbage',
      'Sun, 06 Nov 1969 08:49:37 GMT',
      'Sun, 06 Foo 1994 08:49:37 GMT',
      'Sun, 06 Nov 1994 08:49 GMT',
      'Sun, 06 Nov 1994 08:49:37 GMT é',
    ]) {
      expect(parseHttpDate(v), v).toBeUndefined();
    }
  });

  it('agrees with Date.parse on IMF-fixdate, and never throws', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }),
        (d) => {
          const s = d.toUTCString(); // IMF-fixdate
          expect(parseHttpDate(s)).toBe(Math.floor(d.getTime() / 1000));
        },
      ),
    );
    fc.assert(
      fc.property(fc.string(), (s) => {
        const r = parseHttpDate(s);
        expect(r === undefined || typeof r === 'number').toBe(true);
      }),
    );
  });
});

describe('cachePeriodFromHeaders', () => {
  const at = (h: HeaderMap) => cachePeriodFromHeaders(h, 1_000_000_000);
  it('reads no-store, then max-age, then Expires, else nothing', () => {
    expect(at({})).toBeUndefined();
    expect(at({ 'cache-control': 'max-age=600' })).toBe(600);
    expect(at({ 'cache-control': 'no-store, max-age=600' })).toBe(0);
    // 1,000,000,000 s is Sun, 09 Sep 2001 01:46:40 GMT.
    expect(at({ expires: 'Sun, 09 Sep 2001 01:46:40 GMT' })).toBe(0);
    expect(at({ expires: 'Sun, 09 Sep 2001 02:46:40 GMT' })).toBe(3600);
    expect(at({ expires: 'Sun, 09 Sep 2001 00:46:40 GMT' })).toBe(-3600);
    expect(at({ expires: 'nonsense' })).toBe(0);
    expect(at({ 'cache-control': 'max-age=abc', expires: 'Sun, 09 Sep 2001 02:46:40 GMT' })).toBe(3600);
    expect(at({ 'cache-control': ['max-age=1', 'max-age=2'] })).toBe(2);
    expect(at({ expires: ['nonsense', 'Sun, 09 Sep 2001 02:46:40 GMT'] })).toBe(3600);
    expect(at({ expires: ['Sun, 09 Sep 2001 02:46:40 GMT', 'nonsense'] })).toBe(0);
  });
  it('never throws', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom('cache-control', 'expires', 'x'), fc.oneof(fc.string(), fc.array(fc.string()))),
        (h) => {
          const r = at(h);
          expect(r === undefined || typeof r === 'number').toBe(true);
        },
      ),
    );
  });
});

/** A transport whose answer the test sets per host; counts requests per host. */
class ScriptedTransport implements HttpTransport {
  readonly counts = new Map<string, number>();
  answer: (host: string) => Partial<HttpResponse> | Error = () => new Error('unset');
  async get(req: { url: string }): Promise<HttpResponse> {
    const host = new URL(req.url).hostname;
    this.counts.set(host, (this.counts.get(host) ?? 0) + 1);
    const a = this.answer(host);
    if (a instanceof Error) throw a;
    return { status: a.status ?? 200, headers: a.headers ?? {}, body: a.body ?? new Uint8Array() };
  }
  count(host: string): number {
    return this.counts.get(host) ?? 0;
  }
}

const delegate = (server: string, headers: HeaderMap = {}): Partial<HttpResponse> => ({
  headers,
  body: new TextEncoder().encode(JSON.stringify({ 'm.server': server })),
});

const ZONE = {
  a: { 'example.test': ['192.0.2.1'], 'target.test': ['198.51.100.7'], 'other.test': ['203.0.113.9'] },
};

/**
 * A resolver over the fake transport, DNS answering from ZONE with TTLs so long that
 * only the well-known cache decides, and the random source fixed at 0.5 (jitter factor 1).
 */
function setup(extra: Partial<ServerResolverOptions> = {}) {
  const clock = new FakeClock();
  const http = new ScriptedTransport();
  const base = memoryDns(ZONE);
  const dns: DnsResolver = {
    resolveSrv: (n) => base.resolveSrv(n),
    resolve4: async (n, o) => (await base.resolve4(n, o)).map((r) => ({ ...r, ttl: 86_400 })),
    resolve6: (n, o) => base.resolve6(n, o),
  };
  // The test ranges are documentation ranges: allow them.
  const resolver = new ServerResolver({
    dns,
    http,
    now: clock.now,
    random: () => 0.5,
    allow: ['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24'],
    ...extra,
  });
  /** Seconds until the next well-known fetch: advances the clock second by second until one happens. */
  const secondsUntilRefetch = async (host: string, limit = 200_000): Promise<number> => {
    const before = http.count(host);
    for (let s = 1; s <= limit; s++) {
      clock.advance(1);
      if (resolver.resolveCached(host) === undefined) {
        await resolver.resolve(host);
        if (http.count(host) > before) return s;
      }
    }
    throw new Error('no refetch');
  };
  return { clock, http, resolver, secondsUntilRefetch };
}

describe('well-known caching periods', () => {
  it.each([
    // [headers, period in seconds, why]
    [{}, 24 * HOUR, "no headers: the spec's default, 24 hours"],
    [{ 'cache-control': 'max-age=3600' }, HOUR, 'max-age'],
    [{ 'cache-control': 'max-age=1000000' }, 48 * HOUR, "capped at the spec's 48 hours"],
    [{ 'cache-control': 'max-age=10' }, 5 * 60, 'at least 5 minutes (Synapse)'],
    [{ 'cache-control': 'no-store' }, 5 * 60, "no-store: 5 minutes (Synapse's minimum)"],
    [{ expires: 'Wed, 01 Jan 2025 02:00:00 GMT' }, 2 * HOUR, "Expires, 2 hours after the fake clock's start"],
    [{ expires: 'yesterday' }, 5 * 60, 'an invalid Expires: expired, then the minimum'],
  ] as [HeaderMap, number, string][])('%j: period %i s (%s), refetched after 80%', async (headers, period) => {
    const { http, resolver, secondsUntilRefetch } = setup();
    http.answer = () => delegate('target.test:443', headers);
    const first = await resolver.resolve('example.test');
    expect(first.hostHeader).toBe('target.test:443');
    expect(http.count('example.test')).toBe(1);
    // Synapse refetches once less than a fifth of the period is left.
    const refetched = await secondsUntilRefetch('example.test', period);
    expect(Math.abs(refetched - period * (1 - WELL_KNOWN_CACHE.refreshFraction))).toBeLessThanOrEqual(1);
  });

  it("spreads default periods by ±10% (Synapse's jitter)", async () => {
    for (const [random, factor] of [
      [0, 0.9],
      [0.999_999, 1.1],
    ]) {
      const { http, resolver, secondsUntilRefetch } = setup({ random: () => random as number });
      http.answer = () => delegate('target.test:443');
      await resolver.resolve('example.test');
      const expected = 24 * HOUR * (factor as number) * 0.8;
      expect(Math.abs((await secondsUntilRefetch('example.test', 30 * HOUR)) - expected)).toBeLessThanOrEqual(2);
    }
  });

  it('caches a failure for an hour, answering from steps 4-6 meanwhile', async () => {
    const { http, resolver, secondsUntilRefetch } = setup();
    http.answer = () => ({ status: 404 });
    const r = await resolver.resolve('example.test');
    expect(r.via).toBe('default-port');
    expect(r.wellKnownError?.code).toBe('http-status');
    expect(resolver.resolveCached('example.test')?.wellKnownError?.code).toBe('http-status');
    expect(Math.abs((await secondsUntilRefetch('example.test', 2 * HOUR)) - 0.8 * HOUR)).toBeLessThanOrEqual(1);
  });

  it('backs off exponentially from 2 minutes after a valid well-known, up to an hour, then an hour', async () => {
    const { clock, http, resolver, secondsUntilRefetch } = setup();
    http.answer = () => delegate('target.test:443', { 'cache-control': 'max-age=600' });
    await resolver.resolve('example.test');
    clock.advance(600);
    http.answer = () => ({ status: 404 });
    await resolver.resolve('example.test'); // the first failure: 2 minutes
    const periods: number[] = [];
    for (let i = 0; i < 7; i++) periods.push((await secondsUntilRefetch('example.test', 2 * HOUR)) / 0.8);
    // Synapse caches 2 minutes each time; the spec asks for exponential back-off, capped at an hour.
    const expected = [120, 240, 480, 960, 1920, 3600, 3600];
    expect(periods.map((p, i) => Math.abs(p - (expected[i] as number)) <= 2)).toEqual(expected.map(() => true));
  });

  it('after the 2 hours a valid well-known is remembered (Synapse), a failure is cached an hour', async () => {
    const { clock, http, resolver, secondsUntilRefetch } = setup();
    http.answer = () => delegate('target.test:443', { 'cache-control': 'max-age=600' });
    await resolver.resolve('example.test');
    clock.advance(600 + 2 * HOUR + 1);
    http.answer = () => ({ status: 404 });
    await resolver.resolve('example.test');
    expect(Math.abs((await secondsUntilRefetch('example.test', 2 * HOUR)) / 0.8 - 3600)).toBeLessThanOrEqual(2);
  });

  it('a success resets the back-off', async () => {
    const { clock, http, resolver, secondsUntilRefetch } = setup();
    http.answer = () => delegate('target.test:443', { 'cache-control': 'max-age=600' });
    await resolver.resolve('example.test');
    clock.advance(600);
    http.answer = () => ({ status: 404 });
    await resolver.resolve('example.test');
    await secondsUntilRefetch('example.test');
    http.answer = () => delegate('target.test:443', { 'cache-control': 'max-age=600' });
    await secondsUntilRefetch('example.test');
    clock.advance(600);
    http.answer = () => ({ status: 404 });
    await resolver.resolve('example.test');
    expect(Math.abs((await secondsUntilRefetch('example.test')) / 0.8 - 120)).toBeLessThanOrEqual(2);
  });

  it('keeps a cached delegation through temporary failures while it lasts (Synapse), not past it', async () => {
    const { clock, http, resolver } = setup();
    http.answer = () => delegate('target.test:443', { 'cache-control': 'max-age=600' });
    await resolver.resolve('example.test');
    clock.advance(500); // in the last fifth: refetched
    http.answer = () => new DiscoveryError('network', 'down', true);
    expect((await resolver.resolve('example.test')).hostHeader).toBe('target.test:443');
    expect(http.count('example.test')).toBe(2);
    clock.advance(1); // still refetched each time, still kept
    expect((await resolver.resolve('example.test')).via).toBe('well-known-explicit-port');
    expect(http.count('example.test')).toBe(3);
    clock.advance(100); // past max-age: the failure is cached (2 minutes: it had a valid one)
    const after = await resolver.resolve('example.test');
    expect([after.via, after.wellKnownError?.code]).toEqual(['default-port', 'network']);
  });

  it('replaces a cached delegation on a permanent failure', async () => {
    const { clock, http, resolver } = setup();
    http.answer = () => delegate('target.test:443', { 'cache-control': 'max-age=600' });
    await resolver.resolve('example.test');
    clock.advance(500);
    http.answer = () => ({ status: 404 });
    expect((await resolver.resolve('example.test')).via).toBe('default-port');
  });

  it('a delegation to another host changes the result when refetched', async () => {
    const { clock, http, resolver } = setup();
    http.answer = () => delegate('target.test:443', { 'cache-control': 'max-age=600' });
    expect((await resolver.resolve('example.test')).address).toBe('198.51.100.7');
    http.answer = () => delegate('other.test:443', { 'cache-control': 'max-age=600' });
    clock.advance(479);
    expect((await resolver.resolve('example.test')).address).toBe('198.51.100.7');
    clock.advance(2);
    expect((await resolver.resolve('example.test')).address).toBe('203.0.113.9');
  });

  it('fetches once for concurrent resolutions of the same name', async () => {
    const { http, resolver } = setup();
    http.answer = () => delegate('target.test:443');
    const results = await Promise.all(Array.from({ length: 10 }, () => resolver.resolve('example.test')));
    expect(new Set(results.map((r) => r.hostHeader))).toEqual(new Set(['target.test:443']));
    expect(http.count('example.test')).toBe(1);
  });

  it('clearCache forgets everything', async () => {
    const { http, resolver } = setup();
    http.answer = () => delegate('target.test:443');
    await resolver.resolve('example.test');
    resolver.clearCache();
    expect(resolver.resolveCached('example.test')).toBeUndefined();
    await resolver.resolve('example.test');
    expect(http.count('example.test')).toBe(2);
  });

  it('keeps at most maxCacheEntries per cache', async () => {
    const { http, resolver } = setup({ maxCacheEntries: 2 });
    http.answer = () => ({ status: 404 });
    for (const h of ['example.test', 'target.test', 'other.test']) await resolver.resolve(h);
    await resolver.resolve('example.test');
    expect(http.count('example.test')).toBe(2);
    await resolver.resolve('other.test');
    expect(http.count('other.test')).toBe(1);
  });
});

describe('DNS caching', () => {
  const srv = (name: string, port: number, ttl?: number): SrvRecord =>
    ttl === undefined ? { name, port, priority: 0, weight: 0 } : { name, port, priority: 0, weight: 0, ttl };

  function dnsSetup(srvAnswer: () => Promise<SrvRecord[]>, ttl = 300) {
    const clock = new FakeClock();
    const queries: string[] = [];
    const dns: DnsResolver = {
      resolveSrv: (n) => {
        queries.push(`SRV ${n}`);
        return n.startsWith('_matrix-fed.')
          ? srvAnswer()
          : Promise.reject(Object.assign(new Error(), { code: 'ENOTFOUND' }));
      },
      resolve4: async (n) => {
        queries.push(`A ${n}`);
        return [{ address: '198.51.100.7', ttl }];
      },
      resolve6: async (n) => {
        queries.push(`AAAA ${n}`);
        throw Object.assign(new Error(), { code: 'ENODATA' });
      },
    };
    const http: HttpTransport = { get: async () => ({ status: 404, headers: {}, body: new Uint8Array() }) };
    const resolver = new ServerResolver({ dns, http, now: clock.now, allow: ['198.51.100.0/24'] });
    const count = (prefix: string) => queries.filter((q) => q.startsWith(prefix)).length;
    return { clock, resolver, count };
  }

  it('keeps SRV answers for their TTL when the resolver gives one', async () => {
    const { clock, resolver, count } = dnsSetup(async () => [srv('t.test', 1, 120)], 86_400);
    expect((await resolver.resolve('example.test')).via).toBe('srv');
    clock.advance(119);
    await resolver.resolve('example.test');
    expect(count('SRV _matrix-fed')).toBe(1);
    clock.advance(2);
    await resolver.resolve('example.test');
    expect(count('SRV _matrix-fed')).toBe(2);
  });

  it('keeps SRV answers without TTL (node:dns) and "no records" for srvCacheMs (5 minutes)', async () => {
    const { clock, resolver, count } = dnsSetup(async () => [srv('t.test', 1)], 86_400);
    await resolver.resolve('example.test');
    clock.advance(299);
    await resolver.resolve('example.test');
    expect(count('SRV _matrix-fed')).toBe(1);
    clock.advance(2);
    await resolver.resolve('example.test');
    expect(count('SRV _matrix-fed')).toBe(2);
  });

  it('uses an expired SRV answer when the lookup fails (Synapse), fails without one', async () => {
    let fail = false;
    const { clock, resolver } = dnsSetup(async () => {
      if (fail) throw Object.assign(new Error(), { code: 'ESERVFAIL' });
      return [srv('t.test', 7)];
    }, 86_400);
    await resolver.resolve('example.test');
    fail = true;
    clock.advance(3600);
    expect((await resolver.resolve('example.test')).port).toBe(7);
    resolver.clearCache();
    await expect(resolver.resolve('example.test')).rejects.toMatchObject({ code: 'dns-failure' });
  });

  it('orders SRV targets of equal priority anew on every resolution from the cache (load spreads by weight)', async () => {
    const clock = new FakeClock();
    const dns: DnsResolver = {
      resolveSrv: async (n) =>
        n.startsWith('_matrix-fed.')
          ? [
              { name: 'a.test', port: 1, priority: 0, weight: 1 },
              { name: 'b.test', port: 2, priority: 0, weight: 1 },
            ]
          : Promise.reject(Object.assign(new Error(), { code: 'ENOTFOUND' })),
      resolve4: async (n) => [{ address: n === 'a.test' ? '198.51.100.1' : '198.51.100.2', ttl: 600 }],
      resolve6: () => Promise.reject(Object.assign(new Error(), { code: 'ENODATA' })),
    };
    let r = 0;
    // Each ordering of two weighted records draws twice (the second pick from one record), so
    // with this cycle the first draws of successive orderings alternate between 0.1 and 0.9.
    const randoms = [0.1, 0.1, 0.9, 0.9];
    const resolver = new ServerResolver({
      dns,
      http: { get: async () => ({ status: 404, headers: {}, body: new Uint8Array() }) },
      now: clock.now,
      random: () => randoms[r++ % 4] as number,
      allow: ['198.51.100.0/24'],
    });
    await resolver.resolve('example.test');
    const firsts = Array.from({ length: 6 }, () => resolver.resolveCached('example.test')?.port);
    // The first draw decides: 0.1 → 1 + floor(0.1 × 2) = 1 → a (port 1); 0.9 → 2 → b (port 2).
    expect(new Set(firsts)).toEqual(new Set([1, 2]));
    for (let i = 1; i < firsts.length; i++) expect(firsts[i]).not.toBe(firsts[i - 1]);
    for (const t of resolver.resolveCached('example.test')?.targets ?? []) expect(t.addresses).toHaveLength(1);
  });

  it('keeps addresses for the shortest TTL of their records; TTL 0 is not kept', async () => {
    const { clock, resolver, count } = dnsSetup(async () => [], 30);
    await resolver.resolve('example.test:1');
    clock.advance(29);
    expect(resolver.resolveCached('example.test:1')?.address).toBe('198.51.100.7');
    clock.advance(2);
    expect(resolver.resolveCached('example.test:1')).toBeUndefined();
    await resolver.resolve('example.test:1');
    expect(count('A ')).toBe(2);
    const zero = dnsSetup(async () => [], 0);
    await zero.resolver.resolve('example.test:1');
    expect(zero.resolver.resolveCached('example.test:1')).toBeUndefined();
  });
});

describe('the expiry in the result', () => {
  // Written from the cache periods (spec: 24 hours by default, failures up to
  // an hour; Synapse: refetched once less than a fifth is left) and the TTLs
  // the test DNS gives; the random source 0.5 makes the jitter factor 1.
  it('a delegation: the well-known cached for its period, the result until its refresh', async () => {
    const { clock, http, resolver } = setup();
    const t0 = clock.ms;
    http.answer = () => delegate('target.test:443');
    const r = await resolver.resolve('example.test');
    expect(r.wellKnownExpiresAt).toBe(t0 + 24 * HOUR * 1000);
    // The refresh at 80% of 24 hours (19.2 h) comes before the addresses' TTL (24 hours).
    expect(r.expiresAt).toBe(t0 + 0.8 * 24 * HOUR * 1000);
    // From the cache, the same times.
    clock.advance(HOUR);
    expect(await resolver.resolve('example.test')).toMatchObject({
      wellKnownExpiresAt: t0 + 24 * HOUR * 1000,
      expiresAt: t0 + 0.8 * 24 * HOUR * 1000,
    });
    expect(http.count('example.test')).toBe(1);
  });

  it('Cache-Control sets the well-known period; a failure is cached an hour', async () => {
    const { clock, http, resolver } = setup();
    const t0 = clock.ms;
    http.answer = (host) =>
      host === 'example.test' ? delegate('target.test:443', { 'cache-control': 'max-age=3600' }) : { status: 404 };
    expect(await resolver.resolve('example.test')).toMatchObject({
      wellKnownExpiresAt: t0 + HOUR * 1000,
      expiresAt: t0 + 0.8 * HOUR * 1000,
    });
    const failed = await resolver.resolve('other.test');
    expect(failed.wellKnownError?.code).toBe('http-status');
    expect(failed.wellKnownExpiresAt).toBe(t0 + HOUR * 1000);
  });

  it('without a well-known step: the address TTL, or never for an IP literal', async () => {
    const { clock, resolver } = setup();
    const t0 = clock.ms;
    const explicit = await resolver.resolve('target.test:8448');
    expect(explicit.wellKnownExpiresAt).toBeUndefined();
    expect(explicit.expiresAt).toBe(t0 + 86_400 * 1000);
    const literal = await resolver.resolve('192.0.2.1:8448');
    expect(literal.wellKnownExpiresAt).toBeUndefined();
    expect(literal.expiresAt).toBe(Number.POSITIVE_INFINITY);
  });

  it('an SRV result: the SRV TTL when it is the shortest, also when ordered anew from the cache', async () => {
    const clock = new FakeClock();
    const t0 = clock.ms;
    const dns: DnsResolver = {
      resolveSrv: async (n) =>
        n.startsWith('_matrix-fed.')
          ? [
              { name: 'a.test', port: 1, priority: 0, weight: 1, ttl: 120 },
              { name: 'b.test', port: 2, priority: 0, weight: 1, ttl: 120 },
            ]
          : Promise.reject(Object.assign(new Error(), { code: 'ENOTFOUND' })),
      resolve4: async (n) => [{ address: n === 'a.test' ? '198.51.100.1' : '198.51.100.2', ttl: 600 }],
      resolve6: () => Promise.reject(Object.assign(new Error(), { code: 'ENODATA' })),
    };
    const resolver = new ServerResolver({
      dns,
      http: { get: async () => ({ status: 404, headers: {}, body: new Uint8Array() }) },
      now: clock.now,
      random: () => 0.5,
      allow: ['198.51.100.0/24'],
    });
    expect((await resolver.resolve('example.test')).expiresAt).toBe(t0 + 120_000);
    expect(resolver.resolveCached('example.test')?.expiresAt).toBe(t0 + 120_000);
  });
});
