/**
 * Real parts for the server-discovery tests: a DNS zone served by dnsmasq on
 * a loopback port (and the same zone as an in-memory resolver), a test CA
 * and server certificate made with the openssl CLI, and HTTPS servers on
 * 127.0.0.x that answer the well-known by host name. `setup.sh` installs
 * dnsmasq and openssl.
 */

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { Resolver } from 'node:dns/promises';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressRecord, DnsResolver } from '../../../src/federation/discovery/dns.js';
import type { SrvRecord } from '../../../src/federation/discovery/srv.js';

/** An SRV record of a zone; `'.'` as the target means "no service". */
export interface ZoneSrv {
  readonly target: string;
  readonly port: number;
  readonly priority: number;
  readonly weight: number;
}

/** A DNS zone: names to addresses, SRV names to records, aliases. */
export interface Zone {
  readonly a?: Readonly<Record<string, readonly string[]>>;
  readonly aaaa?: Readonly<Record<string, readonly string[]>>;
  readonly srv?: Readonly<Record<string, readonly ZoneSrv[]>>;
  readonly cname?: Readonly<Record<string, string>>;
  /** Names (and their subdomains) whose queries fail (REFUSED by dnsmasq, ESERVFAIL in memory). */
  readonly failing?: readonly string[];
}

/** The TTL of every record of a zone. */
export const ZONE_TTL = 60;

function dnsError(code: string, name: string): Error {
  return Object.assign(new Error(`${code} ${name}`), { code });
}

/** The zone as an in-memory {@link DnsResolver}, answering as `node:dns` does. */
export function memoryDns(zone: Zone): DnsResolver & { queries: string[] } {
  const queries: string[] = [];
  const known = (name: string) =>
    name in (zone.a ?? {}) || name in (zone.aaaa ?? {}) || name in (zone.srv ?? {}) || name in (zone.cname ?? {});
  const failing = (name: string) => (zone.failing ?? []).some((f) => name === f || name.endsWith(`.${f}`));
  const addresses = async (name: string, table: Readonly<Record<string, readonly string[]>> | undefined) => {
    let n = name;
    for (let i = 0; i < 8 && zone.cname?.[n] !== undefined; i++) n = zone.cname[n] as string;
    if (failing(n)) throw dnsError('ESERVFAIL', name);
    const found = table?.[n];
    if (found === undefined || found.length === 0) throw dnsError(known(n) ? 'ENODATA' : 'ENOTFOUND', name);
    return found.map((address): AddressRecord => ({ address, ttl: ZONE_TTL }));
  };
  return {
    queries,
    async resolveSrv(name: string): Promise<SrvRecord[]> {
      queries.push(`SRV ${name}`);
      if (failing(name)) throw dnsError('ESERVFAIL', name);
      const records = zone.srv?.[name];
      if (records === undefined) throw dnsError('ENOTFOUND', name);
      return records.map((r) => ({
        name: r.target === '.' ? '' : r.target,
        port: r.target === '.' ? 0 : r.port,
        priority: r.priority,
        weight: r.weight,
      }));
    },
    async resolve4(name: string): Promise<AddressRecord[]> {
      queries.push(`A ${name}`);
      return addresses(name, zone.a);
    },
    async resolve6(name: string): Promise<AddressRecord[]> {
      queries.push(`AAAA ${name}`);
      return addresses(name, zone.aaaa);
    },
  };
}

