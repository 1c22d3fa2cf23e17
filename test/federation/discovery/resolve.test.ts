/**
 * Every step of the spec's "Resolving server names" (server-server API),
 * against real parts: DNS answered by dnsmasq on a loopback port, and the
 * same zone through an injected in-memory resolver; well-known files served
 * by real HTTPS servers on 127.0.0.x with a test CA. Expected values are
 * written from the spec's text (quoted per group), not from our output.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../src/errors.js';
import type { DnsResolver } from '../../../src/federation/discovery/dns.js';
import { DiscoveryError, type DiscoveryErrorCode } from '../../../src/federation/discovery/errors.js';
import {
  type ResolvedServer,
  resolveServerName,
  ServerResolver,
  type ServerResolverOptions,
  SPEC_STEPS,
} from '../../../src/federation/discovery/resolve.js';
import {
  dnsBackends,
  FakeClock,
  makePki,
  memoryDns,
  type Pki,
  type RunningDns,
  startDnsmasq,
  startWellKnownServers,
  type WellKnownServers,
} from './harness.js';
import { ALLOW, DEAD, PRIVATE, routes, TARGET, TARGET2, WELL_KNOWN_HOSTS, WK, WK2, ZONE } from './world.js';

let pki: Pki;
let dnsmasq: RunningDns;
let servers: WellKnownServers;
let lateRoutes: ReturnType<typeof routes> = {};

beforeAll(async () => {
  pki = makePki([...WELL_KNOWN_HOSTS, 'notfound.test'], [WK, WK2, PRIVATE]);
  // The routes need the port, known once the servers listen: route through a late-bound table.
  const table = new Proxy({} as ReturnType<typeof routes>, {
    get: (_t, host: string) => lateRoutes[host],
  });
  servers = await startWellKnownServers(pki, [WK, WK2, PRIVATE], table);
  lateRoutes = routes(servers.port);
  dnsmasq = await startDnsmasq(ZONE, 'target.test');
});

afterAll(async () => {
  await servers?.stop();
  await dnsmasq?.stop();
});

/** The parts of a result the spec determines, in a form that reads well in a failed expectation. */
function view(r: ResolvedServer) {
  return {
    via: r.via,
    address: r.address,
    port: r.port,
    hostHeader: r.hostHeader,
    tlsServerName: r.tlsServerName ?? null,
    delegatedServerName: r.delegatedServerName ?? null,
    wellKnownError: r.wellKnownError?.code ?? null,
    targets: r.targets.map((t) => `${t.host} ${t.port} ${t.addresses.join(',')}`),
  };
}

type View = ReturnType<typeof view>;
const none = { tlsServerName: null, delegatedServerName: null, wellKnownError: null };

/** A scenario: a server name and the expected result or error code. */
interface Scenario {
  readonly name: string;
  readonly expected: View | { readonly error: string };
}

// Step 1: "If the hostname is an IP literal, then that IP address should be used, together
// with the given port number, or 8448 if no port is given. The target server must present a
// valid certificate for the IP address. The Host header in the request should be set to the
// server name, including the port if the server name included one."
const step1: Scenario[] = [
  {
    name: '127.0.0.5',
    expected: {
      via: 'ip-literal',
      address: TARGET,
      port: 8448,
      hostHeader: '127.0.0.5',
      ...none,
      targets: [`${TARGET} 8448 ${TARGET}`],
    },
  },
  {
    name: '127.0.0.5:1234',
    expected: {
      via: 'ip-literal',
      address: TARGET,
      port: 1234,
      hostHeader: '127.0.0.5:1234',
      ...none,
      targets: [`${TARGET} 1234 ${TARGET}`],
    },
  },
  {
    name: '[::1]',
    expected: {
      via: 'ip-literal',
      address: '::1',
      port: 8448,
      hostHeader: '[::1]',
      ...none,
      targets: ['::1 8448 ::1'],
    },
  },
  {
    name: '[0:0::1]:1234',
    expected: {
      via: 'ip-literal',
      address: '::1',
      port: 1234,
      hostHeader: '[0:0::1]:1234',
      ...none,
      targets: ['::1 1234 ::1'],
    },
  },
  // Not allowlisted: loopback outside the allowlist, private, link-local, IPv4-mapped private.
  { name: '127.0.0.9', expected: { error: 'blocked-address' } },
  { name: '10.0.0.1:8448', expected: { error: 'blocked-address' } },
  { name: '[fe80::1]', expected: { error: 'blocked-address' } },
  { name: '[::ffff:192.168.1.1]', expected: { error: 'blocked-address' } },
  // A leading zero: decimal to the grammar, octal to inet_aton and URL parsers.
  { name: '010.0.0.1', expected: { error: 'ambiguous-ip-literal' } },
  { name: '1.2.3.04:8448', expected: { error: 'ambiguous-ip-literal' } },
  // Port 0: in the grammar ("port = 1*5DIGIT"), but nothing can be connected to there (RFC 6335).
  { name: '127.0.0.5:0', expected: { error: 'invalid-port' } },
  { name: '[::1]:00', expected: { error: 'invalid-port' } },
];

