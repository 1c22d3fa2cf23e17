/**
 * The default well-known transport against real HTTPS servers on loopback:
 * the address filter at connect time (names, IP literals, DNS rebinding),
 * the body cap, time limits and TLS verification.
 */

import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AddressPolicy } from '../../../src/federation/discovery/addresses.js';
import type { DnsResolver } from '../../../src/federation/discovery/dns.js';
import { DiscoveryError } from '../../../src/federation/discovery/errors.js';
import { createUndiciTransport, type HttpTransport } from '../../../src/federation/discovery/http.js';
import { ServerResolver } from '../../../src/federation/discovery/resolve.js';
import {
  json,
  makePki,
  memoryDns,
  type Pki,
  raw,
  redirect,
  startWellKnownServers,
  type WellKnownServers,
} from './harness.js';

const WK = '127.0.0.2';
const PRIVATE = '127.0.0.9';
const policy = new AddressPolicy({ allow: [WK] });

const zone = {
  a: {
    'ok.test': [WK],
    'private.test': [PRIVATE],
    'mixed.test': [WK, PRIVATE],
    'wrongname.test': [WK],
  },
};

let pki: Pki;
let servers: WellKnownServers;
const stalled: ServerResponse[] = [];

beforeAll(async () => {
  pki = makePki(['ok.test', 'private.test', 'mixed.test', 'rebind.test'], [WK, PRIVATE]);
  servers = await startWellKnownServers(pki, [WK, PRIVATE], {
    'ok.test': (path, req, res) => {
      if (path === '/big') return raw('x'.repeat(2000), { 'content-type': 'text/plain' })(path, req, res);
      if (path === '/chunked') {
        res.writeHead(200);
        for (let i = 0; i < 20; i++) res.write('x'.repeat(100));
        res.end();
        return;
      }
      if (path === '/exact') return raw('x'.repeat(1000))(path, req, res);
      if (path === '/redirect') return redirect('/elsewhere')(path, req, res);
      if (path === '/redirect-with-body') {
        res.writeHead(302, { location: '/x' }).end('y'.repeat(5000));
        return;
      }
      if (path === '/hang') {
        stalled.push(res);
        return;
      }
      if (path === '/hang-body') {
        res.writeHead(200, { 'content-length': '100' });
        res.write('{');
        stalled.push(res);
        return;
      }
      res.setHeader('cache-control', ['max-age=1', 'public']);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ 'm.server': 'ok.test:8443' }));
    },
    'private.test': json({ 'm.server': 'evil.example:443' }),
    'rebind.test': json({ 'm.server': 'rebind.test:8443' }),
    [PRIVATE]: json({ 'm.server': 'evil.example:443' }),
  });
});

afterAll(async () => {
  for (const res of stalled) res.destroy();
  await servers?.stop();
});

function transport(dns: DnsResolver = memoryDns(zone), extra: { timeoutMs?: number; ca?: string } = {}): HttpTransport {
  return createUndiciTransport({ dns, policy, ca: pki.ca, ...extra });
}

async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof DiscoveryError) return e.code;
    throw e;
  }
  throw new Error('expected a DiscoveryError');
}

const url = (host: string, path = '/.well-known/matrix/server') => `https://${host}:${servers.port}${path}`;
const privateRequests = () => servers.requests.filter((r) => r.startsWith(`${PRIVATE} `)).length;