/** dnsmasq's configuration lines for a zone (authoritative for `.test`, nothing forwarded). */
export function dnsmasqConfig(zone: Zone, port: number): string {
  const lines = [
    `port=${port}`,
    'listen-address=127.0.0.1',
    'bind-interfaces',
    'no-resolv',
    'no-hosts',
    'no-poll',
    'no-negcache',
    'local=/test/',
    `local-ttl=${ZONE_TTL}`,
  ];
  for (const [name, ips] of Object.entries(zone.a ?? {})) for (const ip of ips) lines.push(`host-record=${name},${ip}`);
  for (const [name, ips] of Object.entries(zone.aaaa ?? {}))
    for (const ip of ips) lines.push(`host-record=${name},${ip}`);
  for (const [name, records] of Object.entries(zone.srv ?? {})) {
    for (const r of records) {
      lines.push(
        r.target === '.' ? `srv-host=${name}` : `srv-host=${name},${r.target},${r.port},${r.priority},${r.weight}`,
      );
    }
  }
  for (const [alias, target] of Object.entries(zone.cname ?? {})) lines.push(`cname=${alias},${target}`);
  // A forwarder for the failing names that is not there: dnsmasq answers REFUSED.
  for (const name of zone.failing ?? []) lines.push(`server=/${name}/127.0.0.1#1`);
  return `${lines.join('\n')}\n`;
}

/** Where dnsmasq is, or undefined. */
export function dnsmasqPath(): string | undefined {
  for (const p of ['/usr/sbin/dnsmasq', '/usr/bin/dnsmasq', '/usr/local/sbin/dnsmasq']) if (existsSync(p)) return p;
  return undefined;
}

/** A running dnsmasq. */
export interface RunningDns {
  /** `127.0.0.1:port`, for `setServers`. */
  readonly server: string;
  stop(): Promise<void>;
}

/**
 * The two DNS backends every scenario runs on: dnsmasq (started in a
 * `beforeAll`, hence the getter) and the same zone in memory.
 */
export function dnsBackends(dnsmasq: () => RunningDns, zone: () => Zone): [string, () => DnsResolver][] {
  return [
    [
      'dnsmasq',
      () => {
        const r = new Resolver({ timeout: 1000, tries: 1 });
        r.setServers([dnsmasq().server]);
        return r;
      },
    ],
    ['the in-memory resolver', () => memoryDns(zone())],
  ];
}

/** Starts dnsmasq on a free loopback port serving `zone`, and waits until it answers. */
export async function startDnsmasq(zone: Zone, probe: string): Promise<RunningDns> {
  const bin = dnsmasqPath();
  if (bin === undefined) throw new Error('dnsmasq is not installed: run bash test/federation/discovery/setup.sh');
  const dir = mkdtempSync(join(tmpdir(), 'discovery-dns-'));
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 40_000);
    const conf = join(dir, 'dnsmasq.conf');
    writeFileSync(conf, dnsmasqConfig(zone, port));
    const child = spawn(
      bin,
      ['--keep-in-foreground', `--conf-file=${conf}`, '--log-facility=-', '--pid-file=', `--user=${userName()}`],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const server = `127.0.0.1:${port}`;
    const ready = await waitForDns(server, probe, exited);
    if (ready) {
      return {
        server,
        stop: async () => {
          child.kill('SIGTERM');
          await exited;
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    await stopChild(child, exited);
    if (!/Address already in use|failed to create listening socket/i.test(stderr)) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`dnsmasq did not start: ${stderr}`);
    }
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error('dnsmasq: no free port found');
}

function userName(): string {
  // dnsmasq drops privileges to "nobody" when started as root; stay ourselves.
  return execFileSync('id', ['-un'], { encoding: 'utf8' }).trim();
}

async function stopChild(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode === null) child.kill('SIGTERM');
  await exited;
}

