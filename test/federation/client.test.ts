/**
 * The federation client against real HTTPS servers on loopback, with
 * certificates from a CA the test makes: TLS server name and Host header,
 * signing, bodies, errors, limits, back-off, trying the discovered addresses
 * in turn, the key transport, and each endpoint's method, path, query and
 * body as the spec's server-server API (data/api/server-server/*.yaml)
 * defines them.
 */

import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createServer, type Server } from 'node:https';
import { type AddressInfo, createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonFloat } from '../../src/canonicaljson/index.js';
import { InvalidInputError } from '../../src/errors.js';
import {
  FederationClient,
  type FederationDestination,
  FederationError,
  type FederationRequest,
  type RequestToSign,
} from '../../src/federation/client.js';
import {
  FEDERATION_BACKOFF_CHANNEL,
  FEDERATION_REQUEST_CHANNEL,
  type FederationRequestMessage,
} from '../../src/federation/diagnostics.js';
import { AddressPolicy } from '../../src/federation/discovery/addresses.js';
import { DiscoveryError } from '../../src/federation/discovery/errors.js';
import { signRequest, verifyRequest } from '../../src/federation/xmatrix.js';
import { Keyring } from '../../src/keys/index.js';
import { encodeBase64 } from '../../src/signing/index.js';
import { createTestCa, type TestCa } from '../interop/live/certs.js';
import { key, response } from '../keys/helpers.js';

interface Seen {
  method: string;
  url: string;
  host: string | undefined;
  sni: string | false | null | undefined;
  authorization: string | undefined;
  body: string;
}

const ADDRESS = '127.0.0.5';
/** A second server with a certificate for fed.test, to see which address a request reached. */
const SECOND = '127.0.0.6';
/** A server whose certificate is for another name only. */
const WRONG_CERT = '127.0.0.7';
/** Nothing listens here: connecting is refused at once. */
const NOBODY = '127.0.0.9';
/** The origin key of the key-server route. */
const FED_KEY = key(5);
let ca: TestCa;
let server: Server;
let port: number;
let second: Server;
let secondPort: number;
let wrongCert: Server;
let wrongCertPort: number;
/** Accepts TCP connections and never answers the TLS handshake. */
let silent: NetServer;
let silentPort: number;
const silentSockets = new Set<Socket>();
const seen: Seen[] = [];
const seenBySecond: Seen[] = [];
/** What the server answers, by path prefix (the first that matches). */
type Route = [string, (res: import('node:http').ServerResponse) => void];
const routes: Route[] = [];

/** Runs `fn` with `extra` routes ahead of the others. */
async function withRoutes<T>(extra: Route[], fn: () => Promise<T>): Promise<T> {
  routes.unshift(...extra);
  try {
    return await fn();
  } finally {
    routes.splice(0, extra.length);
  }
}

/** An HTTPS server on `address` recording what it receives into `into`, answering from `routes`. */
async function start(address: string, names: string[], into: Seen[]): Promise<[Server, number]> {
  const leaf = ca.issue({ ips: [address], dns: names });
  const s = createServer({ cert: leaf.certPem, key: leaf.keyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      into.push({
        method: req.method ?? '',
        url: req.url ?? '',
        host: req.headers.host,
        sni: (req.socket as TLSSocket).servername,
        authorization: req.headers.authorization,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      const route = routes.find(([prefix]) => (req.url ?? '').startsWith(prefix));
      if (route === undefined) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end('{"errcode":"M_UNRECOGNIZED","error":"no route"}');
      } else route[1](res);
    });
  });
  await new Promise<void>((resolve) => s.listen(0, address, resolve));
  return [s, (s.address() as AddressInfo).port];
}

/** A body of 17 MiB: past the JSON parser's default limit (16 MiB), under the client's default cap (64 MiB). */
const BIG = `{"state":["${'a'.repeat(17 * 1024 * 1024)}"]}`;

beforeAll(async () => {
  ca = createTestCa();
  [server, port] = await start(ADDRESS, ['fed.test'], seen);
  [second, secondPort] = await start(SECOND, ['fed.test'], seenBySecond);
  [wrongCert, wrongCertPort] = await start(WRONG_CERT, ['other.test'], []);
  silent = createNetServer((socket) => silentSockets.add(socket));
  await new Promise<void>((resolve) => silent.listen(0, ADDRESS, resolve));
  silentPort = (silent.address() as AddressInfo).port;
  routes.push(
    ['/_matrix/federation/v1/backfill/', (res) => json(res, 200, '{"pdus":[]}')],
    ['/_matrix/federation/v1/get_missing_events/', (res) => json(res, 200, '{"events":[]}')],
    ['/_matrix/federation/v1/make_knock/', (res) => json(res, 200, '{"room_version":"10","event":{}}')],
    ['/_matrix/federation/v1/send_knock/', (res) => json(res, 200, '{"knock_room_state":[]}')],
    ['/_matrix/federation/v2/invite/', (res) => json(res, 200, '{"event":{}}')],
    ['/_matrix/federation/v1/send/', (res) => json(res, 200, '{"pdus":{}}')],
    ['/_matrix/key/v2/server', (res) => json(res, 200, JSON.stringify(fedKeys()))],
    ['/_matrix/key/v2/query', (res) => json(res, 200, '{"server_keys":[]}')],
    ['/_matrix/federation/v1/user/devices/', (res) => json(res, 200, BIG)],
    [
      '/_matrix/federation/v1/openid/userinfo',
      (res) => bytes(res, [0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]),
    ],
    ['/_matrix/federation/v1/version', (res) => json(res, 200, '{"server":{"name":"stub","version":"1"}}')],
    ['/_matrix/federation/v1/query/profile', (res) => json(res, 403, '{"errcode":"M_FORBIDDEN","error":"no"}')],
    ['/_matrix/federation/v1/event/', (res) => json(res, 500, '{"errcode":"M_UNKNOWN"}')],
    [
      '/_matrix/federation/v1/state_ids/',
      (res) =>
        json(res, 200, `{"auth_chain_ids":[],"big":${'9'.repeat(30)},"f":1.5,"pdu_ids":[],"x":"${'a'.repeat(5000)}"}`),
    ],
    ['/_matrix/federation/v1/state/', (res) => json(res, 200, 'not json')],
    ['/_matrix/federation/v1/event_auth/', () => {}],
    // Headers and the start of a body, then nothing more.
    [
      '/_matrix/federation/v1/stall',
      (res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write(`{"x":"${'a'.repeat(1500)}`);
      },
    ],
    ['/_matrix/federation/v1/fifteen', (res) => json(res, 200, `{"x":"${'a'.repeat(1500)}"}`)],
    ['/_matrix/federation/v2/send_join/', (res) => json(res, 200, '{"state":[],"auth_chain":[]}')],
  );
});

afterAll(async () => {
  for (const s of [server, second, wrongCert]) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
  for (const socket of silentSockets) socket.destroy();
  await new Promise((resolve) => silent.close(resolve));
});

function json(res: import('node:http').ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(body);
}

function bytes(res: import('node:http').ServerResponse, body: number[]): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(Buffer.from(body));
}

/** fed.test's key response, signed with libsodium (test/keys/helpers.ts). */
function fedKeys() {
  return response('fed.test', { 'ed25519:a': FED_KEY }, Date.now() + 3_600_000);
}