describe('the default transport', () => {
  it('fetches from an allowed address, with repeated headers as arrays', async () => {
    const t = transport();
    try {
      const res = await t.get({ url: url('ok.test'), headers: { 'user-agent': 'test' }, maxBytes: 1000 });
      expect(res.status).toBe(200);
      expect(JSON.parse(new TextDecoder().decode(res.body))).toEqual({ 'm.server': 'ok.test:8443' });
      expect(res.headers['cache-control']).toEqual(['max-age=1', 'public']);
    } finally {
      await t.close?.();
    }
  });

  it('refuses a name that resolves to a refused address, before connecting', async () => {
    const t = transport();
    try {
      const before = privateRequests();
      expect(await failure(t.get({ url: url('private.test'), headers: {}, maxBytes: 1000 }))).toBe('blocked-address');
      expect(await failure(t.get({ url: url('mixed.test'), headers: {}, maxBytes: 1000 }))).toBe('blocked-address');
      expect(privateRequests()).toBe(before);
    } finally {
      await t.close?.();
    }
  });

  it('refuses an IP-literal URL of a refused address, in any spelling', async () => {
    const t = transport();
    try {
      const before = privateRequests();
      for (const host of [PRIVATE, '[::ffff:127.0.0.9]', '0x7f.0.0.9', '2130706441']) {
        expect(await failure(t.get({ url: url(host), headers: {}, maxBytes: 1000 })), host).toBe('blocked-address');
      }
      expect(privateRequests()).toBe(before);
    } finally {
      await t.close?.();
    }
  });

  it('checks the addresses it connects to, not a name checked earlier (DNS rebinding)', async () => {
    // Every third answer for rebind.test is the refused address.
    let n = 0;
    const rebinding: DnsResolver = {
      resolveSrv: () => Promise.reject(Object.assign(new Error(), { code: 'ENOTFOUND' })),
      resolve4: async () => [{ address: n++ % 3 === 1 ? PRIVATE : WK, ttl: 0 }],
      resolve6: () => Promise.reject(Object.assign(new Error(), { code: 'ENODATA' })),
    };
    const before = privateRequests();
    // The transport alone, a new one (no pooled connection) each time: the lookup at connect
    // time alternates, and so does the outcome.
    let m = 0;
    const alternating: DnsResolver = {
      ...rebinding,
      resolve4: async () => [{ address: m++ % 2 === 0 ? WK : PRIVATE, ttl: 0 }],
    };
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) {
      const t = transport(alternating);
      try {
        seen.push(String((await t.get({ url: url('rebind.test'), headers: {}, maxBytes: 1000 })).status));
      } catch (e) {
        seen.push((e as DiscoveryError).code);
      } finally {
        await t.close?.();
      }
    }
    expect(seen).toEqual(['200', 'blocked-address', '200', 'blocked-address']);
    const resolver = new ServerResolver({ dns: rebinding, ca: pki.ca, policy, wellKnownPort: servers.port });
    try {
      const outcomes = new Set<string>();
      for (let i = 0; i < 12; i++) {
        resolver.clearCache();
        try {
          const r = await resolver.resolve('rebind.test');
          for (const t of r.targets) expect(t.addresses).not.toContain(PRIVATE);
          outcomes.add(r.via);
        } catch (e) {
          expect(e).toBeInstanceOf(DiscoveryError);
          outcomes.add((e as DiscoveryError).code);
        }
      }
      // Both refusals and delegations fetched from the allowed address happened.
      expect(outcomes.has('blocked-address')).toBe(true);
      expect(outcomes.has('well-known-explicit-port')).toBe(true);
      expect(privateRequests()).toBe(before);
    } finally {
      await resolver.close();
    }
  });

  it('refuses bodies over the cap, declared or streamed; accepts the cap exactly', async () => {
    const t = transport();
    try {
      expect(await failure(t.get({ url: url('ok.test', '/big'), headers: {}, maxBytes: 1000 }))).toBe('too-large');
      expect(await failure(t.get({ url: url('ok.test', '/chunked'), headers: {}, maxBytes: 1000 }))).toBe('too-large');
      expect((await t.get({ url: url('ok.test', '/exact'), headers: {}, maxBytes: 1000 })).body).toHaveLength(1000);
    } finally {
      await t.close?.();
    }
  });

  it('does not read the bodies of redirects', async () => {
    const t = transport();
    try {
      const res = await t.get({ url: url('ok.test', '/redirect-with-body'), headers: {}, maxBytes: 10 });
      expect([res.status, res.headers.location, res.body.length]).toEqual([302, '/x', 0]);
      const plain = await t.get({ url: url('ok.test', '/redirect'), headers: {}, maxBytes: 10 });
      expect([plain.status, plain.headers.location]).toEqual([302, '/elsewhere']);
    } finally {
      await t.close?.();
    }
  });

  it('gives up after its time limit, waiting for headers or for the body', async () => {
    const t = transport(memoryDns(zone), { timeoutMs: 300 });
    try {
      expect(await failure(t.get({ url: url('ok.test', '/hang'), headers: {}, maxBytes: 1000 }))).toBe('timeout');
      expect(await failure(t.get({ url: url('ok.test', '/hang-body'), headers: {}, maxBytes: 1000 }))).toBe('timeout');
    } finally {
      await t.close?.();
    }
  });

  it('verifies TLS: an untrusted CA, or a certificate for another name, is a network error', async () => {
    const untrusting = createUndiciTransport({ dns: memoryDns(zone), policy });
    const t = transport();
    try {
      expect(await failure(untrusting.get({ url: url('ok.test'), headers: {}, maxBytes: 1000 }))).toBe('network');
      expect(await failure(t.get({ url: url('wrongname.test'), headers: {}, maxBytes: 1000 }))).toBe('network');
    } finally {
      await untrusting.close?.();
      await t.close?.();
    }
  });

  it('reports names that do not resolve, and refused connections', async () => {
    const t = transport();
    try {
      expect(await failure(t.get({ url: url('nx.test'), headers: {}, maxBytes: 1000 }))).toBe('not-found');
      expect(await failure(t.get({ url: `https://ok.test:1/`, headers: {}, maxBytes: 1000 }))).toBe('network');
    } finally {
      await t.close?.();
    }
  });
});

describe('the transport used by the resolver', () => {
  it('is made on first use and closed by close()', async () => {
    const resolver = new ServerResolver({ dns: memoryDns(zone), ca: pki.ca, policy, wellKnownPort: servers.port });
    const r = await resolver.resolve('ok.test');
    expect([r.via, r.hostHeader, r.address]).toEqual(['well-known-explicit-port', 'ok.test:8443', WK]);
    await resolver.close();
    await resolver.close();
    // A new transport is made after close, when needed again.
    resolver.clearCache();
    expect((await resolver.resolve('ok.test')).hostHeader).toBe('ok.test:8443');
    await resolver.close();
  });
});