// Step 2: "If the hostname is not an IP literal, and the server name includes an explicit
// port, resolve the hostname to an IP address using CNAME, AAAA or A records. Requests are
// made to the resolved IP address and given port with a Host header of the original server
// name (with port). The target server must present a valid certificate for the hostname."
const step2: Scenario[] = [
  {
    name: 'target.test:1234',
    expected: {
      via: 'explicit-port',
      address: TARGET,
      port: 1234,
      hostHeader: 'target.test:1234',
      ...none,
      tlsServerName: 'target.test',
      targets: [`target.test 1234 ${TARGET}`],
    },
  },
  {
    name: 'dual.test:1234',
    expected: {
      via: 'explicit-port',
      address: '::1',
      port: 1234,
      hostHeader: 'dual.test:1234',
      ...none,
      tlsServerName: 'dual.test',
      targets: [`dual.test 1234 ::1,${TARGET}`],
    },
  },
  {
    name: 'alias.test:1234',
    expected: {
      via: 'explicit-port',
      address: TARGET,
      port: 1234,
      hostHeader: 'alias.test:1234',
      ...none,
      tlsServerName: 'alias.test',
      targets: [`alias.test 1234 ${TARGET}`],
    },
  },
  // The well-known is not consulted when there is a port, even where there is one.
  {
    name: 'delegated-port.test:8448',
    expected: {
      via: 'explicit-port',
      address: WK,
      port: 8448,
      hostHeader: 'delegated-port.test:8448',
      ...none,
      tlsServerName: 'delegated-port.test',
      targets: [`delegated-port.test 8448 ${WK}`],
    },
  },
  { name: 'nx.test:1234', expected: { error: 'not-found' } },
  { name: 'private.test:1234', expected: { error: 'blocked-address' } },
  // One refused address among allowed ones refuses the name (as Synapse, against DNS rebinding).
  { name: 'mixed.test:1234', expected: { error: 'blocked-address' } },
  { name: 'ten.test:1234', expected: { error: 'blocked-address' } },
  { name: 'mapped.test:1234', expected: { error: 'blocked-address' } },
  // Port 0, even for a name that resolves and whose well-known delegates.
  { name: 'target.test:0', expected: { error: 'invalid-port' } },
  { name: 'delegated-port.test:0', expected: { error: 'invalid-port' } },
];

const delegatedTo = (
  name: string,
  via: View['via'],
  delegated: string,
  address: string,
  port: number,
  hostHeader: string,
  tlsServerName: string | null,
  targetHost: string,
): Scenario => ({
  name,
  expected: {
    via,
    address,
    port,
    hostHeader,
    tlsServerName,
    delegatedServerName: delegated,
    wellKnownError: null,
    targets: [`${targetHost} ${port} ${address}`],
  },
});

