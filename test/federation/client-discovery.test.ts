/**
 * The federation client behind server discovery, end to end with DNS names
 * (spec: server-server API, "Resolving server names"): DNS from dnsmasq on
 * loopback (and the same zone in memory), well-known files and the
 * federation server over HTTPS on 127.0.0.x with a test CA. The server
 * records the TLS SNI, the Host header and the address each request
 * reached; the expected values are the spec's for each step, written here
 * from its text.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServerResolver } from '../../src/federation/discovery/resolve.js';
import { FederationClient } from '../../src/federation/index.js';
import {
  dnsBackends,
  json,
  makePki,
  type Pki,
  type RunningDns,
  startDnsmasq,
  startWellKnownServers,
  type WellKnownServers,
  type Zone,
} from './discovery/harness.js';

/** Serves the well-known files of the delegating names. */
const WK = '127.0.0.21';
/** The federation server the names delegate to. */
const FED = '127.0.0.22';
const ALLOW = ['127.0.0.16/28'];

interface Seen {
  readonly sni: string | false | null;
  readonly host: string | undefined;
  readonly address: string | undefined;
}
const seen: Seen[] = [];

let pki: Pki;
let servers: WellKnownServers;
let dnsmasq: RunningDns;
let zone: Zone;

/** The federation server's version endpoint, recording what reached it. */
function federation(_path: string, req: IncomingMessage, res: ServerResponse): void {
  seen.push({ sni: (req.socket as TLSSocket).servername, host: req.headers.host, address: req.socket.localAddress });
  json({ server: { name: 'stub', version: '1' } })(_path, req, res);
}

beforeAll(async () => {
  pki = makePki(['deleg.test', 'srv-deleg.test', 'fed.test', 'fed-srv.test', 'plain-srv.test'], [WK, FED]);
  let port = 0;
  servers = await startWellKnownServers(pki, [WK, FED], {
    // Step 3.2: a delegated hostname with an explicit port.
    'deleg.test': (path, req, res) => json({ 'm.server': `fed.test:${port}` })(path, req, res),
    // Step 3.3: a delegated hostname without a port, with an SRV record.
    'srv-deleg.test': json({ 'm.server': 'fed-srv.test' }),
    'fed.test': federation,
    'fed-srv.test': federation,
    'plain-srv.test': federation,
  });
  port = servers.port;
  const srv = (target: string) => [{ target, port, priority: 10, weight: 1 }];
  zone = {
    a: { 'deleg.test': [WK], 'srv-deleg.test': [WK], 'fed.test': [FED] },
    srv: {
      '_matrix-fed._tcp.fed-srv.test': srv('fed.test'),
      // Step 4: no well-known (the name has no address), an SRV record.
      '_matrix-fed._tcp.plain-srv.test': srv('fed.test'),
    },
  };
  dnsmasq = await startDnsmasq(zone, 'fed.test');
});

afterAll(async () => {
  await servers?.stop();
  await dnsmasq?.stop();
});

const backends = dnsBackends(
  () => dnsmasq,
  () => zone,
);

describe.each(backends)('a FederationClient request through discovery, DNS from %s', (_name, makeDns) => {
  let resolver: ServerResolver;
  let client: FederationClient;
  beforeAll(() => {
    resolver = new ServerResolver({ dns: makeDns(), ca: pki.ca, allow: ALLOW, wellKnownPort: servers.port });
    client = new FederationClient({
      serverName: 'us.test',
      sign: () => 'X-Matrix origin="us.test"',
      ca: pki.ca,
      resolve: (name) => resolver.resolve(name),
      // The client holds whatever a resolver gives to its own address policy.
      allow: ALLOW,
    });
  });
  afterAll(async () => {
    await client.close();
    await resolver.close();
  });

  async function reach(serverName: string): Promise<Seen> {
    const before = seen.length;
    expect(await client.getVersion(serverName)).toEqual({ server: { name: 'stub', version: '1' } });
    expect(seen).toHaveLength(before + 1);
    return seen[before] as Seen;
  }

  it('3.2 "If <delegated_hostname> includes a port": Host is <delegated_hostname>:<delegated_port>, the certificate is for <delegated_hostname>', async () => {
    expect(await reach('deleg.test')).toEqual({ sni: 'fed.test', host: `fed.test:${servers.port}`, address: FED });
  });

  it('3.3 SRV for the delegated hostname: Host is <delegated_hostname>, the certificate is for <delegated_hostname>', async () => {
    expect(await reach('srv-deleg.test')).toEqual({ sni: 'fed-srv.test', host: 'fed-srv.test', address: FED });
  });

  it('4 no well-known, "_matrix-fed._tcp.<hostname>" SRV: Host is <hostname>, the certificate is for <hostname>', async () => {
    expect(await reach('plain-srv.test')).toEqual({ sni: 'plain-srv.test', host: 'plain-srv.test', address: FED });
  });
});
