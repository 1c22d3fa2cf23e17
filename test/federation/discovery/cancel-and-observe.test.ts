/**
 * Cancelling a resolution with an AbortSignal, and the discovery
 * diagnostics channel. A resolution whose signal aborts rejects at once with the
 * signal's reason; the well-known request, shared by concurrent resolutions
 * of the same host, is aborted only once every one of them has given up,
 * and an abort is never cached as a well-known failure. Injected DNS and
 * HTTP that wait until told, and the undici transport against a server that
 * never answers.
 */

import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DISCOVERY_CHANNEL, type DiscoveryMessage } from '../../../src/federation/diagnostics.js';
import { AddressPolicy } from '../../../src/federation/discovery/addresses.js';
import type { DnsResolver } from '../../../src/federation/discovery/dns.js';
import { createUndiciTransport, type HttpRequest, type HttpResponse } from '../../../src/federation/discovery/http.js';
import { ServerResolver } from '../../../src/federation/discovery/resolve.js';
import { createTestCa } from '../../interop/live/certs.js';
import { memoryDns } from './harness.js';

const ZONE = { a: { 'example.test': ['192.0.2.1'], 'target.test': ['198.51.100.7'] } };
const ALLOW = ['192.0.2.0/24', '198.51.100.0/24'];

/** A well-known transport whose requests wait until the test answers them; records each request's signal. */
class HeldTransport {
  readonly requests: { url: string; signal: AbortSignal | undefined; answer: (r: HttpResponse) => void }[] = [];
  get(req: HttpRequest, options: { signal?: AbortSignal | undefined } = {}): Promise<HttpResponse> {
    return new Promise((resolve, reject) => {
      const signal = options.signal;
      signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
      this.requests.push({ url: req.url, signal, answer: resolve });
    });
  }
}

const delegation = (server: string): HttpResponse => ({
  status: 200,
  headers: {},
  body: new TextEncoder().encode(JSON.stringify({ 'm.server': server })),
});

/** Lets pending promise callbacks run. */
const ticks = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

function setup(dns: DnsResolver = memoryDns(ZONE)) {
  const http = new HeldTransport();
  const resolver = new ServerResolver({ dns, http, allow: ALLOW, random: () => 0.5 });
  return { http, resolver };
}