// Step 3: "a regular HTTPS request is made to https://<hostname>/.well-known/matrix/server
// [...] If the response is valid, the m.server property is parsed as
// <delegated_hostname>[:<delegated_port>] and processed as follows:"
const step3: Scenario[] = [
  // 3.1: "If <delegated_hostname> is an IP literal, then that IP address should be used together
  // with the <delegated_port> or 8448 if no port is provided. The target server must present a
  // valid TLS certificate for the IP address. Requests must be made with a Host header
  // containing the IP address, including the port if one was provided."
  delegatedTo(
    'delegated-ip.test',
    'well-known-ip-literal',
    '127.0.0.5:8449',
    TARGET,
    8449,
    '127.0.0.5:8449',
    null,
    TARGET,
  ),
  delegatedTo(
    'delegated-ip-noport.test',
    'well-known-ip-literal',
    '127.0.0.5',
    TARGET,
    8448,
    '127.0.0.5',
    null,
    TARGET,
  ),
  delegatedTo('delegated-ip6.test', 'well-known-ip-literal', '[::1]:8450', '::1', 8450, '[::1]:8450', null, '::1'),
  { name: 'delegated-private-ip.test', expected: { error: 'blocked-address' } },
  // 3.2: "If <delegated_hostname> is not an IP literal, and <delegated_port> is present, an IP
  // address is discovered by looking up CNAME, AAAA or A records for <delegated_hostname>. The
  // resulting IP address is used, alongside the <delegated_port>. Requests must be made with a
  // Host header of <delegated_hostname>:<delegated_port>. The target server must present a
  // valid certificate for <delegated_hostname>."
  delegatedTo(
    'delegated-port.test',
    'well-known-explicit-port',
    'target.test:8443',
    TARGET,
    8443,
    'target.test:8443',
    'target.test',
    'target.test',
  ),
  { name: 'delegated-private.test', expected: { error: 'blocked-address' } },
  // 3.3: "If <delegated_hostname> is not an IP literal and no <delegated_port> is present, an SRV
  // record is looked up for _matrix-fed._tcp.<delegated_hostname>. This may result in another
  // hostname (to be resolved using AAAA or A records) and port. Requests should be made to the
  // resolved IP address and port with a Host header containing the <delegated_hostname>. The
  // target server must present a valid certificate for <delegated_hostname>."
  delegatedTo(
    'delegated-srv.test',
    'well-known-srv',
    'deleg-srv-host.test',
    TARGET2,
    7777,
    'deleg-srv-host.test',
    'deleg-srv-host.test',
    'target2.test',
  ),
  // 3.4: "[Deprecated] [...] and a _matrix-fed._tcp.<delegated_hostname> SRV record was not found,
  // an SRV record is looked up for _matrix._tcp.<delegated_hostname>. [...] a Host header
  // containing the <delegated_hostname>."
  delegatedTo(
    'delegated-legacy.test',
    'well-known-srv-legacy',
    'deleg-legacy-host.test',
    TARGET,
    6666,
    'deleg-legacy-host.test',
    'deleg-legacy-host.test',
    'target.test',
  ),
  // 3.5: "If no SRV record is found, an IP address is resolved using CNAME, AAAA or A records.
  // Requests are then made to the resolved IP address and a port of 8448, using a Host header of
  // <delegated_hostname>. The target server must present a valid certificate for
  // <delegated_hostname>."
  delegatedTo(
    'delegated-plain.test',
    'well-known-default-port',
    'deleg-plain-host.test',
    TARGET2,
    8448,
    'deleg-plain-host.test',
    'deleg-plain-host.test',
    'deleg-plain-host.test',
  ),
  // The body is JSON whatever the content type says; other fields are ignored.
  delegatedTo(
    'textplain.test',
    'well-known-explicit-port',
    'target.test:8443',
    TARGET,
    8443,
    'target.test:8443',
    'target.test',
    'target.test',
  ),
  delegatedTo(
    'nocontenttype.test',
    'well-known-explicit-port',
    'target.test:8443',
    TARGET,
    8443,
    'target.test:8443',
    'target.test',
    'target.test',
  ),
  delegatedTo(
    'extra-fields.test',
    'well-known-explicit-port',
    'target.test:8443',
    TARGET,
    8443,
    'target.test:8443',
    'target.test',
    'target.test',
  ),
  // "30x redirects should be followed, however redirection loops should be avoided."
  delegatedTo(
    'redirect.test',
    'well-known-explicit-port',
    'target.test:9001',
    TARGET,
    9001,
    'target.test:9001',
    'target.test',
    'target.test',
  ),
  delegatedTo(
    'redirect-relative.test',
    'well-known-explicit-port',
    'target.test:9002',
    TARGET,
    9002,
    'target.test:9002',
    'target.test',
    'target.test',
  ),
  delegatedTo(
    'redirect-303.test',
    'well-known-explicit-port',
    'target.test:9001',
    TARGET,
    9001,
    'target.test:9001',
    'target.test',
    'target.test',
  ),
  delegatedTo(
    'redirect-307.test',
    'well-known-explicit-port',
    'target.test:9001',
    TARGET,
    9001,
    'target.test:9001',
    'target.test',
    'target.test',
  ),
  delegatedTo(
    'redirect-308.test',
    'well-known-explicit-port',
    'target.test:9001',
    TARGET,
    9001,
    'target.test:9001',
    'target.test',
    'target.test',
  ),
  // 20 redirects (Twisted's RedirectAgent limit, which Synapse uses) are followed; 21 are not.
  delegatedTo(
    'redirect-chain20.test',
    'well-known-explicit-port',
    'target.test:9004',
    TARGET,
    9004,
    'target.test:9004',
    'target.test',
    'target.test',
  ),
  // 50 KiB exactly is accepted (Synapse's limit).
  delegatedTo(
    'limit.test',
    'well-known-explicit-port',
    'target.test:9003',
    TARGET,
    9003,
    'target.test:9003',
    'target.test',
    'target.test',
  ),
];

