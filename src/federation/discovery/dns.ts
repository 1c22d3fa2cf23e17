/**
 * The DNS queries server discovery makes, behind an interface that a
 * `node:dns/promises` `Resolver` satisfies as it is, so tests and
 * applications can inject their own.
 *
 * @module
 */

import { Resolver } from 'node:dns/promises';
import { InvalidInputError } from '../../errors.js';
import { DiscoveryError } from './errors.js';
import type { SrvRecord } from './srv.js';

/** An address record with its time to live. */
export interface AddressRecord {
  /** The IPv4 or IPv6 address. */
  readonly address: string;
  /** Time to live in seconds. */
  readonly ttl: number;
}

/**
 * The DNS queries discovery needs. A `node:dns/promises` `Resolver` is one.
 *
 * "No such records" must be reported as `node:dns` does: a rejection with
 * an error whose `code` is `ENOTFOUND` (NXDOMAIN) or `ENODATA` (the name
 * exists, without records of that type); `ENOTIMP` counts as none too. Any
 * other rejection is a failure to know (`ESERVFAIL`, `ETIMEOUT`, …).
 */
export interface DnsResolver {
  /** SRV records of `name` (e.g. `_matrix-fed._tcp.example.org`). */
  resolveSrv(name: string): Promise<SrvRecord[]>;
  /** A records of `name`, with TTLs. */
  resolve4(name: string, options: { ttl: true }): Promise<AddressRecord[]>;
  /** AAAA records of `name`, with TTLs. */
  resolve6(name: string, options: { ttl: true }): Promise<AddressRecord[]>;
}

/** Options of {@link createDnsResolver}. */
export interface DnsResolverOptions {
  /**
   * Name servers, `node:dns` `setServers` style (`'1.1.1.1'`,
   * `'127.0.0.1:5353'`, `'[::1]:53'`); by default the system's (`/etc/resolv.conf`).
   */
  readonly servers?: readonly string[];
  /** Time limit of one query attempt in milliseconds (default 5000). */
  readonly timeoutMs?: number;
  /** Attempts per name server (default 2). */
  readonly tries?: number;
}

/**
 * A `node:dns/promises` `Resolver` (c-ares: it asks name servers directly
 * and does not read `/etc/hosts`).
 *
 * @param options - name servers and time limits.
 * @throws {@link InvalidInputError} `M_INVALID_PARAM` if a name server is
 *   not an IP address with an optional port (`node:dns`'s error as `cause`).
 */
export function createDnsResolver(options: DnsResolverOptions = {}): DnsResolver {
  const resolver = new Resolver({ timeout: options.timeoutMs ?? 5000, tries: options.tries ?? 2 });
  if (options.servers !== undefined) {
    try {
      resolver.setServers([...options.servers]);
    } catch (e) {
      throw new InvalidInputError('M_INVALID_PARAM', `Invalid name servers: ${(e as Error).message}`, { cause: e });
    }
  }
  return resolver;
}

const NO_RECORDS = new Set(['ENOTFOUND', 'ENODATA', 'ENOTIMP']);

/**
 * Whether a rejection from a {@link DnsResolver} means "no such records"
 * (rather than "could not find out").
 *
 * @param error - what the query rejected with.
 */
export function isNoRecords(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    'code' in error &&
    typeof error.code === 'string' &&
    NO_RECORDS.has(error.code)
  );
}

/** A short description of a DNS rejection for messages. */
export function describeDnsError(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') {
    return error.code;
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * The addresses of `host`: its AAAA and A records (queried together; IPv6
 * first, as the spec lists them), CNAMEs followed by the name server.
 *
 * @param dns - the resolver.
 * @param host - a host name.
 * @throws {@link DiscoveryError} `not-found` if it has neither, `dns-failure`
 * if neither query answered and one failed.
 */
export async function resolveAddresses(dns: DnsResolver, host: string): Promise<AddressRecord[]> {
  const [v6, v4] = await Promise.allSettled([
    callDns(() => dns.resolve6(host, { ttl: true })),
    callDns(() => dns.resolve4(host, { ttl: true })),
  ]);
  const records: AddressRecord[] = [];
  const failures: unknown[] = [];
  for (const r of [v6, v4]) {
    if (r.status === 'fulfilled') records.push(...r.value);
    else if (!isNoRecords(r.reason)) failures.push(r.reason);
  }
  if (records.length > 0) return records;
  if (failures.length > 0) {
    throw new DiscoveryError(
      'dns-failure',
      `looking up the addresses of ${host} failed (${failures.map(describeDnsError).join(', ')})`,
      true,
      { cause: failures.length === 1 ? failures[0] : new AggregateError(failures) },
    );
  }
  throw new DiscoveryError('not-found', `${host} has no A or AAAA records`, true);
}

/** Calls a DNS query, turning a synchronous throw into a rejection and checking the shape of the answer. */
async function callDns<T>(query: () => Promise<T[]>): Promise<T[]> {
  const answer = await query();
  if (!Array.isArray(answer)) throw new Error('the DNS resolver did not answer with an array');
  return answer;
}

/**
 * Calls `resolveSrv`, sorting out "no records" (an empty array) from
 * failures (a rejection with {@link DiscoveryError} `dns-failure`).
 *
 * @param dns - the resolver.
 * @param name - the SRV name, e.g. `_matrix-fed._tcp.example.org`.
 */
export async function resolveSrvRecords(dns: DnsResolver, name: string): Promise<SrvRecord[]> {
  try {
    return await callDns(() => dns.resolveSrv(name));
  } catch (e) {
    if (isNoRecords(e)) return [];
    throw new DiscoveryError('dns-failure', `looking up SRV records of ${name} failed (${describeDnsError(e)})`, true, {
      cause: e,
    });
  }
}