describe('ServerResolver.resolve with a signal', () => {
  it('rejects at once with the reason of a signal already aborted, asking nothing', async () => {
    const { http, resolver } = setup();
    const reason = new Error('shutting down');
    await expect(resolver.resolve('example.test', { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(http.requests).toHaveLength(0);
  });

  it('rejects with the reason while the well-known is under way, aborts the request, and caches nothing', async () => {
    const { http, resolver } = setup();
    const controller = new AbortController();
    const pending = resolver.resolve('example.test', { signal: controller.signal });
    await ticks();
    expect(http.requests).toHaveLength(1);
    const reason = new Error('client went away');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    // The only waiter gave up: the request itself was aborted.
    expect(http.requests[0]?.signal?.aborted).toBe(true);
    // No failure was cached: the next resolution asks again.
    const again = resolver.resolve('example.test');
    await ticks();
    expect(http.requests).toHaveLength(2);
    http.requests[1]?.answer(delegation('target.test:8443'));
    expect((await again).hostHeader).toBe('target.test:8443');
  });

  it('keeps the shared well-known request for the resolutions still waiting when one gives up', async () => {
    const { http, resolver } = setup();
    const first = new AbortController();
    const second = new AbortController();
    const a = resolver.resolve('example.test', { signal: first.signal });
    const b = resolver.resolve('example.test', { signal: second.signal });
    await ticks();
    expect(http.requests).toHaveLength(1);
    const reason = new Error('first gave up');
    first.abort(reason);
    await expect(a).rejects.toBe(reason);
    expect(http.requests[0]?.signal?.aborted).toBe(false);
    http.requests[0]?.answer(delegation('target.test:8443'));
    expect((await b).hostHeader).toBe('target.test:8443');
    expect(http.requests).toHaveLength(1);
  });

  it('aborts the shared request once every resolution waiting for it has given up', async () => {
    const { http, resolver } = setup();
    const first = new AbortController();
    const second = new AbortController();
    const a = resolver.resolve('example.test', { signal: first.signal });
    const b = resolver.resolve('example.test', { signal: second.signal });
    await ticks();
    first.abort();
    await expect(a).rejects.toMatchObject({ name: 'AbortError' });
    expect(http.requests[0]?.signal?.aborted).toBe(false);
    second.abort();
    await expect(b).rejects.toMatchObject({ name: 'AbortError' });
    expect(http.requests[0]?.signal?.aborted).toBe(true);
  });

  it('a resolution without a signal holds the shared request to its end', async () => {
    const { http, resolver } = setup();
    const controller = new AbortController();
    const a = resolver.resolve('example.test', { signal: controller.signal });
    const b = resolver.resolve('example.test');
    await ticks();
    controller.abort();
    await expect(a).rejects.toMatchObject({ name: 'AbortError' });
    expect(http.requests[0]?.signal?.aborted).toBe(false);
    http.requests[0]?.answer(delegation('target.test:8443'));
    expect((await b).hostHeader).toBe('target.test:8443');
  });

  it('stops waiting for a DNS query that does not answer', async () => {
    const base = memoryDns(ZONE);
    const never = new Promise<never>(() => undefined);
    const dns: DnsResolver = {
      resolveSrv: () => never,
      resolve4: () => never,
      resolve6: (n, o) => base.resolve6(n, o),
    };
    const { resolver } = setup(dns);
    const controller = new AbortController();
    // An explicit port: straight to the address lookup (step 2).
    const pending = resolver.resolve('example.test:8448', { signal: controller.signal });
    await ticks();
    const reason = new Error('stop');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });
});

describe('the undici well-known transport with a signal', () => {
  const ca = createTestCa();
  let server: Server;
  let port: number;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    const leaf = ca.issue({ ips: ['127.0.0.2'], dns: ['silent.test'] });
    // Accepts the request and never answers.
    server = createServer({ cert: leaf.certPem, key: leaf.keyPem }, () => undefined);
    server.on('secureConnection', (s: Socket) => sockets.push(s));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.2', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('aborts the request in flight (the connection is closed) and rejects with the reason', async () => {
    const http = createUndiciTransport({
      ca: ca.certPem,
      policy: new AddressPolicy({ allow: ['127.0.0.0/8'] }),
      // Far beyond the test's own timeout: only the signal can end the request in time.
      timeoutMs: 600_000,
    });
    const controller = new AbortController();
    const pending = http.get(
      { url: `https://127.0.0.2:${port}/.well-known/matrix/server`, headers: {}, maxBytes: 1024 },
      { signal: controller.signal },
    );
    while (sockets.length === 0) await new Promise((r) => setTimeout(r, 10));
    const socket = sockets[0] as Socket;
    // The client's abort may reach the server as a reset: an error, then the close.
    socket.on('error', () => undefined);
    const closed = new Promise((resolve) => socket.once('close', resolve));
    const reason = new Error('give up');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    await closed;
    await http.close?.();
  });
});

describe('the discovery channel', () => {
  it('publishes each resolution made, with its result or error, not a result given again from the cache', async () => {
    const { http, resolver } = setup();
    const got: DiscoveryMessage[] = [];
    const listener = (m: unknown) => got.push(m as DiscoveryMessage);
    subscribe(DISCOVERY_CHANNEL, listener);
    try {
      const pending = resolver.resolve('example.test');
      await ticks();
      http.requests[0]?.answer(delegation('target.test:8443'));
      const result = await pending;
      await resolver.resolve('example.test'); // remembered: not published
      await resolver.resolve('nowhere.test:8448').catch(() => undefined);
      expect(got).toEqual([
        { serverName: 'example.test', result, error: undefined, durationMs: expect.any(Number) },
        {
          serverName: 'nowhere.test:8448',
          result: undefined,
          error: expect.objectContaining({ code: 'not-found' }),
          durationMs: expect.any(Number),
        },
      ]);
    } finally {
      unsubscribe(DISCOVERY_CHANNEL, listener);
    }
  });
});