/** A well-known failure: discovery goes on to steps 4–6 on the original hostname. */
const fellThrough = (name: string, wellKnownError: DiscoveryErrorCode, address = WK): Scenario => ({
  name,
  expected: {
    via: 'default-port',
    address,
    port: 8448,
    hostHeader: name,
    tlsServerName: name,
    delegatedServerName: null,
    wellKnownError,
    targets: [`${name} 8448 ${address}`],
  },
});

// "If the response is invalid (bad JSON, missing properties, non-200 response, etc), skip to
// step 4." Step 6: "If the /.well-known request returned an error response, and no SRV records
// were found, an IP address is resolved using CNAME, AAAA and A records. Requests are made to
// the resolved IP address using port 8448 and a Host header containing the <hostname>. The
// target server must present a valid certificate for <hostname>."
const invalidWellKnown: Scenario[] = [
  fellThrough('badjson.test', 'invalid-json'),
  fellThrough('bom.test', 'invalid-json'),
  fellThrough('badutf8.test', 'invalid-json'),
  fellThrough('array.test', 'invalid-well-known'),
  fellThrough('nomserver.test', 'invalid-well-known'),
  fellThrough('numserver.test', 'invalid-well-known'),
  fellThrough('badmserver.test', 'invalid-well-known'),
  fellThrough('emptymserver.test', 'invalid-well-known'),
  fellThrough('portmserver.test', 'invalid-well-known'),
  fellThrough('port0mserver.test', 'invalid-well-known'),
  fellThrough('status204.test', 'http-status'),
  fellThrough('big.test', 'too-large'),
  fellThrough('big-chunked.test', 'too-large'),
  fellThrough('redirect-chain21.test', 'too-many-redirects'),
  fellThrough('redirect-loop.test', 'redirect-loop'),
  fellThrough('redirect-self.test', 'redirect-loop'),
  fellThrough('redirect-http.test', 'insecure-redirect'),
  fellThrough('redirect-nolocation.test', 'http-status'),
  // Redirects into refused addresses: refused before connecting (the server there would delegate).
  fellThrough('redirect-private-ip.test', 'blocked-address'),
  fellThrough('redirect-private-name.test', 'blocked-address'),
  // Nothing listens: a network error.
  fellThrough('dead.test', 'network', DEAD),
];

