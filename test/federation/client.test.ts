/**
 * The federation client against a real HTTPS server on loopback, with a
 * certificate from a CA the test makes: TLS server name and Host header,
 * signing, bodies, errors, limits and back-off.
 */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonFloat } from '../../src/canonicaljson/index.js';
import {
  FederationClient,
  type FederationDestination,
  FederationError,
  type RequestToSign,
} from '../../src/federation/client.js';
import { createTestCa, type TestCa } from '../interop/live/certs.js';

interface Seen {
  method: string;
  url: string;
  host: string | undefined;
  sni: string | false | null | undefined;
  authorization: string | undefined;
  body: string;
}

const ADDRESS = '127.0.0.5';
let ca: TestCa;
let server: Server;
let port: number;
const seen: Seen[] = [];
/** What the server answers, by path prefix. */
const routes: [string, (res: import('node:http').ServerResponse) => void][] = [];

beforeAll(async () => {
  ca = createTestCa();
  const leaf = ca.issue({ ips: [ADDRESS], dns: ['fed.test'] });
  server = createServer({ cert: leaf.certPem, key: leaf.keyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({
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
  await new Promise<void>((resolve) => server.listen(0, ADDRESS, resolve));
  port = (server.address() as AddressInfo).port;
  routes.push(
    ['/_matrix/federation/v1/version', (res) => json(res, 200, '{"server":{"name":"stub","version":"1"}}')],
    ['/_matrix/federation/v1/query/profile', (res) => json(res, 403, '{"errcode":"M_FORBIDDEN","error":"no"}')],
    ['/_matrix/federation/v1/event/', (res) => json(res, 500, '{"errcode":"M_UNKNOWN"}')],
    [
      '/_matrix/federation/v1/state_ids/',
      (res) => json(res, 200, `{"big":${'9'.repeat(30)},"f":1.5,"x":"${'a'.repeat(5000)}"}`),
    ],
    ['/_matrix/federation/v1/state/', (res) => json(res, 200, 'not json')],
    ['/_matrix/federation/v1/event_auth/', () => {}],
    ['/_matrix/federation/v2/send_join/', (res) => json(res, 200, '{"state":[],"auth_chain":[]}')],
  );
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function json(res: import('node:http').ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(body);
}

function client(
  o: { dest?: Partial<FederationDestination>; now?: () => number; timeoutMs?: number; max?: number } = {},
) {
  const signed: RequestToSign[] = [];
  const c = new FederationClient({
    serverName: 'us.test',
    sign: (r) => {
      signed.push(r);
      return `X-Matrix origin="us.test",destination="${r.destination}",key="ed25519:k",sig="s${signed.length}"`;
    },
    resolve: async () => ({ address: ADDRESS, port, hostHeader: 'fed.test', tlsServerName: 'fed.test', ...o.dest }),
    ca: ca.certPem,
    ...(o.now !== undefined ? { now: o.now } : {}),
    timeoutMs: o.timeoutMs ?? 5_000,
    ...(o.max !== undefined ? { maxResponseBytes: o.max } : {}),
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
    expect(signed).toEqual([{ method: 'GET', uri: '/_matrix/federation/v1/version', destination: 'fed.test' }]);
    await c.close();
  });

  it('sends the body it signed, encodes path segments, and keeps the query in the signed URI', async () => {
    const { c, signed } = client();
    const event = { type: 'm.room.member', content: { membership: 'join' }, depth: 2n ** 60n, f: new JsonFloat(0.5) };
    await c.sendJoin('fed.test', '!room:fed.test', '$a/b+c', event, true);
    const last = seen.at(-1) as Seen;
    expect(last.url).toBe('/_matrix/federation/v2/send_join/!room%3Afed.test/%24a%2Fb%2Bc?omit_members=true');
    expect(last.body).toBe(
      '{"content":{"membership":"join"},"depth":1152921504606846976,"f":0.5,"type":"m.room.member"}',
    );
    expect(signed[0]).toMatchObject({ method: 'PUT', uri: last.url, content: event });
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
    await expect(c.getVersion('other.test')).rejects.toMatchObject({ kind: 'network' });
    await c.close();
  });

  it('gives the remote errcode and status, without backing off for a 4xx', async () => {
    const { c } = client();
    const e = (await c.queryProfile('fed.test', '@u:fed.test').catch((x: unknown) => x)) as FederationError;
    expect(e).toBeInstanceOf(FederationError);
    expect(e).toMatchObject({ kind: 'remote', status: 403, errcode: 'M_FORBIDDEN', destination: 'fed.test' });
    await expect(c.getVersion('fed.test')).resolves.toBeDefined();
    await c.close();
  });

  it('backs a destination off after a 5xx until the wait is over', async () => {
    let now = 1_000_000;
    const { c } = client({ now: () => now });
    await expect(c.getEvent('fed.test', '$e')).rejects.toMatchObject({ kind: 'remote', status: 500 });
    const before = seen.length;
    await expect(c.getVersion('fed.test')).rejects.toMatchObject({ kind: 'backoff', retryAt: 1_060_000 });
    expect(seen.length).toBe(before);
    now += 60_001;
    await expect(c.getVersion('fed.test')).resolves.toBeDefined();
    await c.close();
  });

  it('refuses responses over the size cap, and bodies that are not JSON', async () => {
    const { c } = client({ max: 1_000 });
    await expect(c.getStateIds('fed.test', '!r:fed.test', '$e')).rejects.toMatchObject({ kind: 'too_large' });
    await expect(c.getState('fed.test', '!r:fed.test', '$e')).rejects.toMatchObject({ kind: 'bad_response' });
    await c.close();
  });

  it('times out a server that never answers', async () => {
    const { c } = client({ timeoutMs: 300 });
    await expect(c.getEventAuth('fed.test', '!r:fed.test', '$e')).rejects.toMatchObject({ kind: 'timeout' });
    await c.close();
  });

  it('resolves with the spec discovery by default, which refuses loopback addresses (SSRF)', async () => {
    const c = new FederationClient({ serverName: 'us.test', sign: () => 'X-Matrix', ca: ca.certPem });
    const before = seen.length;
    await expect(c.getVersion(`${ADDRESS}:${port}`)).rejects.toMatchObject({ kind: 'discovery' });
    expect(seen.length).toBe(before);
    await c.close();
  });

  it('reports a destination that cannot be resolved', async () => {
    const c = new FederationClient({
      serverName: 'us.test',
      sign: () => 'X-Matrix',
      resolve: async () => {
        throw new Error('NXDOMAIN');
      },
    });
    await expect(c.getVersion('nowhere.test')).rejects.toMatchObject({ kind: 'discovery' });
  });
});