function client(
  o: {
    dest?: Partial<FederationDestination>;
    now?: () => number;
    timeoutMs?: number;
    connectTimeoutMs?: number;
    max?: number;
    buffered?: number;
    bytesPerValue?: number;
  } = {},
) {
  const signed: RequestToSign[] = [];
  const c = new FederationClient({
    serverName: 'us.test',
    sign: (r) => {
      signed.push(r);
      return `X-Matrix origin="us.test",destination="${r.destination}",key="ed25519:k",sig="s${signed.length}"`;
    },
    resolve: async () => ({ address: ADDRESS, port, hostHeader: 'fed.test', tlsServerName: 'fed.test', ...o.dest }),
    // The servers are on loopback, which the address policy refuses unless allowed.
    allow: ['127.0.0.0/8'],
    ca: ca.certPem,
    ...(o.now !== undefined ? { now: o.now } : {}),
    timeoutMs: o.timeoutMs ?? 5_000,
    ...(o.connectTimeoutMs !== undefined ? { connectTimeoutMs: o.connectTimeoutMs } : {}),
    ...(o.max !== undefined ? { maxResponseBytes: o.max } : {}),
    ...(o.buffered !== undefined ? { maxBufferedBytes: o.buffered } : {}),
    ...(o.bytesPerValue !== undefined ? { minBytesPerValue: o.bytesPerValue } : {}),
    backoff: { initialMs: 60_000 },
  });
  return { c, signed };
}

describe('FederationClient', () => {
  it('connects to the discovered address with the server name as TLS name and Host, and signs the request', async () => {
    const { c, signed } = client();
    expect(await c.getVersion('fed.test')).toEqual({ server: { name: 'stub', version: '1' } });
    const last = seen.at(-1) as Seen;
    expect(last).toMatchObject({
      method: 'GET',
      url: '/_matrix/federation/v1/version',
      host: 'fed.test',
      sni: 'fed.test',
    });
    expect(last.authorization).toBe('X-Matrix origin="us.test",destination="fed.test",key="ed25519:k",sig="s1"');
    expect(signed).toEqual([
      { method: 'GET', uri: '/_matrix/federation/v1/version', origin: 'us.test', destination: 'fed.test' },
    ]);
    await c.close();
  });

  it('sends the body it signed, encodes path segments, and keeps the query in the signed URI', async () => {
    const { c, signed } = client();
    const event = { type: 'm.room.member', content: { membership: 'join' }, depth: 2n ** 60n, f: new JsonFloat(0.5) };
    await c.sendJoin('fed.test', '!room:fed.test', '$a/b+c', event, { omitMembers: true });
    const last = seen.at(-1) as Seen;
    expect(last.url).toBe('/_matrix/federation/v2/send_join/!room%3Afed.test/%24a%2Fb%2Bc?omit_members=true');
    expect(last.body).toBe(
      '{"content":{"membership":"join"},"depth":1152921504606846976,"f":0.5,"type":"m.room.member"}',
    );
    expect(signed[0]).toMatchObject({ method: 'PUT', uri: last.url, content: event });
    await c.close();
  });

  it('signs as the origin a request names (virtual hosting), and sends a transaction from it', async () => {
    // Two hosted names, each with its own key, behind one signer.
    const keys = new Map([
      ['us.test', { keyId: 'ed25519:us', key: key(6) }],
      ['them.test', { keyId: 'ed25519:them', key: key(7) }],
    ]);
    const c = new FederationClient({
      serverName: 'us.test',
      sign: (r) => {
        const k = keys.get(r.origin);
        if (k === undefined) throw new Error(`no key for ${r.origin}`);
        return signRequest(r, k.keyId, k.key);
      },
      resolve: async () => ({ address: ADDRESS, port, hostHeader: 'fed.test', tlsServerName: 'fed.test' }),
      allow: ['127.0.0.0/8'],
      ca: ca.certPem,
    });
    const verify = async (expectedOrigin: string) => {
      const last = seen.at(-1) as Seen;
      const check = await verifyRequest(
        {
          method: last.method,
          uri: last.url,
          destination: 'fed.test',
          ...(last.body === '' ? {} : { content: JSON.parse(last.body) }),
          authorization: last.authorization ?? [],
        },
        (server, keyIds) => {
          const k = keys.get(server);
          return new Map(
            keyIds.includes(k?.keyId ?? '') && k ? [[k.keyId, { key: k.key.verifyKey, validUntilTs: Infinity }]] : [],
          );
        },
      );
      expect(check).toEqual({ valid: true, origin: expectedOrigin });
    };
    await c.getVersion('fed.test');
    await verify('us.test');
    await c.getVersion('fed.test', { origin: 'them.test' });
    await verify('them.test');
    await c.sendTransaction('fed.test', 't1', [], { originServerTs: 5, origin: 'them.test' });
    await verify('them.test');
    expect(JSON.parse((seen.at(-1) as Seen).body)).toMatchObject({ origin: 'them.test' });
    // A name the signer has no key for: nothing is sent.
    const before = seen.length;
    await expect(c.getVersion('fed.test', { origin: 'else.test' })).rejects.toThrow('no key for else.test');
    expect(seen.length).toBe(before);
    await c.close();
  });

  it('keeps big integers and floats of a response exactly', async () => {
    const { c } = client();
    const r = await c.getStateIds('fed.test', '!r:fed.test', '$e');
    expect(r.big).toBe(10n ** 30n - 1n);
    expect(r.f).toEqual(new JsonFloat(1.5));
    await c.close();
  });

  it('connects to an IP literal without a TLS server name', async () => {
    const { c } = client({ dest: { tlsServerName: undefined, hostHeader: `${ADDRESS}:1` } });
    await c.getVersion(`${ADDRESS}:1`);
    expect(seen.at(-1)).toMatchObject({ host: `${ADDRESS}:1`, sni: false });
    await c.close();
  });

  it('refuses a certificate that is not for the server name', async () => {
    const { c } = client({ dest: { tlsServerName: 'other.test' } });
    const e = (await c.getVersion('other.test').catch((x: unknown) => x)) as FederationError;
    // undici's TLS error underneath is kept.
    expect(e).toMatchObject({ code: 'network', errcode: 'M_UNKNOWN', cause: expect.any(Error) });
    expect((e.cause as Error).message).toMatch(/other\.test/);
    await c.close();
  });

  it('gives the remote errcode and status, without backing off for a 4xx', async () => {
    const { c } = client();
    const e = (await c.queryProfile('fed.test', '@u:fed.test').catch((x: unknown) => x)) as FederationError;
    expect(e).toBeInstanceOf(FederationError);
    expect(e).toMatchObject({
      code: 'remote',
      status: 403,
      remoteErrcode: 'M_FORBIDDEN',
      errcode: 'M_UNKNOWN',
      destination: 'fed.test',
    });
    await expect(c.getVersion('fed.test')).resolves.toBeDefined();
    await c.close();
  });

  it('backs a destination off after a 5xx until the wait is over', async () => {
    let now = 1_000_000;
    const { c } = client({ now: () => now });
    await expect(c.getEvent('fed.test', '$e')).rejects.toMatchObject({ code: 'remote', status: 500 });
    const before = seen.length;
    await expect(c.getVersion('fed.test')).rejects.toMatchObject({ code: 'backoff', retryAt: 1_060_000 });
    expect(seen.length).toBe(before);
    now += 60_001;
    await expect(c.getVersion('fed.test')).resolves.toBeDefined();
    await c.close();
  });

  it('shows the back-off of each destination, and forgets it on resetBackoff', async () => {
    let now = 2_000_000;
    const { c } = client({ now: () => now });
    expect(c.backoffState('fed.test')).toBeUndefined();
    await expect(c.getEvent('fed.test', '$e')).rejects.toMatchObject({ status: 500 });
    expect(c.backoffState('fed.test')).toEqual({ failures: 1, retryAt: 2_060_000 });
    now = 2_060_000;
    await expect(c.getEvent('fed.test', '$e')).rejects.toMatchObject({ status: 500 });
    // The second wait is twice the first.
    expect(c.backoffState('fed.test')).toEqual({ failures: 2, retryAt: 2_180_000 });
    expect([...c.backoffStates()]).toEqual([['fed.test', { failures: 2, retryAt: 2_180_000 }]]);
    await expect(c.getVersion('fed.test')).rejects.toMatchObject({ code: 'backoff' });
    c.resetBackoff('fed.test');
    expect(c.backoffState('fed.test')).toBeUndefined();
    expect([...c.backoffStates()]).toEqual([]);
    await expect(c.getVersion('fed.test')).resolves.toBeDefined();
    await c.close();
  });

  it('refuses responses over the size cap, and bodies that are not JSON', async () => {
    const { c } = client({ max: 1_000 });
    await expect(c.getStateIds('fed.test', '!r:fed.test', '$e')).rejects.toMatchObject({ code: 'too-large' });
    await expect(c.getState('fed.test', '!r:fed.test', '$e')).rejects.toMatchObject({ code: 'bad-response' });
    await c.close();
  });

  it("reads a body past the JSON parser's default limit (16 MiB) up to its own cap (64 MiB)", async () => {
    const devices = { method: 'GET', path: '/_matrix/federation/v1/user/devices/%40u%3Afed.test' } as const;
    const { c } = client();
    const r = (await c.request('fed.test', devices)) as { state: string[] };
    expect(r.state[0]).toHaveLength(17 * 1024 * 1024);
    // And the same body over a smaller cap is too large, not "not JSON".
    const small = client({ max: 16 * 1024 * 1024 }).c;
    await expect(small.request('fed.test', devices)).rejects.toMatchObject({ code: 'too-large', errcode: 'M_UNKNOWN' });
    await c.close();
    await small.close();
  });

  it('refuses a body that is not UTF-8 (not replaced by U+FFFD)', async () => {
    const { c } = client();
    const e = (await c
      .request('fed.test', { method: 'GET', path: '/_matrix/federation/v1/openid/userinfo' })
      .catch((x: unknown) => x)) as FederationError;
    expect(e).toMatchObject({ code: 'bad-response', message: expect.stringContaining('UTF-8') });
    // The parser's error is the cause.
    expect(e.cause).toBeInstanceOf(InvalidInputError);
    expect(e.cause).toMatchObject({ errcode: 'M_NOT_JSON' });
    await c.close();
  });

  it('times out a server that never answers', async () => {
    const { c } = client({ timeoutMs: 300 });
    await expect(c.getEventAuth('fed.test', '!r:fed.test', '$e')).rejects.toMatchObject({ code: 'timeout' });
    await c.close();
  });

  it('resolves with the spec discovery by default, which refuses loopback addresses (SSRF)', async () => {
    const c = new FederationClient({ serverName: 'us.test', sign: () => 'X-Matrix', ca: ca.certPem });
    const before = seen.length;
    const e = (await c.getVersion(`${ADDRESS}:${port}`).catch((x: unknown) => x)) as FederationError;
    // The resolver's DiscoveryError is the cause, and gives its errcode.
    expect(e).toMatchObject({ code: 'discovery', errcode: 'M_FORBIDDEN' });
    expect(e.cause).toBeInstanceOf(DiscoveryError);
    expect(e.cause).toMatchObject({ code: 'blocked-address', errcode: 'M_FORBIDDEN' });
    expect(seen.length).toBe(before);
    await c.close();
  });

  it('reports a destination that cannot be resolved', async () => {
    const nxdomain = new Error('NXDOMAIN');
    const c = new FederationClient({
      serverName: 'us.test',
      sign: () => 'X-Matrix',
      resolve: async () => {
        throw nxdomain;
      },
    });
    await expect(c.getVersion('nowhere.test')).rejects.toMatchObject({
      code: 'discovery',
      errcode: 'M_UNKNOWN',
      cause: nxdomain,
    });
  });
});