const viaSrv = (
  name: string,
  via: View['via'],
  targets: string[],
  wellKnownError: DiscoveryErrorCode,
  address: string,
  port: number,
): Scenario => ({
  name,
  expected: {
    via,
    address,
    port,
    hostHeader: name,
    tlsServerName: name,
    delegatedServerName: null,
    wellKnownError,
    targets,
  },
});

// Step 4: "If the /.well-known request resulted in an error response, a server is found by
// resolving an SRV record for _matrix-fed._tcp.<hostname>. This may result in a hostname (to be
// resolved using AAAA or A records) and port. Requests are made to the resolved IP address and
// port, with a Host header of <hostname>. The target server must present a valid certificate
// for <hostname>."
// Step 5: "[Deprecated] If the /.well-known request resulted in an error response, and a
// _matrix-fed._tcp.<hostname> SRV record was not found, a server is found by resolving an SRV
// record for _matrix._tcp.<hostname>."
const steps45: Scenario[] = [
  viaSrv('notfound.test', 'srv', [`target.test 8448 ${TARGET}`], 'http-status', TARGET, 8448),
  viaSrv('error500.test', 'srv-legacy', [`target2.test 8446 ${TARGET2}`], 'http-status', TARGET2, 8446),
  // Priorities: 10 before 20.
  viaSrv(
    'srv-only.test',
    'srv',
    [`target.test 8443 ${TARGET}`, `target2.test 8444 ${TARGET2}`],
    'network',
    TARGET,
    8443,
  ),
  viaSrv('legacy-only.test', 'srv-legacy', [`target2.test 8445 ${TARGET2}`], 'network', TARGET2, 8445),
  // _matrix-fed._tcp wins over _matrix._tcp.
  viaSrv('both-srv.test', 'srv', [`target.test 1111 ${TARGET}`], 'network', TARGET, 1111),
  // A target with a refused address is left out; the next one is used.
  viaSrv('srv-private.test', 'srv', [`target.test 8448 ${TARGET}`], 'network', TARGET, 8448),
  { name: 'srv-allprivate.test', expected: { error: 'blocked-address' } },
  // RFC 2782: a target of "." means "decidedly not available"; Synapse then fails, and so do we.
  { name: 'srv-none.test', expected: { error: 'service-unavailable' } },
  { name: 'srv-nxtarget.test', expected: { error: 'not-found' } },
  // An SRV lookup that fails (not "no records") is not "no SRV record found".
  { name: 'srvfail.test', expected: { error: 'dns-failure' } },
  // The well-known host resolves to a refused address: not fetched, and not a target.
  { name: 'private.test', expected: { error: 'blocked-address' } },
  { name: 'nx.test', expected: { error: 'not-found' } },
];

const groups: [string, Scenario[]][] = [
  ['step 1 (IP literals)', step1],
  ['step 2 (explicit port)', step2],
  ['step 3 (well-known delegation)', step3],
  ['step 3 failures, then step 6', invalidWellKnown],
  ['steps 4 and 5 (SRV)', steps45],
];

const backends = dnsBackends(
  () => dnsmasq,
  () => ZONE,
);

async function outcome(resolver: ServerResolver, name: string): Promise<View | { error: string }> {
  try {
    return view(await resolver.resolve(name));
  } catch (e) {
    if (e instanceof DiscoveryError) return { error: e.code };
    throw e;
  }
}

