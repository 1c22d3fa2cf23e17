/**
 * Server discovery from the caches: how many federation requests per second
 * can find their destination without I/O. A resolver is primed (module
 * load, before timing) through injected DNS and HTTP for three kinds of
 * server, and `resolveCached` is measured against the floor of any cache, a
 * `Map` lookup of a finished result:
 *
 * - a well-known delegation to `host:port` (the common case, e.g. matrix.org);
 * - no well-known, SRV records with three targets (ordered by priority and
 *   weight on every call, as Synapse does, so load spreads over the targets);
 * - an IP literal (no lookups at all: parsing and the address policy).
 *
 * Report only: the targets are ratios to read, not gates.
 */

import { type DnsResolver, type HttpTransport, type ResolvedServer, ServerResolver } from 'matrix-serverlib/federation';
import { atMostTimes, runBenchmark, section, type TargetResult } from './harness.ts';

const enc = new TextEncoder();
const notFound = () => Promise.reject(Object.assign(new Error('no records'), { code: 'ENOTFOUND' }));

/** DNS for the bench: a few names, long TTLs, documentation addresses. */
const dns: DnsResolver = {
  resolveSrv: async (name) =>
    name === '_matrix-fed._tcp.srv.bench.example'
      ? [
          { name: 'a.bench.example', port: 8448, priority: 10, weight: 60 },
          { name: 'b.bench.example', port: 8448, priority: 10, weight: 40 },
          { name: 'c.bench.example', port: 8448, priority: 20, weight: 0 },
        ]
      : notFound(),
  resolve4: async (name) => (name.endsWith('.bench.example') ? [{ address: '203.0.113.10', ttl: 86_400 }] : notFound()),
  resolve6: () => notFound(),
};

/** HTTP for the bench: one delegation, 404 elsewhere. */
const http: HttpTransport = {
  get: async (req) =>
    new URL(req.url).hostname === 'delegated.bench.example'
      ? { status: 200, headers: {}, body: enc.encode('{"m.server":"federation.bench.example:443"}') }
      : { status: 404, headers: {}, body: new Uint8Array() },
};

const NAMES = {
  delegated: 'delegated.bench.example',
  srv: 'srv.bench.example',
  ip: '203.0.113.7:8448',
} as const;

/**
 * Report-only targets: a finished result is remembered, so the cost over a bare Map.get is the
 * freshness check (≤ 10x); SRV targets of equal priority are ordered by weight on every call
 * (≤ 100x).
 */
const FACTOR: Record<keyof typeof NAMES, number> = { delegated: 10, srv: 100, ip: 10 };

// The documentation range stands in for public addresses here.
const resolver = new ServerResolver({ dns, http, allow: ['203.0.113.0/24'] });
const finished = new Map<string, ResolvedServer>();
for (const name of Object.values(NAMES)) finished.set(name, await resolver.resolve(name));

/** Runs the discovery suite; returns how the targets fared. */
export function runDiscoveryBench(): TargetResult[] {
  section('Server discovery from the caches');
  for (const [kind, name] of Object.entries(NAMES)) {
    const cached = resolver.resolveCached(name);
    const expected = finished.get(name);
    if (cached === undefined || cached.via !== expected?.via || cached.hostHeader !== expected.hostHeader) {
      throw new Error(`discovery bench: ${kind} is not answered from the cache as it was resolved`);
    }
  }
  const out: TargetResult[] = [];
  for (const [kind, name] of Object.entries(NAMES) as [keyof typeof NAMES, string][]) {
    const via = finished.get(name)?.via;
    out.push(
      ...runBenchmark({
        title: `discovery from cache · ${kind} (${name} → ${via})`,
        note: 'resolutions/s; Map.get of a finished result is the floor',
        baseline: 'Map.get',
        candidates: [
          { name: 'Map.get', fn: () => finished.get(name) },
          { name: 'resolveCached', fn: () => resolver.resolveCached(name) },
        ],
        targets: [atMostTimes('resolveCached', 'Map.get', FACTOR[kind])],
      }),
    );
  }
  return out;
}