describe('FederationClient: diagnostics channels', () => {
  /** Collects what `name` publishes while `fn` runs. */
  async function collect(name: string, fn: () => Promise<void>): Promise<unknown[]> {
    const got: unknown[] = [];
    const listener = (m: unknown) => got.push(m);
    subscribe(name, listener);
    try {
      await fn();
    } finally {
      unsubscribe(name, listener);
    }
    return got;
  }

  it('publishes each request when it ends: destination, origin, method, path, status, duration, error', async () => {
    let now = 3_000_000;
    const { c } = client({ now: () => now });
    const requests = await collect(FEDERATION_REQUEST_CHANNEL, async () => {
      await c.getVersion('fed.test', { origin: 'them.test' });
      await c.keyTransport().fetchJson('fed.test', { method: 'GET', path: '/_matrix/key/v2/server' });
      await c.getEvent('fed.test', '$e').catch(() => undefined);
      await c.getVersion('fed.test').catch(() => undefined); // backed off: no answer
    });
    expect(requests).toEqual([
      {
        destination: 'fed.test',
        origin: 'them.test',
        method: 'GET',
        path: '/_matrix/federation/v1/version',
        status: 200,
        durationMs: expect.any(Number),
        error: undefined,
      },
      expect.objectContaining({ origin: undefined, path: '/_matrix/key/v2/server', status: 200, error: undefined }),
      expect.objectContaining({
        origin: 'us.test',
        path: '/_matrix/federation/v1/event/%24e',
        status: 500,
        error: expect.objectContaining({ code: 'remote', status: 500 }),
      }),
      expect.objectContaining({ status: undefined, error: expect.objectContaining({ code: 'backoff' }) }),
    ]);
    for (const r of requests as FederationRequestMessage[]) expect(r.durationMs).toBeGreaterThanOrEqual(0);
    // Back-off changes: the failure, and its reset.
    const backoff = await collect(FEDERATION_BACKOFF_CHANNEL, async () => {
      now += 60_000;
      await c.getEvent('fed.test', '$e').catch(() => undefined);
      c.resetBackoff('fed.test');
    });
    expect(backoff).toEqual([
      { destination: 'fed.test', state: { failures: 2, retryAt: now + 120_000 } },
      { destination: 'fed.test', state: undefined },
    ]);
    await c.close();
  });
});