describe.each(backends)('server discovery with DNS from %s', (_backend, makeDns) => {
  let resolver: ServerResolver;
  let dns: DnsResolver;
  const options = (): ServerResolverOptions => ({
    dns,
    ca: pki.ca,
    allow: ALLOW,
    wellKnownPort: servers.port,
    random: () => 0.5,
  });
  let seenBefore = 0;
  beforeAll(() => {
    seenBefore = servers.requests.length;
    dns = makeDns();
    resolver = new ServerResolver(options());
  });
  afterAll(async () => {
    await resolver.close();
  });

  for (const [group, scenarios] of groups) {
    describe(group, () => {
      it.each(scenarios.map((s) => [s.name, s] as const))('%s', async (_name, s) => {
        expect(await outcome(resolver, s.name)).toEqual(s.expected);
      });
    });
  }

  it('never sends a request to the refused address', () => {
    expect(servers.requests.slice(seenBefore).filter((r) => r.startsWith(`${PRIVATE} `))).toEqual([]);
  });

  it('refuses loopback targets without the allowlist (the default policy)', async () => {
    const strict = new ServerResolver({ ...options(), allow: [] });
    try {
      expect(await outcome(strict, 'target.test:1234')).toEqual({ error: 'blocked-address' });
      expect(await outcome(strict, '127.0.0.5')).toEqual({ error: 'blocked-address' });
      // The well-known host itself is refused too: step 6 then refuses the hostname.
      expect(await outcome(strict, 'delegated-port.test')).toEqual({ error: 'blocked-address' });
    } finally {
      await strict.close();
    }
  });

  it('allows a refused range when it is allowlisted', async () => {
    const open = new ServerResolver({ ...options(), allow: [...ALLOW, PRIVATE] });
    try {
      expect(view(await open.resolve('private.test:1234')).address).toBe(PRIVATE);
      // private.test's well-known (on the allowlisted address) now delegates.
      expect(view(await open.resolve('private.test'))).toMatchObject({
        via: 'well-known-explicit-port',
        delegatedServerName: 'target.test:6660',
      });
    } finally {
      await open.close();
    }
  });

  it('resolveServerName resolves once without keeping a resolver', async () => {
    expect(view(await resolveServerName('delegated-port.test', options()))).toMatchObject({
      via: 'well-known-explicit-port',
      hostHeader: 'target.test:8443',
    });
  });
});

describe('well-known caching against a real server, with a fake clock', () => {
  it('keeps the delegation for max-age, refetching in the last fifth (Synapse), then again', async () => {
    const clock = new FakeClock();
    const resolver = new ServerResolver({
      dns: memoryDns(ZONE),
      ca: pki.ca,
      allow: ALLOW,
      wellKnownPort: servers.port,
      now: clock.now,
    });
    try {
      const before = servers.count('cached.test');
      expect((await resolver.resolve('cached.test')).hostHeader).toBe('target.test:9100');
      expect(servers.count('cached.test')).toBe(before + 1);
      clock.advance(30);
      // Everything is cached (the addresses for their TTL of 60 s): no I/O needed.
      expect(resolver.resolveCached('cached.test')?.hostHeader).toBe('target.test:9100');
      clock.advance(449); // 479 s: max-age=600, refetched from 480 s (600 × 0.8, Synapse's grace)
      await resolver.resolve('cached.test');
      expect(servers.count('cached.test')).toBe(before + 1);
      clock.advance(2);
      expect(resolver.resolveCached('cached.test')).toBeUndefined();
      await resolver.resolve('cached.test');
      expect(servers.count('cached.test')).toBe(before + 2);
      clock.advance(479);
      await resolver.resolve('cached.test');
      expect(servers.count('cached.test')).toBe(before + 2);
      clock.advance(2);
      await resolver.resolve('cached.test');
      expect(servers.count('cached.test')).toBe(before + 3);
    } finally {
      await resolver.close();
    }
  });
});

describe('input', () => {
  it('refuses invalid server names with InvalidInputError M_INVALID_PARAM, before any I/O', async () => {
    const dns = memoryDns(ZONE);
    const resolver = new ServerResolver({ dns, http: { get: () => Promise.reject(new Error('no I/O expected')) } });
    for (const name of ['', 'exa mple.org', 'a.org:', 'a.org:65536', '[::1', 'é.org']) {
      await expect(resolver.resolve(name)).rejects.toBeInstanceOf(InvalidInputError);
      await expect(resolver.resolve(name)).rejects.toMatchObject({ errcode: 'M_INVALID_PARAM' });
      expect(() => resolver.resolveCached(name)).toThrow(InvalidInputError);
    }
    expect(dns.queries).toEqual([]);
  });

  it('numbers every step as the spec does', () => {
    expect(Object.values(SPEC_STEPS)).toEqual(['1', '2', '3.1', '3.2', '3.3', '3.4', '3.5', '4', '5', '6']);
  });
});