async function waitForDns(server: string, probe: string, exited: Promise<unknown>): Promise<boolean> {
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const resolver = new Resolver({ timeout: 200, tries: 1 });
  resolver.setServers([server]);
  for (let i = 0; i < 50 && !gone; i++) {
    try {
      await resolver.resolve4(probe);
      return true;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return false;
}

/** A test CA and a server certificate for the given names and IP addresses. */
export interface Pki {
  readonly ca: string;
  readonly key: string;
  readonly cert: string;
}

/** Makes a P-256 CA and a server certificate signed by it, with the openssl CLI. */
export function makePki(names: readonly string[], ips: readonly string[]): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'discovery-pki-'));
  const f = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
    openssl(
      'req',
      '-x509',
      ...ec,
      '-keyout',
      f('ca.key'),
      '-out',
      f('ca.crt'),
      '-days',
      '2',
      '-subj',
      '/CN=discovery test CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    );
    openssl(
      'req',
      '-new',
      ...ec,
      '-keyout',
      f('srv.key'),
      '-out',
      f('srv.csr'),
      '-subj',
      `/CN=${names[0] ?? 'server'}`,
    );
    const san = [...names.map((n) => `DNS:${n}`), ...ips.map((ip) => `IP:${ip}`)].join(',');
    writeFileSync(f('ext.cnf'), `subjectAltName=${san}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`);
    openssl(
      'x509',
      '-req',
      '-in',
      f('srv.csr'),
      '-CA',
      f('ca.crt'),
      '-CAkey',
      f('ca.key'),
      '-CAcreateserial',
      '-out',
      f('srv.crt'),
      '-days',
      '2',
      '-extfile',
      f('ext.cnf'),
    );
    const read = (name: string) => readFileSync(f(name), 'utf8');
    return { ca: read('ca.crt'), key: read('srv.key'), cert: read('srv.crt') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** How a well-known server answers one host: a handler, called with the path. */
export type Route = (path: string, req: IncomingMessage, res: ServerResponse) => void;

/** HTTPS servers on several loopback addresses, one port, answering by host name. */
export interface WellKnownServers {
  /** The port every server listens on. */
  readonly port: number;
  /** Requests seen, as `ip host path`. */
  readonly requests: string[];
  /** How many requests each host got. */
  count(host: string): number;
  stop(): Promise<void>;
}

/** Starts one HTTPS server per address in `ips`, all on the same port, routing by the Host header. */
export async function startWellKnownServers(
  pki: Pki,
  ips: readonly string[],
  routes: Readonly<Record<string, Route>>,
): Promise<WellKnownServers> {
  const requests: string[] = [];
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const host = (req.headers.host ?? '').replace(/:\d+$/, '');
    const path = req.url ?? '/';
    requests.push(`${req.socket.localAddress} ${host} ${path}`);
    const route = routes[host];
    if (route === undefined) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"errcode":"M_NOT_FOUND"}');
      return;
    }
    route(path, req, res);
  };
  for (let attempt = 0; attempt < 20; attempt++) {
    const servers: Server[] = [];
    try {
      let port = 0;
      for (const ip of ips) {
        const server = createServer({ key: pki.key, cert: pki.cert }, handler);
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(port, ip, () => resolve());
        });
        servers.push(server);
        const address = server.address();
        if (port === 0 && address !== null && typeof address === 'object') port = address.port;
      }
      return {
        port,
        requests,
        count: (host) => requests.filter((r) => r.split(' ')[1] === host).length,
        stop: async () => {
          await Promise.all(
            servers.map(
              (s) =>
                new Promise<void>((resolve) => {
                  s.closeAllConnections();
                  s.close(() => resolve());
                }),
            ),
          );
        },
      };
    } catch (e) {
      for (const s of servers) s.close();
      if ((e as { code?: string }).code !== 'EADDRINUSE') throw e;
    }
  }
  throw new Error('no port free on every address');
}

/** A well-known answer: JSON body, status 200 unless given, extra headers. */
export function json(body: unknown, headers: Record<string, string> = {}, status = 200): Route {
  return (_path, _req, res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
  };
}

/** A raw answer. */
export function raw(body: string | Uint8Array, headers: Record<string, string> = {}, status = 200): Route {
  return (_path, _req, res) => {
    res.writeHead(status, headers).end(body);
  };
}

/** A redirect to `location`. */
export function redirect(location: string | ((path: string) => string), status = 302): Route {
  return (path, _req, res) => {
    res.writeHead(status, { location: typeof location === 'string' ? location : location(path) }).end();
  };
}

/** A clock the test moves. */
export class FakeClock {
  /** Milliseconds since the epoch. */
  ms: number;
  constructor(start = Date.UTC(2025, 0, 1)) {
    this.ms = start;
  }
  /** The clock function to inject. */
  readonly now = (): number => this.ms;
  /** Moves the clock forward. */
  advance(seconds: number): void {
    this.ms += seconds * 1000;
  }
}