describe('FederationClient: cancelling with a signal', () => {
  it('rejects at once with the reason of a signal already aborted, sending nothing', async () => {
    const { c, signed } = client();
    const before = seen.length;
    const reason = new Error('shutting down');
    await expect(c.getVersion('fed.test', { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(signed).toHaveLength(0);
    expect(seen.length).toBe(before);
    await c.close();
  });

  it('aborts a request waiting for the answer, and does not back the destination off', async () => {
    // A deadline far beyond the test's: only the signal can end the request in time.
    const { c } = client({ timeoutMs: 600_000 });
    const controller = new AbortController();
    const pending = c.getEventAuth('fed.test', '!r:fed.test', '$e', { signal: controller.signal });
    await new Promise((r) => setTimeout(r, 100));
    const reason = new Error('client went away');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    // Not backed off: the next request is made.
    await expect(c.getVersion('fed.test')).resolves.toBeDefined();
    await c.close();
  });

  it('aborts while the body is read, and releases the bytes it held (maxBufferedBytes)', async () => {
    const { c } = client({ timeoutMs: 600_000, buffered: 2_000 });
    const controller = new AbortController();
    const stall = { method: 'GET', path: '/_matrix/federation/v1/stall' } as const;
    const pending = c.request('fed.test', stall, { signal: controller.signal });
    await new Promise((r) => setTimeout(r, 100));
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    // 1,500 bytes more fit under the 2,000 only if the stalled body's were released.
    await expect(c.request('fed.test', { method: 'GET', path: '/_matrix/federation/v1/fifteen' })).resolves.toEqual({
      x: 'a'.repeat(1500),
    });
    await c.close();
  });

  it('passes the signal to the resolver, and stops waiting for one that does not heed it', async () => {
    let given: AbortSignal | undefined;
    let calls = 0;
    const c = new FederationClient({
      serverName: 'us.test',
      sign: () => 'X-Matrix',
      // Never answers the first time.
      resolve: (_name, options) => {
        given = options?.signal;
        return ++calls === 1
          ? new Promise(() => undefined)
          : Promise.resolve({ address: NOBODY, port, hostHeader: 'x' });
      },
      allow: ['127.0.0.0/8'],
    });
    const controller = new AbortController();
    const pending = c.getVersion('fed.test', { signal: controller.signal });
    await new Promise((r) => setImmediate(r));
    const reason = new Error('stop');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    expect(given?.aborted).toBe(true);
    // Not backed off: the next request is made (and refused by nobody).
    await expect(c.getVersion('fed.test')).rejects.toMatchObject({ code: 'network' });
    await c.close();
  });

  it('aborts a key transport request', async () => {
    const { c } = client({ timeoutMs: 600_000 });
    const controller = new AbortController();
    const pending = c
      .keyTransport()
      .fetchJson(
        'fed.test',
        { method: 'GET', path: '/_matrix/federation/v1/event_auth/x' },
        { signal: controller.signal },
      );
    await new Promise((r) => setTimeout(r, 100));
    const reason = new Error('stop');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    await c.close();
  });
});

describe('FederationClient: the addresses discovery gives, in order', () => {
  const target = (address: string, p: number) => ({ port: p, addresses: [address] });

  it('tries the next address, then the next target, while connecting is refused', async () => {
    const { c } = client({
      dest: { targets: [target(NOBODY, port), { port, addresses: [NOBODY, ADDRESS, SECOND] }] },
    });
    const before = seen.length;
    const secondBefore = seenBySecond.length;
    expect(await c.getVersion('fed.test')).toEqual({ server: { name: 'stub', version: '1' } });
    // The first address that connected answered; the later one was not asked.
    expect(seen.length).toBe(before + 1);
    expect(seen.at(-1)).toMatchObject({ host: 'fed.test', sni: 'fed.test' });
    expect(seenBySecond.length).toBe(secondBefore);
    await c.close();
  });

  it('tries the next address when a connection attempt times out (TLS handshake never answered)', async () => {
    const { c } = client({
      connectTimeoutMs: 200,
      dest: { targets: [target(ADDRESS, silentPort), target(SECOND, secondPort)] },
    });
    const before = seenBySecond.length;
    expect(await c.getVersion('fed.test')).toBeDefined();
    expect(seenBySecond.length).toBe(before + 1);
    await c.close();
  });

  it('does not try another address after an HTTP error, or a certificate not valid for the name', async () => {
    const before = seenBySecond.length;
    const { c } = client({ dest: { targets: [target(ADDRESS, port), target(SECOND, secondPort)] } });
    await expect(c.getEvent('fed.test', '$e')).rejects.toMatchObject({ code: 'remote', status: 500 });
    await c.close();
    const tls = client({ dest: { targets: [target(WRONG_CERT, wrongCertPort), target(SECOND, secondPort)] } }).c;
    await expect(tls.getVersion('fed.test')).rejects.toMatchObject({ code: 'network' });
    await tls.close();
    expect(seenBySecond.length).toBe(before);
  });

  it('reports the first failure when every address refuses, and backs the destination off', async () => {
    let now = 5_000_000;
    const { c } = client({ now: () => now, dest: { targets: [target(NOBODY, port), target('127.0.0.10', port)] } });
    const e = (await c.getVersion('fed.test').catch((x: unknown) => x)) as FederationError;
    expect(e).toMatchObject({ code: 'network', message: expect.stringContaining(`${NOBODY}:${port}`) });
    await expect(c.getVersion('fed.test')).rejects.toMatchObject({ code: 'backoff' });
    now += 60_001;
    const none = client({ dest: { targets: [] } }).c;
    await expect(none.getVersion('fed.test')).rejects.toMatchObject({ code: 'network' });
    await c.close();
    await none.close();
  });
});

describe('FederationClient.keyTransport', () => {
  it('is a keyring transport: unsigned requests, bytes parsed by the keyring', async () => {
    const { c } = client();
    const keyring = new Keyring({ transport: c.keyTransport() });
    const before = seen.length;
    const keys = await keyring.getKeys('fed.test', ['ed25519:a']);
    expect(encodeBase64(keys.get('ed25519:a')?.key.bytes ?? new Uint8Array())).toBe(encodeBase64(FED_KEY.publicKey));
    expect(seen.slice(before)).toEqual([
      expect.objectContaining({
        method: 'GET',
        url: '/_matrix/key/v2/server',
        host: 'fed.test',
        authorization: undefined,
      }),
    ]);
    const body = await c.keyTransport().fetchJson('fed.test', { method: 'GET', path: '/_matrix/key/v2/server' });
    expect(body).toBeInstanceOf(Uint8Array);
    await c.close();
  });

  it("stops reading at its byte limit (the keyring's), and rejects an error status", async () => {
    const { c } = client();
    const size = Buffer.byteLength(JSON.stringify(fedKeys()));
    const get = { method: 'GET', path: '/_matrix/key/v2/server' } as const;
    await expect(c.keyTransport({ maxBytes: size - 1 }).fetchJson('fed.test', get)).rejects.toMatchObject({
      code: 'too-large',
    });
    expect(await c.keyTransport({ maxBytes: size }).fetchJson('fed.test', get)).toHaveLength(size);
    const limited = new Keyring({ transport: c.keyTransport({ maxBytes: 100 }), limits: { maxBytes: 100 } });
    expect((await limited.getKeys('fed.test', ['ed25519:a'])).size).toBe(0);
    await expect(
      c.keyTransport().fetchJson('fed.test', { method: 'GET', path: '/_matrix/key/v2/missing' }),
    ).rejects.toMatchObject({ code: 'remote', status: 404 });
    await c.close();
  });

  it("fetches keys from a destination backed off for other requests (as Synapse's key fetchers do)", async () => {
    const now = 9_000_000;
    const { c } = client({ now: () => now });
    await expect(c.getEvent('fed.test', '$e')).rejects.toMatchObject({ code: 'remote', status: 500 });
    await expect(c.getVersion('fed.test')).rejects.toMatchObject({ code: 'backoff' });
    const body = await c.keyTransport().fetchJson('fed.test', { method: 'GET', path: '/_matrix/key/v2/server' });
    expect(body).toBeInstanceOf(Uint8Array);
    await c.close();
  });
});

describe('FederationClient endpoints, as the spec defines them', () => {
  const event = { type: 'm.room.member', state_key: '@u:us.test', content: { membership: 'knock' } };
  const room = '!r:fed.test';
  // Each: the call, then method, path and query, and body, written from the
  // spec's data/api/server-server/*.yaml (path parameters percent-encoded).
  const cases: [string, (c: FederationClient) => Promise<unknown>, string, string, unknown, boolean][] = [
    // keys_server.yaml: GET /_matrix/key/v2/server, no authentication.
    ['getServerKeys', (c) => c.getServerKeys('fed.test'), 'GET', '/_matrix/key/v2/server', undefined, false],
    // keys_query.yaml: POST /_matrix/key/v2/query {server_keys: {server: {key ID: {minimum_valid_until_ts}}}}.
    [
      'queryKeys',
      (c) => c.queryKeys('fed.test', { 'a.example': { 'ed25519:1': { minimum_valid_until_ts: 5 } }, 'b.example': {} }),
      'POST',
      '/_matrix/key/v2/query',
      { server_keys: { 'a.example': { 'ed25519:1': { minimum_valid_until_ts: 5 } }, 'b.example': {} } },
      false,
    ],
    // knocks.yaml: GET /make_knock/{roomId}/{userId}?ver=… (repeated, required).
    [
      'makeKnock',
      (c) => c.makeKnock('fed.test', room, '@u:us.test', ['7', '10']),
      'GET',
      '/_matrix/federation/v1/make_knock/!r%3Afed.test/%40u%3Aus.test?ver=7&ver=10',
      undefined,
      true,
    ],
    // knocks.yaml: PUT /v1/send_knock/{roomId}/{eventId}, the knock event as the body.
    [
      'sendKnock',
      (c) => c.sendKnock('fed.test', room, '$k', event),
      'PUT',
      '/_matrix/federation/v1/send_knock/!r%3Afed.test/%24k',
      event,
      true,
    ],
    // invites-v2.yaml: PUT /v2/invite/{roomId}/{eventId} {room_version, event, invite_room_state}.
    [
      'invite',
      (c) =>
        c.invite('fed.test', room, '$i', {
          event,
          roomVersion: '10',
          inviteRoomState: [{ type: 'm.room.name', state_key: '', content: { name: 'n' }, sender: '@a:fed.test' }],
        }),
      'PUT',
      '/_matrix/federation/v2/invite/!r%3Afed.test/%24i',
      {
        event,
        room_version: '10',
        invite_room_state: [{ type: 'm.room.name', state_key: '', content: { name: 'n' }, sender: '@a:fed.test' }],
      },
      true,
    ],
    // transactions.yaml: PUT /v1/send/{txnId} {origin, origin_server_ts, pdus, edus}.
    [
      'sendTransaction',
      (c) =>
        c.sendTransaction('fed.test', 'txn 1', [event], {
          edus: [{ edu_type: 'm.typing', content: {} }],
          originServerTs: 1234,
        }),
      'PUT',
      '/_matrix/federation/v1/send/txn%201',
      { origin: 'us.test', origin_server_ts: 1234, pdus: [event], edus: [{ edu_type: 'm.typing', content: {} }] },
      true,
    ],
    // backfill.yaml: POST /v1/get_missing_events/{roomId} {limit, min_depth, earliest_events, latest_events}.
    [
      'getMissingEvents',
      (c) =>
        c.getMissingEvents('fed.test', room, {
          earliestEvents: ['$a'],
          latestEvents: ['$b', '$c'],
          limit: 5,
          minDepth: 2,
        }),
      'POST',
      '/_matrix/federation/v1/get_missing_events/!r%3Afed.test',
      { earliest_events: ['$a'], latest_events: ['$b', '$c'], limit: 5, min_depth: 2 },
      true,
    ],
    // The spec's defaults: limit 10, min_depth 0.
    [
      'getMissingEvents (defaults)',
      (c) => c.getMissingEvents('fed.test', room, { earliestEvents: [], latestEvents: ['$b'] }),
      'POST',
      '/_matrix/federation/v1/get_missing_events/!r%3Afed.test',
      { earliest_events: [], latest_events: ['$b'], limit: 10, min_depth: 0 },
      true,
    ],
    // backfill.yaml: GET /v1/backfill/{roomId}?v=…&limit=… (v repeated; both required).
    [
      'backfill',
      (c) => c.backfill('fed.test', room, ['$a', '$b:x'], 7),
      'GET',
      '/_matrix/federation/v1/backfill/!r%3Afed.test?v=%24a&v=%24b%3Ax&limit=7',
      undefined,
      true,
    ],
  ];

  it.each(cases)('%s', async (_, call, method, url, body, isSigned) => {
    const { c, signed } = client();
    const before = seen.length;
    await call(c);
    const got = seen.slice(before);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ method, url, host: 'fed.test' });
    expect(got[0]?.body === '' ? undefined : JSON.parse(got[0]?.body ?? '')).toEqual(body);
    if (isSigned) {
      expect(signed).toEqual([
        {
          method,
          uri: url,
          origin: 'us.test',
          destination: 'fed.test',
          ...(body === undefined ? {} : { content: body }),
        },
      ]);
      expect(got[0]?.authorization).toMatch(/^X-Matrix /);
    } else {
      expect(signed).toEqual([]);
      expect(got[0]?.authorization).toBeUndefined();
    }
    await c.close();
  });
});

/** Collects garbage (exposed the way Node allows at run time), so that heapUsed is what is held. */
const collectGarbage = (() => {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

const KiB = 1024;
/**
 * A JSON body of `bytes` bytes: an object with the members `members` (JSON
 * text of members and a comma, for the members an endpoint's response
 * requires), padded with a string.
 */
const padded = (bytes: number, members = '') => `{${members}"pad":"${'a'.repeat(bytes - 10 - members.length)}"}`;

describe('FederationClient: response caps fitted to each endpoint', () => {
  const room = '!r:fed.test';
  // A PDU is at most 65,536 bytes of Canonical JSON (spec: "Size limits"); Synapse sends JSON
  // with Python's ensure_ascii, each non-ASCII character as \uXXXX: 'é' (2 bytes) as 6, 3x.
  const event = {
    type: 'm.room.message',
    room_id: room,
    sender: '@u:fed.test',
    content: { body: 'é'.repeat(32_600) },
  };
  const asSynapseWrites = (v: unknown) =>
    JSON.stringify(v).replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

  it('takes the largest PDU as Synapse writes it from the endpoints that answer one event', async () => {
    expect(Buffer.byteLength(JSON.stringify(event))).toBeLessThanOrEqual(65_536);
    const body = asSynapseWrites({ origin: 'fed.test', origin_server_ts: 1, pdus: [event] });
    expect(body.length).toBeGreaterThan(190 * KiB);
    await withRoutes([['/_matrix/federation/v1/event/', (res) => json(res, 200, body)]], async () => {
      const { c } = client();
      expect(await c.getEvent('fed.test', '$e')).toMatchObject({ pdus: [event] });
      await c.close();
    });
  });

  it('refuses, before parsing, more than 256 KiB from them (and more than 1 MiB from the key endpoints)', async () => {
    const over = padded(256 * KiB + 1);
    const overKeys = padded(1024 * KiB + 1);
    const single: [string, (c: FederationClient) => Promise<unknown>][] = [
      ['/_matrix/federation/v1/version', (c) => c.getVersion('fed.test')],
      ['/_matrix/federation/v1/query/profile', (c) => c.queryProfile('fed.test', '@u:fed.test')],
      ['/_matrix/federation/v1/make_join/', (c) => c.makeJoin('fed.test', room, '@u:us.test', ['10'])],
      ['/_matrix/federation/v1/make_leave/', (c) => c.makeLeave('fed.test', room, '@u:us.test')],
      ['/_matrix/federation/v1/make_knock/', (c) => c.makeKnock('fed.test', room, '@u:us.test', ['10'])],
      ['/_matrix/federation/v1/event/', (c) => c.getEvent('fed.test', '$e')],
      ['/_matrix/federation/v2/invite/', (c) => c.invite('fed.test', room, '$i', { event, roomVersion: '10' })],
      ['/_matrix/federation/v2/send_leave/', (c) => c.sendLeave('fed.test', room, '$l', event)],
      ['/_matrix/federation/v1/send/', (c) => c.sendTransaction('fed.test', 't', [])],
    ];
    const keys: [string, (c: FederationClient) => Promise<unknown>][] = [
      ['/_matrix/key/v2/server', (c) => c.getServerKeys('fed.test')],
      ['/_matrix/key/v2/query', (c) => c.queryKeys('fed.test', {})],
    ];
    const cases = [
      ...single.map(([p, call]) => [p, call, over] as const),
      ...keys.map(([p, call]) => [p, call, overKeys] as const),
    ];
    const { c } = client();
    for (const [prefix, call, body] of cases) {
      await withRoutes([[prefix, (res) => json(res, 200, body)]], async () => {
        const e = await call(c).catch((x: unknown) => x);
        expect(e, prefix).toMatchObject({ code: 'too-large', message: expect.stringMatching(/larger than \d+ bytes/) });
      });
    }
    // The endpoints that answer many events take it (up to maxResponseBytes, 64 MiB by default).
    const ids = padded(1024 * KiB + 1, '"pdu_ids":[],"auth_chain_ids":[],');
    await withRoutes([['/_matrix/federation/v1/state_ids/', (res) => json(res, 200, ids)]], async () => {
      expect(await c.getStateIds('fed.test', room, '$e')).toHaveProperty('pad');
    });
    await c.close();
  });

  it('caps backfill and get_missing_events at 256 KiB a PDU of their limit, and one for the envelope', async () => {
    const { c } = client();
    await withRoutes(
      [
        ['/_matrix/federation/v1/backfill/', (res) => json(res, 200, padded(512 * KiB + 1, '"pdus":[],'))],
        ['/_matrix/federation/v1/get_missing_events/', (res) => json(res, 200, padded(512 * KiB + 1, '"events":[],'))],
      ],
      async () => {
        await expect(c.backfill('fed.test', room, ['$a'], 1)).rejects.toMatchObject({ code: 'too-large' });
        await expect(c.backfill('fed.test', room, ['$a'], 2)).resolves.toHaveProperty('pad');
        await expect(
          c.getMissingEvents('fed.test', room, { earliestEvents: [], latestEvents: ['$b'], limit: 1 }),
        ).rejects.toMatchObject({ code: 'too-large' });
        await expect(
          c.getMissingEvents('fed.test', room, { earliestEvents: [], latestEvents: ['$b'] }),
        ).resolves.toHaveProperty('pad');
      },
    );
    await c.close();
  });

  it('never goes above maxResponseBytes', async () => {
    const { c } = client({ max: 100 * KiB });
    await withRoutes([['/_matrix/federation/v1/make_join/', (res) => json(res, 200, padded(100 * KiB + 1))]], () =>
      expect(c.makeJoin('fed.test', room, '@u:us.test', ['10'])).rejects.toMatchObject({ code: 'too-large' }),
    );
    await c.close();
  });
});

describe('FederationClient: typed responses', () => {
  const room = '!r:fed.test';
  const pdu = { type: 'm.room.message', sender: '@u:fed.test', content: { body: 'hi' } };
  // Each endpoint: its route, the call, a response as the spec's examples
  // (data/api/server-server/*.yaml) shape it, and responses missing a
  // member it requires or holding one of another type, with the member
  // the refusal names.
  const cases: [string, string, (c: FederationClient) => Promise<unknown>, unknown, [unknown, string][]][] = [
    [
      'makeJoin',
      '/_matrix/federation/v1/make_join/',
      (c) => c.makeJoin('fed.test', room, '@u:us.test', ['10']),
      { room_version: '10', event: pdu },
      [
        [{ room_version: '10' }, 'with no event'],
        [{ room_version: 10, event: pdu }, 'whose room_version is not a string'],
        [{ event: [pdu] }, 'whose event is not an object'],
      ],
    ],
    [
      'makeLeave',
      '/_matrix/federation/v1/make_leave/',
      (c) => c.makeLeave('fed.test', room, '@u:us.test'),
      { event: pdu },
      [[{ event: 'x' }, 'whose event is not an object']],
    ],
    [
      'makeKnock',
      '/_matrix/federation/v1/make_knock/',
      (c) => c.makeKnock('fed.test', room, '@u:us.test', ['10']),
      { room_version: '10', event: pdu },
      [[{}, 'with no event']],
    ],
    [
      'sendJoin',
      '/_matrix/federation/v2/send_join/',
      (c) => c.sendJoin('fed.test', room, '$j', pdu),
      {
        origin: 'fed.test',
        state: [pdu],
        auth_chain: [pdu],
        event: pdu,
        members_omitted: true,
        servers_in_room: ['a'],
      },
      [
        [{ auth_chain: [] }, 'with no state'],
        [{ state: [] }, 'with no auth_chain'],
        [{ state: [pdu, 'x'], auth_chain: [] }, 'whose state is not a list of objects'],
        [{ state: [], auth_chain: {} }, 'whose auth_chain is not a list of objects'],
        [{ state: [], auth_chain: [], members_omitted: 'yes' }, 'whose members_omitted is not a boolean'],
        [{ state: [], auth_chain: [], servers_in_room: [1] }, 'whose servers_in_room is not a list of strings'],
      ],
    ],
    [
      'sendKnock',
      '/_matrix/federation/v1/send_knock/',
      (c) => c.sendKnock('fed.test', room, '$k', pdu),
      { knock_room_state: [pdu] },
      [[{ knock_state_events: [pdu] }, 'with no knock_room_state']],
    ],
    [
      'invite',
      '/_matrix/federation/v2/invite/',
      (c) => c.invite('fed.test', room, '$i', { event: pdu, roomVersion: '10' }),
      { event: pdu },
      [[{ event: null }, 'whose event is not an object']],
    ],
    [
      'sendTransaction',
      '/_matrix/federation/v1/send/',
      (c) => c.sendTransaction('fed.test', 't', [pdu]),
      { pdus: { $a: {}, $b: { error: 'You are not allowed to send a message to this room.' } } },
      [
        [{}, 'with no pdus'],
        [{ pdus: [] }, 'whose pdus is not an object of objects'],
        [{ pdus: { $a: 'ok' } }, 'whose pdus is not an object of objects'],
      ],
    ],
    [
      'getEvent',
      '/_matrix/federation/v1/event/',
      (c) => c.getEvent('fed.test', '$e'),
      { origin: 'fed.test', origin_server_ts: 1234567890, pdus: [pdu] },
      [
        [{ origin: 'fed.test' }, 'with no pdus'],
        [{ origin: 5, pdus: [] }, 'whose origin is not a string'],
      ],
    ],
    [
      'backfill',
      '/_matrix/federation/v1/backfill/',
      (c) => c.backfill('fed.test', room, ['$a'], 3),
      { origin: 'fed.test', origin_server_ts: 1234567890, pdus: [pdu] },
      [[{ pdus: {} }, 'whose pdus is not a list of objects']],
    ],
    [
      'getState',
      '/_matrix/federation/v1/state/',
      (c) => c.getState('fed.test', room, '$e'),
      { auth_chain: [pdu], pdus: [pdu] },
      [
        [{ pdus: [] }, 'with no auth_chain'],
        [{ auth_chain: [] }, 'with no pdus'],
      ],
    ],
    [
      'getStateIds',
      '/_matrix/federation/v1/state_ids/',
      (c) => c.getStateIds('fed.test', room, '$e'),
      { auth_chain_ids: ['$a'], pdu_ids: ['$b'] },
      [
        [{ auth_chain_ids: [] }, 'with no pdu_ids'],
        [{ auth_chain_ids: [], pdu_ids: [1] }, 'whose pdu_ids is not a list of strings'],
      ],
    ],
    [
      'getEventAuth',
      '/_matrix/federation/v1/event_auth/',
      (c) => c.getEventAuth('fed.test', room, '$e'),
      { auth_chain: [pdu] },
      [[{ auth: [] }, 'with no auth_chain']],
    ],
    [
      'getMissingEvents',
      '/_matrix/federation/v1/get_missing_events/',
      (c) => c.getMissingEvents('fed.test', room, { earliestEvents: [], latestEvents: ['$b'] }),
      { events: [pdu] },
      [[{ events: null }, 'whose events is not a list of objects']],
    ],
    [
      'queryProfile',
      '/_matrix/federation/v1/query/profile',
      (c) => c.queryProfile('fed.test', '@u:fed.test'),
      { displayname: 'John Doe', avatar_url: 'mxc://matrix.org/MyC00lAvatar' },
      [[{ displayname: 5 }, 'whose displayname is not a string or null']],
    ],
    [
      'getVersion',
      '/_matrix/federation/v1/version',
      (c) => c.getVersion('fed.test'),
      { server: { name: 'My_Homeserver_Implementation', version: 'ArbitraryVersionNumber' } },
      [[{ name: 'x' }, 'with no server']],
    ],
    [
      'queryKeys',
      '/_matrix/key/v2/query',
      (c) => c.queryKeys('fed.test', {}),
      { server_keys: [{ server_name: 'a.example' }] },
      [[{ server_keys: {} }, 'whose server_keys is not a list of objects']],
    ],
  ];

  it.each(cases)(
    '%s: takes what the spec describes, and refuses a missing or mistyped member',
    async (_, prefix, call, good, bad) => {
      const { c } = client();
      await withRoutes([[prefix, (res) => json(res, 200, JSON.stringify(good))]], async () => {
        expect(await call(c)).toEqual(good);
      });
      for (const [body, problem] of bad) {
        await withRoutes([[prefix, (res) => json(res, 200, JSON.stringify(body))]], async () => {
          const e = await call(c).catch((x: unknown) => x);
          expect(e, JSON.stringify(body)).toBeInstanceOf(FederationError);
          expect(e).toMatchObject({ code: 'bad-response', errcode: 'M_UNKNOWN' });
          expect((e as Error).message).toContain(`answered an object ${problem}`);
        });
      }
      await c.close();
    },
  );

  it('keeps what the spec does not name, as it came', async () => {
    const { c } = client();
    const body = { pdus: [pdu], origin: 'fed.test', origin_server_ts: 1, extra: { x: [1, 2] } };
    await withRoutes([['/_matrix/federation/v1/event/', (res) => json(res, 200, JSON.stringify(body))]], async () => {
      expect(await c.getEvent('fed.test', '$e')).toEqual(body);
    });
    await c.close();
  });
});

describe('FederationClient: hostile responses', () => {
  /** `{"pdus":[[],[],…]}` of about `bytes` bytes: one value per 3 bytes, tens of bytes of heap each. */
  const emptyArrays = (bytes: number) => `{"pdus":[${'[],'.repeat(Math.floor(bytes / 3) - 4)}[]]}`;

  it('six at once, each 2 MiB of []: each refused (by its cap or the bound on values), none held in the heap', async () => {
    const body = emptyArrays(2 * 1024 * KiB);
    const room = '!r:fed.test';
    const calls: [string, (c: FederationClient) => Promise<unknown>][] = [
      ['/_matrix/federation/v1/make_join/', (c) => c.makeJoin('fed.test', room, '@u:us.test', ['10'])],
      ['/_matrix/federation/v1/make_leave/', (c) => c.makeLeave('fed.test', room, '@u:us.test')],
      ['/_matrix/federation/v1/event/', (c) => c.getEvent('fed.test', '$e')],
      ['/_matrix/federation/v2/send_join/', (c) => c.sendJoin('fed.test', room, '$j', {})],
      ['/_matrix/federation/v1/state/', (c) => c.getState('fed.test', room, '$e')],
      ['/_matrix/federation/v1/event_auth/', (c) => c.getEventAuth('fed.test', room, '$e')],
    ];
    const { c } = client();
    await withRoutes(
      calls.map(([prefix]) => [prefix, (res) => json(res, 200, body)]),
      async () => {
        collectGarbage();
        const before = process.memoryUsage().heapUsed;
        const outcomes = await Promise.allSettled(calls.map(([, call]) => call(c)));
        collectGarbage();
        const held = process.memoryUsage().heapUsed - before;
        const refusals = outcomes.map((o) => (o.status === 'rejected' ? (o.reason as FederationError) : undefined));
        // The first three by their 256 KiB cap, before anything is parsed; the endpoints that
        // answer many events (64 MiB) by the values the body holds: ~700,000, where 2 MiB may
        // hold 32,768 (one dense PDU) + one per 16 bytes.
        const allowed = 32_768 + Math.floor(body.length / 16);
        expect(refusals.map((e) => e?.code)).toEqual(Array(6).fill('too-large'));
        expect(refusals.slice(0, 3).map((e) => e?.message)).toEqual(
          Array(3).fill(expect.stringContaining('larger than 262144 bytes')),
        );
        expect(refusals.slice(3).map((e) => e?.message)).toEqual(
          Array(3).fill(expect.stringContaining(`more than ${allowed} values`)),
        );
        // Parsed whole, the six would hold some 4 million arrays: over 100 MiB.
        expect(held).toBeLessThan(16 * 1024 * KiB);
      },
    );
    await c.close();
  });

  it('takes a large response of events as servers send them (one value per ~30 bytes)', async () => {
    const id = (i: number) => `$${String(i).padStart(43, 'A')}`;
    const member = (i: number) => ({
      auth_events: [id(1), id(2), id(3)],
      content: { displayname: `user ${i}`, membership: 'join' },
      depth: i,
      hashes: { sha256: 'B'.repeat(43) },
      origin: 'fed.test',
      origin_server_ts: 1_700_000_000_000 + i,
      prev_events: [id(i - 1)],
      room_id: '!r:fed.test',
      sender: `@user${i}:fed.test`,
      signatures: { 'fed.test': { 'ed25519:a': 'C'.repeat(86) } },
      state_key: `@user${i}:fed.test`,
      type: 'm.room.member',
      unsigned: { age_ts: 1_700_000_000_000 },
    });
    const state = Array.from({ length: 7_000 }, (_, i) => member(i));
    const body = JSON.stringify({ state, auth_chain: [] });
    expect(body.length).toBeGreaterThan(4 * 1024 * KiB);
    const { c } = client();
    await withRoutes([['/_matrix/federation/v2/send_join/', (res) => json(res, 200, body)]], async () => {
      const r = await c.sendJoin('fed.test', '!r:fed.test', '$j', {});
      expect(r.state).toHaveLength(7_000);
    });
    await c.close();
  });

  it('refuses state made dense by its events unless minBytesPerValue allows it', async () => {
    // Events of the densest kind a PDU can be (a content of zeros: one value per 2 bytes),
    // as room members may plant in their own member events: valid, but past the default
    // bound of one value per 16 bytes; a client told to pay 2 bytes a value takes them.
    const dense = (i: number) => ({
      type: 'm.room.member',
      state_key: `@u${i}:fed.test`,
      content: { z: Array(30_000).fill(0) },
    });
    const body = JSON.stringify({ state: Array.from({ length: 8 }, (_, i) => dense(i)), auth_chain: [] });
    for (const [bytesPerValue, outcome] of [
      [undefined, 'too-large'],
      [2, 'taken'],
    ] as const) {
      const { c } = client(bytesPerValue === undefined ? {} : { bytesPerValue });
      await withRoutes([['/_matrix/federation/v2/send_join/', (res) => json(res, 200, body)]], async () => {
        const r = await c.sendJoin('fed.test', '!r:fed.test', '$j', {}).then(
          () => 'taken',
          (e: FederationError) => {
            // Refused by the parser's bound on values: its error is the cause.
            expect(e.cause).toMatchObject({ errcode: 'M_TOO_LARGE' });
            return e.code;
          },
        );
        expect(r).toBe(outcome);
      });
      await c.close();
    }
  });

  it('holds at most maxBufferedBytes of bodies at once: past it a response fails busy, and is released after', async () => {
    // Two responses that send 600 KiB each and hold their end back: together past the 1 MiB.
    let release = () => {};
    const released = new Promise<void>((r) => {
      release = r;
    });
    const hold: Route = [
      '/_matrix/federation/v1/hold',
      (res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write(`{"pad":"${'a'.repeat(600 * KiB)}`);
        void released.then(() => res.end('"}'));
      },
    ];
    const req: FederationRequest = { method: 'GET', path: '/_matrix/federation/v1/hold' };
    const { c } = client({ buffered: 1024 * KiB });
    await withRoutes([hold], async () => {
      const settle = (p: Promise<unknown>) =>
        p.then(
          () => 'ok',
          (e: unknown) => (e as FederationError).code,
        );
      const both = [settle(c.request('fed.test', req)), settle(c.request('fed.test', req))];
      // Neither can finish while held: the first to settle is the one refused.
      expect(await Promise.race(both)).toBe('busy');
      release();
      expect((await Promise.all(both)).sort()).toEqual(['busy', 'ok']);
      // What both held was given back: one such response alone goes through again.
      expect(await settle(c.request('fed.test', req))).toBe('ok');
    });
    // The refusal is ours, not the destination's: it is not backed off.
    await expect(c.getVersion('fed.test')).resolves.toBeDefined();
    await c.close();
  });

  it("escapes control characters in the remote error and errcode, and bounds the message's length", async () => {
    const error = `\u001b[31mred\u001b[0m\r\n2024-01-01 FAKE LOG LINE \u009b2J \u202eevil ${'x'.repeat(10_000)}`;
    const body = JSON.stringify({ errcode: 'M_\u001b[1mBAD', error });
    const { c } = client();
    await withRoutes([['/_matrix/federation/v1/query/directory', (res) => json(res, 400, body)]], async () => {
      const e = (await c
        .request('fed.test', { method: 'GET', path: '/_matrix/federation/v1/query/directory' })
        .catch((x: unknown) => x)) as FederationError;
      expect(e).toMatchObject({ code: 'remote', status: 400, remoteErrcode: 'M_\\u001b[1mBAD' });
      expect(e.message).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028-\u202e]/);
      expect(e.message).toContain(
        '\\u001b[31mred\\u001b[0m\\u000d\\u000a2024-01-01 FAKE LOG LINE \\u009b2J \\u202eevil',
      );
      expect(e.message.length).toBeLessThanOrEqual(1_000);
      expect(e.message.endsWith('…')).toBe(true);
    });
    await c.close();
  });
});

describe('FederationClient: whatever the resolver gives passes the address policy', () => {
  const strict = (dest: FederationDestination, o: { allow?: string[]; policy?: AddressPolicy } = {}) =>
    new FederationClient({
      serverName: 'us.test',
      sign: () => 'X-Matrix',
      ca: ca.certPem,
      resolve: async () => dest,
      ...o,
    });
  const at = (address: string): FederationDestination => ({
    address,
    port,
    hostHeader: 'fed.test',
    tlsServerName: 'fed.test',
  });

  it('refuses loopback, private and non-IP addresses from a custom resolver, before connecting', async () => {
    const before = seen.length;
    const refused: [FederationDestination, string][] = [
      [at(ADDRESS), '127.0.0.0/8'],
      [at('::ffff:127.0.0.5'), '127.0.0.0/8'],
      [at('10.1.2.3'), '10.0.0.0/8'],
      // A hostname would be resolved again by the connection, unchecked.
      [at('localhost'), 'not an IP address'],
      // Every address of every target, not only the first.
      [
        {
          ...at('8.8.8.8'),
          targets: [
            { port, addresses: ['8.8.8.8'] },
            { port, addresses: [ADDRESS] },
          ],
        },
        '127.0.0.0/8',
      ],
    ];
    for (const [dest, why] of refused) {
      const c = strict(dest);
      const e = (await c.getVersion('fed.test').catch((x: unknown) => x)) as FederationError;
      expect(e, dest.address).toBeInstanceOf(FederationError);
      expect(e, dest.address).toMatchObject({ code: 'discovery', message: expect.stringContaining(why) });
      expect(e.cause, dest.address).toMatchObject({ code: 'blocked-address', errcode: 'M_FORBIDDEN' });
      expect(e.errcode, dest.address).toBe('M_FORBIDDEN');
      await c.close();
    }
    // The key transport too.
    const k = strict(at(ADDRESS));
    await expect(
      k.keyTransport().fetchJson('fed.test', { method: 'GET', path: '/_matrix/key/v2/server' }),
    ).rejects.toMatchObject({ code: 'discovery' });
    await k.close();
    expect(seen.length).toBe(before);
  });

  it('connects where the policy allows, given as allow or as a policy', async () => {
    for (const o of [{ allow: ['127.0.0.5'] }, { policy: new AddressPolicy({ allow: ['127.0.0.0/8'] }) }]) {
      const c = strict(at(ADDRESS), o);
      expect(await c.getVersion('fed.test')).toEqual({ server: { name: 'stub', version: '1' } });
      await c.close();
    }
  });
});
