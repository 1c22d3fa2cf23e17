/**
 * Server discovery: every step of the server-server API's "Resolving server
 * names", from a server name to the addresses and port to connect to, the
 * `Host` header to send and the name the TLS certificate must be valid for.
 *
 * @module
 */

import { isIP } from 'node:net';
import { parseServerName, type ServerName } from '../../identifiers/identifiers.js';
import { type AbortOptions, raceAbort, SharedTask } from '../../util/abort.js';
import { BoundedMap } from '../../util/bounded.js';
import { measured } from '../../util/diagnostics.js';
import { type DiscoveryMessage, discoveryChannel } from '../diagnostics.js';
import { AddressPolicy, canonicalIpAddress, isAmbiguousIPv4Literal } from './addresses.js';
import { cachePeriodFromHeaders, WELL_KNOWN_CACHE } from './cache.js';
import { createDnsResolver, type DnsResolver, resolveAddresses, resolveSrvRecords } from './dns.js';
import { DiscoveryError } from './errors.js';
import { createUndiciTransport, type HttpTransport } from './http.js';
import { orderSrvRecords, type SrvRecord } from './srv.js';
import { fetchWellKnown, WELL_KNOWN_MAX_BYTES, WELL_KNOWN_MAX_REDIRECTS } from './wellknown.js';

/**
 * Which step of "Resolving server names" decided where to connect:
 *
 * | value | spec step |
 * |---|---|
 * | `ip-literal` | 1: the hostname is an IP literal |
 * | `explicit-port` | 2: a hostname with an explicit port |
 * | `well-known-ip-literal` | 3.1: delegated to an IP literal |
 * | `well-known-explicit-port` | 3.2: delegated to a hostname with a port |
 * | `well-known-srv` | 3.3: delegated; SRV `_matrix-fed._tcp.<delegated_hostname>` |
 * | `well-known-srv-legacy` | 3.4: delegated; deprecated SRV `_matrix._tcp.<delegated_hostname>` |
 * | `well-known-default-port` | 3.5: delegated; the delegated hostname on 8448 |
 * | `srv` | 4: SRV `_matrix-fed._tcp.<hostname>` |
 * | `srv-legacy` | 5: deprecated SRV `_matrix._tcp.<hostname>` |
 * | `default-port` | 6: the hostname on 8448 |
 */
export type DiscoveryStep =
  | 'ip-literal'
  | 'explicit-port'
  | 'well-known-ip-literal'
  | 'well-known-explicit-port'
  | 'well-known-srv'
  | 'well-known-srv-legacy'
  | 'well-known-default-port'
  | 'srv'
  | 'srv-legacy'
  | 'default-port';

/** The spec's number for each {@link DiscoveryStep} (server-server API, "Resolving server names"). */
export const SPEC_STEPS: Readonly<Record<DiscoveryStep, string>> = Object.freeze({
  'ip-literal': '1',
  'explicit-port': '2',
  'well-known-ip-literal': '3.1',
  'well-known-explicit-port': '3.2',
  'well-known-srv': '3.3',
  'well-known-srv-legacy': '3.4',
  'well-known-default-port': '3.5',
  srv: '4',
  'srv-legacy': '5',
  'default-port': '6',
});

/** One place to connect to: a host's addresses and a port. */
export interface ResolvedTarget {
  /** What was resolved: the (delegated) hostname, an SRV target, or the IP literal itself. */
  readonly host: string;
  /** The port. */
  readonly port: number;
  /** Its addresses, every one allowed by the address policy: IPv6 first, then IPv4. */
  readonly addresses: readonly string[];
}

/** Where and how to connect to a server. */
export interface ResolvedServer {
  /** The server name that was resolved. */
  readonly serverName: string;
  /** The IP address to connect to: the first of `targets[0].addresses`. */
  readonly address: string;
  /** The port to connect to: `targets[0].port`. */
  readonly port: number;
  /**
   * The `Host` header to send: the server name, or the delegated server name
   * (with its port, if it has one) when the well-known delegated.
   */
  readonly hostHeader: string;
  /**
   * The TLS server name (SNI) and the name the certificate must be valid
   * for: the hostname, or the delegated hostname. Absent when connecting to
   * an IP literal (steps 1 and 3.1): the certificate must then be valid for
   * `address`, and no SNI is sent.
   */
  readonly tlsServerName?: string;
  /** Which step decided. */
  readonly via: DiscoveryStep;
  /** `m.server` of the well-known, when it delegated. */
  readonly delegatedServerName?: string;
  /**
   * Every place to try, in order (more than one when SRV records give
   * several targets, ordered by priority and weight; targets that did not
   * resolve to allowed addresses are left out).
   */
  readonly targets: readonly ResolvedTarget[];
  /** Why the well-known step did not delegate, when it was tried and failed. */
  readonly wellKnownError?: DiscoveryError;
  /**
   * When the well-known step ran (step 3 and later): until when its
   * outcome (the delegation, or the failure in `wellKnownError`) is cached,
   * in clock milliseconds: its cache period (`Cache-Control` or `Expires`
   * within the spec's bounds, 24 hours without them, up to an hour for a
   * failure). A homeserver keeping delegations in its database keeps them
   * until then. The resolver itself fetches it again a little earlier (see
   * `expiresAt`).
   */
  readonly wellKnownExpiresAt?: number;
  /**
   * Until when this result holds, in clock milliseconds: the earliest of
   * the expiries of what it was made from (the well-known's refresh time,
   * 80% into its cache period as Synapse refreshes it, and the TTLs of the
   * SRV and address records); `Infinity` when nothing it depends on expires
   * (an IP literal). Resolve again after it; until then
   * {@link ServerResolver.resolve} gives the same result from its caches.
   */
  readonly expiresAt: number;
}

/** A result as the resolution plan makes it, before its expiry is known. */
type Planned = Omit<ResolvedServer, 'expiresAt'>;

/** Options of a {@link ServerResolver}. */
export interface ServerResolverOptions {
  /** The DNS resolver (default: {@link createDnsResolver} with `dnsServers`). */
  readonly dns?: DnsResolver;
  /** Name servers for the default DNS resolver (default: the system's). */
  readonly dnsServers?: readonly string[];
  /**
   * Makes the well-known requests (default: {@link createUndiciTransport}
   * with the same DNS resolver, address policy and `ca`).
   */
  readonly http?: HttpTransport;
  /** Certificate authorities (PEM) the default transport trusts instead of Node's bundled ones. */
  readonly ca?: string | readonly string[];
  /**
   * Which addresses may be connected to, for the well-known requests and in
   * results (default: `new AddressPolicy({ allow })`).
   */
  readonly policy?: AddressPolicy;
  /** Addresses and CIDR ranges allowed despite the default blocklist, when `policy` is not given. */
  readonly allow?: readonly string[];
  /** The clock, milliseconds since the epoch (default `Date.now`). */
  readonly now?: () => number;
  /** Numbers in [0, 1) for SRV weights and cache jitter (default `Math.random`). */
  readonly random?: () => number;
  /** The port of the well-known request (default 443, as the spec says; other values are for tests). */
  readonly wellKnownPort?: number;
  /** The largest well-known body (default 50 KiB). */
  readonly maxWellKnownBytes?: number;
  /** The most redirects followed for the well-known (default 20). */
  readonly maxRedirects?: number;
  /** The `User-Agent` of the well-known request. */
  readonly userAgent?: string;
  /** The most entries of each cache (default 10,000). */
  readonly maxCacheEntries?: number;
  /**
   * How long SRV answers are kept when the resolver gives no TTL
   * (`node:dns` does not), and how long "no SRV records" is kept, in
   * milliseconds (default 5 minutes).
   */
  readonly srvCacheMs?: number;
  /** The most SRV targets resolved, in order (default 10). */
  readonly maxSrvTargets?: number;
}

/** A cached well-known outcome: a delegation or the reason there is none. */
interface WellKnownEntry {
  readonly server?: string;
  readonly error?: DiscoveryError;
  readonly expiresAt: number;
  readonly refreshAt: number;
}

interface SrvEntry {
  readonly records: readonly SrvRecord[];
  readonly expiresAt: number;
}

/**
 * Outcome of resolving one host's addresses, already judged by the address
 * policy: never thrown, so that SRV targets can fail one by one.
 */
type AddressOutcome = { readonly addresses: readonly string[] } | { readonly error: DiscoveryError };

interface AddressEntry {
  readonly outcome: AddressOutcome;
  readonly expiresAt: number;
}

/** What the resolution plan needs next. */
type Need =
  | { readonly kind: 'well-known'; readonly host: string }
  | { readonly kind: 'srv'; readonly name: string }
  | { readonly kind: 'addresses'; readonly hosts: readonly string[] };

type SrvOutcome = { readonly records: readonly SrvRecord[] } | { readonly error: DiscoveryError };

/** Answers to the needs, in the same order as the kinds above. */
type Answer = WellKnownEntry | SrvOutcome | readonly AddressOutcome[];

/** An answer and until when it holds (milliseconds since the epoch). */
interface Timed {
  readonly answer: Answer;
  readonly until: number;
}

/** What the resolution plan is given, and what it reports back. */
interface PlanContext {
  readonly policy: AddressPolicy;
  readonly random: () => number;
  readonly maxSrvTargets: number;
  /**
   * Set when the result depends on random numbers (SRV records ordered by
   * weight): what to order again each time, instead of remembering the order.
   */
  shuffle?: SrvTemplate;
}

/** An SRV step's result before ordering: ordered anew each time it is used. */
interface SrvTemplate {
  readonly serverName: string;
  readonly via: DiscoveryStep;
  readonly host: string;
  readonly extra: Extra;
  /** The records, their target names without a trailing dot. */
  readonly records: readonly (SrvRecord & { readonly host: string })[];
  readonly outcomes: ReadonlyMap<string, AddressOutcome>;
}

const MISS = Symbol('miss');
const DEFAULT_PORT = 8448;
/** DNS TTLs are honoured up to a day. */
const MAX_DNS_TTL_SECONDS = 86_400;

/**
 * Resolves server names as the spec's "Resolving server names" says, and
 * caches what it learns: well-known outcomes for the periods the spec
 * recommends (Synapse's where it is silent: see {@link WELL_KNOWN_CACHE}),
 * SRV answers and addresses for their TTLs.
 *
 * Every address in a result has passed the address policy: by default
 * loopback, private, link-local, CGNAT, multicast, reserved and
 * documentation ranges are refused (a hostname with any refused address is
 * refused as a whole, as Synapse does against DNS rebinding), and the
 * well-known request checks the addresses it actually connects to. Connect
 * to the returned addresses, not to the names, so that what was checked is
 * what is used.
 *
 * @example
 * ```ts
 * const resolver = new ServerResolver();
 * const server = await resolver.resolve('matrix.org');
 * // connect to server.address:server.port, TLS name server.tlsServerName,
 * // header Host: server.hostHeader
 * await resolver.close();
 * ```
 */
export class ServerResolver {
  readonly #dns: DnsResolver;
  readonly #policy: AddressPolicy;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #options: ServerResolverOptions;
  #http: HttpTransport | undefined;
  readonly #ownsHttp: boolean;
  readonly #wellKnown: BoundedMap<string, WellKnownEntry>;
  /** Hosts that recently had a valid well-known: until when, and failures in a row since. */
  readonly #hadValid: BoundedMap<string, { until: number; failures: number }>;
  readonly #srv: BoundedMap<string, SrvEntry>;
  readonly #addresses: BoundedMap<string, AddressEntry>;
  /** Finished results (or SRV results to order), until the first of the answers they were made from goes stale. */
  readonly #results: BoundedMap<string, { result: ResolvedServer | SrvTemplate; until: number }>;
  /** Well-known requests under way, by host, shared by the resolutions that wait for them. */
  readonly #inflight = new Map<string, SharedTask<WellKnownEntry>>();

  /**
   * @param options - injected DNS, HTTP and clock, address policy, limits.
   * @throws {@link InvalidInputError} `M_INVALID_PARAM` if `allow` has
   * something that is not an address or CIDR range.
   */
  constructor(options: ServerResolverOptions = {}) {
    this.#options = options;
    this.#dns =
      options.dns ?? createDnsResolver(options.dnsServers === undefined ? {} : { servers: options.dnsServers });
    this.#policy = options.policy ?? new AddressPolicy(options.allow === undefined ? {} : { allow: options.allow });
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
    this.#http = options.http;
    this.#ownsHttp = options.http === undefined;
    const max = options.maxCacheEntries ?? 10_000;
    this.#wellKnown = new BoundedMap(max);
    this.#hadValid = new BoundedMap(max);
    this.#srv = new BoundedMap(max);
    this.#addresses = new BoundedMap(max);
    this.#results = new BoundedMap(max);
  }

  /**
   * Resolves a server name, from the caches where they are fresh.
   *
   * `signal` gives up the resolution at once, rejecting with its reason.
   * The well-known request is shared by concurrent resolutions of the same
   * host and is aborted only when all of them have given up; DNS queries
   * cannot be aborted (`node:dns` cancels only all of a resolver's
   * queries), so they run to their end and their answers are cached.
   *
   * @param serverName - the server name (`hostname[:port]`).
   * @param options - the signal.
   * @throws {@link InvalidInputError} `M_INVALID_PARAM` if it is not a valid
   * server name; {@link DiscoveryError} if it cannot be reached (port 0, no
   * address, only refused addresses, a DNS failure, an SRV target of `.`);
   * the signal's reason if it aborts.
   */
  async resolve(serverName: string, options: AbortOptions = {}): Promise<ResolvedServer> {
    const { signal } = options;
    signal?.throwIfAborted();
    const remembered = this.#remembered(serverName);
    if (remembered !== undefined) return remembered;
    return measured(
      discoveryChannel,
      () => this.#resolveAnew(serverName, signal),
      ({ result, error, durationMs }): DiscoveryMessage => ({ serverName, result, error, durationMs }),
    );
  }

  /** Resolves a name whose result is not remembered: every step, from the caches where they are fresh. */
  async #resolveAnew(serverName: string, signal: AbortSignal | undefined): Promise<ResolvedServer> {
    const context = this.#context();
    const plan = resolutionPlan(serverName, context);
    let until = Number.POSITIVE_INFINITY;
    let step = plan.next();
    while (step.done !== true) {
      const timed = await raceAbort(this.#answer(step.value, signal), signal);
      until = Math.min(until, timed.until);
      step = plan.next(timed.answer);
    }
    const resolved = { ...step.value, expiresAt: until };
    this.#remember(serverName, resolved, until, context);
    return resolved;
  }

  /**
   * Resolves a server name from the caches alone, synchronously: the
   * result {@link ServerResolver.resolve} would give now, or undefined if
   * that needs a DNS query or an HTTP request, or would fail.
   *
   * @param serverName - the server name.
   * @throws {@link InvalidInputError} `M_INVALID_PARAM` if it is not a valid server name.
   */
  resolveCached(serverName: string): ResolvedServer | undefined {
    const remembered = this.#remembered(serverName);
    if (remembered !== undefined) return remembered;
    const context = this.#context();
    const plan = resolutionPlan(serverName, context);
    let until = Number.POSITIVE_INFINITY;
    try {
      let step = plan.next();
      while (step.done !== true) {
        const timed = this.#cached(step.value);
        if (timed === MISS) return undefined;
        until = Math.min(until, timed.until);
        step = plan.next(timed.answer);
      }
      const resolved = { ...step.value, expiresAt: until };
      this.#remember(serverName, resolved, until, context);
      return resolved;
    } catch (e) {
      if (e instanceof DiscoveryError) return undefined;
      throw e;
    }
  }

  /** Forgets everything cached. Never throws. */
  clearCache(): void {
    this.#wellKnown.clear();
    this.#hadValid.clear();
    this.#srv.clear();
    this.#addresses.clear();
    this.#results.clear();
  }

  /**
   * Closes the default HTTP transport's connections (an injected transport
   * is left open). Never rejects.
   */
  async close(): Promise<void> {
    if (this.#ownsHttp && this.#http !== undefined) await this.#http.close?.();
    if (this.#ownsHttp) this.#http = undefined;
  }

  #context(): PlanContext {
    return { policy: this.#policy, random: this.#random, maxSrvTargets: this.#options.maxSrvTargets ?? 10 };
  }

  /** A result still valid now (every cached answer it was made from is still fresh), SRV targets ordered anew. */
  #remembered(serverName: string): ResolvedServer | undefined {
    const entry = this.#results.get(serverName);
    if (entry === undefined || this.#now() >= entry.until) return undefined;
    const r = entry.result;
    if (!('records' in r)) return r;
    const ordered = srvResult(r, orderSrvRecords(r.records, this.#random), this.#options.maxSrvTargets ?? 10);
    return { ...ordered, expiresAt: entry.until };
  }

  /** Keeps a result until the first of its answers goes stale (SRV results as their template). */
  #remember(serverName: string, result: ResolvedServer, until: number, context: PlanContext): void {
    if (this.#now() < until) this.#results.set(serverName, { result: context.shuffle ?? result, until });
  }

  /** Answers a need from the caches, or {@link MISS}. */
  #cached(need: Need): Timed | typeof MISS {
    const now = this.#now();
    switch (need.kind) {
      case 'well-known': {
        const entry = this.#wellKnown.get(need.host);
        return entry !== undefined && now < entry.refreshAt ? { answer: entry, until: entry.refreshAt } : MISS;
      }
      case 'srv': {
        const entry = this.#srv.get(need.name);
        return entry !== undefined && now < entry.expiresAt
          ? { answer: { records: entry.records }, until: entry.expiresAt }
          : MISS;
      }
      case 'addresses': {
        const out: AddressOutcome[] = [];
        let until = Number.POSITIVE_INFINITY;
        for (const host of need.hosts) {
          if (isIP(host) !== 0) {
            out.push(this.#judge(host, [host]));
            continue;
          }
          const entry = this.#addresses.get(host);
          if (entry === undefined || now >= entry.expiresAt) return MISS;
          out.push(entry.outcome);
          until = Math.min(until, entry.expiresAt);
        }
        return { answer: out, until };
      }
    }
  }

  /** Answers a need from the caches, or with DNS and HTTP. */
  async #answer(need: Need, signal: AbortSignal | undefined): Promise<Timed> {
    const cached = this.#cached(need);
    if (cached !== MISS) return cached;
    switch (need.kind) {
      case 'well-known': {
        const entry = await this.#lookupWellKnown(need.host, signal);
        return { answer: entry, until: entry.refreshAt };
      }
      case 'srv':
        return this.#lookupSrv(need.name);
      case 'addresses': {
        const timed = await Promise.all(need.hosts.map((host) => this.#lookupAddresses(host)));
        return { answer: timed.map((t) => t.outcome), until: Math.min(...timed.map((t) => t.until)) };
      }
    }
  }

  /** The addresses of `host` if the policy allows them all, else why not. */
  #judge(host: string, addresses: readonly string[]): AddressOutcome {
    if (addresses.length === 0) return { error: new DiscoveryError('not-found', `${host} has no addresses`, true) };
    for (const address of addresses) {
      const verdict = this.#policy.check(address);
      if (!verdict.allowed) {
        return {
          error: new DiscoveryError('blocked-address', `${host} resolves to a refused address: ${verdict.reason}`),
        };
      }
    }
    return { addresses };
  }

  async #lookupAddresses(host: string): Promise<{ outcome: AddressOutcome; until: number }> {
    if (isIP(host) !== 0) return { outcome: this.#judge(host, [host]), until: Number.POSITIVE_INFINITY };
    const now = this.#now();
    const entry = this.#addresses.get(host);
    if (entry !== undefined && now < entry.expiresAt) return { outcome: entry.outcome, until: entry.expiresAt };
    try {
      const records = await resolveAddresses(this.#dns, host);
      const ttl = Math.min(MAX_DNS_TTL_SECONDS, ...records.map((r) => (Number.isFinite(r.ttl) ? r.ttl : 0)));
      const outcome = this.#judge(
        host,
        records.map((r) => r.address),
      );
      if (ttl > 0) {
        const expiresAt = now + ttl * 1000;
        this.#addresses.set(host, { outcome, expiresAt });
        return { outcome, until: expiresAt };
      }
      return { outcome, until: now };
    } catch (e) {
      return { outcome: { error: asDiscoveryError(e, 'dns-failure') }, until: now };
    }
  }

  async #lookupSrv(name: string): Promise<Timed> {
    const now = this.#now();
    const fallbackMs = this.#options.srvCacheMs ?? 5 * 60_000;
    try {
      const records = (await resolveSrvRecords(this.#dns, name)).filter(isUsableSrvRecord);
      const ttls = records.map((r) => r.ttl);
      const ttlMs =
        ttls.length > 0 && ttls.every((t) => typeof t === 'number' && Number.isFinite(t))
          ? Math.min(MAX_DNS_TTL_SECONDS, ...(ttls as number[])) * 1000
          : fallbackMs;
      if (ttlMs > 0) {
        this.#srv.set(name, { records, expiresAt: now + ttlMs });
        return { answer: { records }, until: now + ttlMs };
      }
      return { answer: { records }, until: now };
    } catch (e) {
      // As Synapse: when the lookup fails, an expired answer is better than none.
      const stale = this.#srv.get(name);
      if (stale !== undefined) return { answer: { records: stale.records }, until: now };
      return { answer: { error: asDiscoveryError(e, 'dns-failure') }, until: now };
    }
  }

  /**
   * The well-known outcome of `host`, from the request under way for it if
   * there is one (and not every resolution waiting for it gave up).
   */
  #lookupWellKnown(host: string, signal: AbortSignal | undefined): Promise<WellKnownEntry> {
    let task = this.#inflight.get(host);
    if (task === undefined || task.abandoned) {
      const started = new SharedTask(async (shared) => {
        try {
          return await this.#fetchWellKnown(host, shared);
        } finally {
          if (this.#inflight.get(host) === started) this.#inflight.delete(host);
        }
      });
      this.#inflight.set(host, started);
      task = started.start();
    }
    return task.join(signal);
  }

  /**
   * Fetches the well-known and caches the outcome; an abort (every waiting
   * resolution gave up) is no outcome: nothing is cached, and it rejects.
   */
  async #fetchWellKnown(host: string, signal: AbortSignal): Promise<WellKnownEntry> {
    const previous = this.#wellKnown.get(host);
    const c = WELL_KNOWN_CACHE;
    let entry: WellKnownEntry;
    try {
      this.#http ??= createUndiciTransport({
        dns: this.#dns,
        policy: this.#policy,
        ...(this.#options.ca === undefined ? {} : { ca: this.#options.ca }),
      });
      const response = await fetchWellKnown(host, {
        transport: this.#http,
        policy: this.#policy,
        maxBytes: this.#options.maxWellKnownBytes ?? WELL_KNOWN_MAX_BYTES,
        maxRedirects: this.#options.maxRedirects ?? WELL_KNOWN_MAX_REDIRECTS,
        ...(this.#options.wellKnownPort === undefined ? {} : { port: this.#options.wellKnownPort }),
        ...(this.#options.userAgent === undefined ? {} : { userAgent: this.#options.userAgent }),
        signal,
      });
      const now = this.#now();
      const fromHeaders = cachePeriodFromHeaders(response.headers, now / 1000);
      const period =
        fromHeaders === undefined
          ? c.defaultPeriod * this.#jitter()
          : Math.max(c.minPeriod, Math.min(c.maxPeriod, fromHeaders));
      this.#hadValid.set(host, { until: now + (period + c.rememberValid) * 1000, failures: 0 });
      entry = { server: response.server, ...expiry(now, period) };
    } catch (e) {
      if (signal.aborted) throw signal.reason;
      const error = asDiscoveryError(e, 'network');
      const now = this.#now();
      // A temporary failure while a delegation is still cached: keep using it (Synapse).
      if (error.transient && previous?.server !== undefined && now < previous.expiresAt) return previous;
      const had = this.#hadValid.get(host);
      let period: number = c.failurePeriod;
      if (had !== undefined && now < had.until) {
        had.failures++;
        period = Math.min(c.failurePeriod, c.failurePeriodAfterValid * 2 ** (had.failures - 1));
      }
      entry = { error, ...expiry(now, period * this.#jitter()) };
    }
    this.#wellKnown.set(host, entry);
    return entry;
  }

  #jitter(): number {
    const j = WELL_KNOWN_CACHE.jitter;
    return 1 - j + 2 * j * this.#random();
  }
}

/**
 * Resolves one server name with a new {@link ServerResolver} (nothing is
 * cached between calls; keep a resolver for that).
 *
 * @param serverName - the server name.
 * @param options - as for {@link ServerResolver}, and the signal of
 *   {@link ServerResolver.resolve}.
 * @throws {@link InvalidInputError} `M_INVALID_PARAM` if it is not a valid
 * server name; {@link DiscoveryError} if it cannot be reached.
 */
export async function resolveServerName(
  serverName: string,
  options: ServerResolverOptions & AbortOptions = {},
): Promise<ResolvedServer> {
  const resolver = new ServerResolver(options);
  try {
    return await resolver.resolve(serverName, options.signal === undefined ? {} : { signal: options.signal });
  } finally {
    await resolver.close();
  }
}

function expiry(now: number, periodSeconds: number): { expiresAt: number; refreshAt: number } {
  const ms = periodSeconds * 1000;
  return { expiresAt: now + ms, refreshAt: now + ms * (1 - WELL_KNOWN_CACHE.refreshFraction) };
}

/** An SRV record with the RFC 2782 field ranges (16-bit priority, weight and port) and a string target. */
function isUsableSrvRecord(r: SrvRecord): boolean {
  const u16 = (x: unknown) => Number.isInteger(x) && (x as number) >= 0 && (x as number) <= 65535;
  return (
    typeof r === 'object' && r !== null && typeof r.name === 'string' && u16(r.port) && u16(r.priority) && u16(r.weight)
  );
}

function asDiscoveryError(e: unknown, code: 'dns-failure' | 'network'): DiscoveryError {
  if (e instanceof DiscoveryError) return e;
  return new DiscoveryError(code, e instanceof Error ? e.message : String(e), true, { cause: e });
}

/** The SRV target "." (an empty name from `node:dns`): no service here. */
function isNoService(name: string): boolean {
  return name === '' || name === '.';
}

/**
 * The steps of "Resolving server names" as a generator: it yields what it
 * needs to know (a well-known outcome, SRV records, addresses) and gets the
 * answers back, so that the same steps run from the caches alone
 * ({@link ServerResolver.resolveCached}) or with I/O ({@link ServerResolver.resolve}).
 */
function* resolutionPlan(serverName: string, context: PlanContext): Generator<Need, Planned, Answer> {
  const name = parseServerName(serverName);
  // Valid by the grammar, but nothing listens on port 0; Synapse reads it as
  // no port (see parseWellKnown), which the name cannot have meant either.
  if (name.port === 0)
    throw new DiscoveryError('invalid-port', `${serverName} has port 0: nothing can be reached there`);

  // Step 1: "If the hostname is an IP literal, then that IP address should be used,
  // together with the given port number, or 8448 if no port is given. [...] The Host
  // header in the request should be set to the server name, including the port if the
  // server name included one."
  if (name.kind !== 'dns') return ipLiteral(serverName, name, 'ip-literal', serverName, context.policy, {});

  // Step 2: "If the hostname is not an IP literal, and the server name includes an
  // explicit port, resolve the hostname to an IP address using CNAME, AAAA or A records.
  // Requests are made to the resolved IP address and given port with a Host header of
  // the original server name (with port). The target server must present a valid
  // certificate for the hostname."
  if (name.port !== undefined) {
    const [outcome] = (yield { kind: 'addresses', hosts: [name.host] }) as readonly AddressOutcome[];
    return direct(serverName, 'explicit-port', serverName, name.host, name.port, outcome, {});
  }

  // Step 3: "a regular HTTPS request is made to https://<hostname>/.well-known/matrix/server".
  const wellKnown = (yield { kind: 'well-known', host: name.host }) as WellKnownEntry;
  if (wellKnown.server !== undefined) {
    const delegated = parseServerName(wellKnown.server);
    const extra = { delegatedServerName: wellKnown.server, wellKnownExpiresAt: wellKnown.expiresAt };
    // 3.1: "If <delegated_hostname> is an IP literal, then that IP address should be used
    // together with the <delegated_port> or 8448 if no port is provided. [...] Requests
    // must be made with a Host header containing the IP address, including the port if
    // one was provided."
    if (delegated.kind !== 'dns') {
      return ipLiteral(serverName, delegated, 'well-known-ip-literal', wellKnown.server, context.policy, extra);
    }
    // 3.2: "If <delegated_hostname> is not an IP literal, and <delegated_port> is present,
    // an IP address is discovered by looking up CNAME, AAAA or A records for
    // <delegated_hostname>. [...] Requests must be made with a Host header of
    // <delegated_hostname>:<delegated_port>. The target server must present a valid
    // certificate for <delegated_hostname>."
    if (delegated.port !== undefined) {
      const [outcome] = (yield { kind: 'addresses', hosts: [delegated.host] }) as readonly AddressOutcome[];
      return direct(
        serverName,
        'well-known-explicit-port',
        wellKnown.server,
        delegated.host,
        delegated.port,
        outcome,
        extra,
      );
    }
    // 3.3–3.5: SRV _matrix-fed._tcp, then _matrix._tcp, of <delegated_hostname>, else
    // <delegated_hostname> on 8448; "a Host header containing the <delegated_hostname>",
    // "a valid certificate for <delegated_hostname>".
    return yield* srvSteps(serverName, delegated.host, true, context, extra);
  }

  // Steps 4–6: "If the /.well-known request resulted in an error response", SRV
  // _matrix-fed._tcp.<hostname>, then _matrix._tcp.<hostname>, else <hostname> on 8448,
  // "with a Host header of <hostname>", "a valid certificate for <hostname>".
  const extra = {
    ...(wellKnown.error === undefined ? {} : { wellKnownError: wellKnown.error }),
    wellKnownExpiresAt: wellKnown.expiresAt,
  };
  return yield* srvSteps(serverName, name.host, false, context, extra);
}

type Extra = { delegatedServerName?: string; wellKnownError?: DiscoveryError; wellKnownExpiresAt?: number };

function* srvSteps(
  serverName: string,
  host: string,
  delegated: boolean,
  context: PlanContext,
  extra: Extra,
): Generator<Need, Planned, Answer> {
  const steps: [string, DiscoveryStep][] = delegated
    ? [
        ['_matrix-fed._tcp.', 'well-known-srv'],
        ['_matrix._tcp.', 'well-known-srv-legacy'],
      ]
    : [
        ['_matrix-fed._tcp.', 'srv'],
        ['_matrix._tcp.', 'srv-legacy'],
      ];
  for (const [prefix, via] of steps) {
    const srvName = `${prefix}${host}`;
    const answer = (yield { kind: 'srv', name: srvName }) as SrvOutcome;
    if ('error' in answer) throw answer.error;
    const only = answer.records.length === 1 ? answer.records[0] : undefined;
    if (only !== undefined && isNoService(only.name)) {
      throw new DiscoveryError(
        'service-unavailable',
        `the SRV record ${srvName} says there is no service (target ".")`,
      );
    }
    const records = answer.records
      .filter((r) => !isNoService(r.name))
      .map((r) => ({ ...r, host: r.name.endsWith('.') ? r.name.slice(0, -1) : r.name }));
    if (records.length === 0) continue;
    const ordered = orderSrvRecords(records, context.random).slice(0, Math.max(1, context.maxSrvTargets));
    const hosts = ordered.map((r) => r.host);
    const outcomes = (yield { kind: 'addresses', hosts }) as readonly AddressOutcome[];
    const template: SrvTemplate = {
      serverName,
      via,
      host,
      extra,
      records,
      outcomes: new Map(hosts.map((h, i) => [h, outcomes[i] as AddressOutcome])),
    };
    // With ties in priority the order is random each time: remember the template, not the order
    // (and only if every record's target was resolved).
    if (new Set(records.map((r) => r.priority)).size < records.length && records.length === ordered.length) {
      context.shuffle = template;
    }
    return srvResult(template, ordered, context.maxSrvTargets);
  }
  const [outcome] = (yield { kind: 'addresses', hosts: [host] }) as readonly AddressOutcome[];
  return direct(
    serverName,
    delegated ? 'well-known-default-port' : 'default-port',
    host,
    host,
    DEFAULT_PORT,
    outcome,
    extra,
  );
}

/**
 * An SRV step's result, its targets in the given order (the first
 * `maxSrvTargets`), leaving out those whose addresses are not allowed.
 *
 * @throws {@link DiscoveryError} the first target's error if none is left.
 */
function srvResult(
  template: SrvTemplate,
  ordered: readonly (SrvRecord & { readonly host: string })[],
  maxSrvTargets: number,
): Planned {
  const targets: ResolvedTarget[] = [];
  let firstError: DiscoveryError | undefined;
  for (const r of ordered.slice(0, Math.max(1, maxSrvTargets))) {
    const addresses = addressesOf(template.outcomes.get(r.host));
    if (addresses instanceof DiscoveryError) firstError ??= addresses;
    else targets.push({ host: r.host, port: r.port, addresses });
  }
  if (targets.length === 0) throw firstError as DiscoveryError;
  return result(template.serverName, template.via, template.host, template.host, targets, template.extra);
}

/** The addresses of a lookup outcome (judged by the address policy already), or its error. */
function addressesOf(outcome: AddressOutcome | undefined): readonly string[] | DiscoveryError {
  if (outcome === undefined) return new DiscoveryError('not-found', 'no addresses', true);
  return 'error' in outcome ? outcome.error : outcome.addresses;
}

function direct(
  serverName: string,
  via: DiscoveryStep,
  hostHeader: string,
  host: string,
  port: number,
  outcome: AddressOutcome | undefined,
  extra: Extra,
): Planned {
  const addresses = addressesOf(outcome);
  if (addresses instanceof DiscoveryError) throw addresses;
  return result(serverName, via, hostHeader, host, [{ host, port, addresses }], extra);
}

function ipLiteral(
  serverName: string,
  name: ServerName,
  via: DiscoveryStep,
  hostHeader: string,
  policy: AddressPolicy,
  extra: Extra,
): Planned {
  if (isAmbiguousIPv4Literal(name.host)) {
    throw new DiscoveryError(
      'ambiguous-ip-literal',
      `${name.host} has a leading zero: decimal by the server-name grammar, octal to inet_aton`,
    );
  }
  const address = canonicalIpAddress(name.host) as string;
  const verdict = policy.check(address);
  if (!verdict.allowed) throw new DiscoveryError('blocked-address', `${serverName}: ${verdict.reason}`);
  const port = name.port ?? DEFAULT_PORT;
  return result(serverName, via, hostHeader, undefined, [{ host: address, port, addresses: [address] }], extra);
}

function result(
  serverName: string,
  via: DiscoveryStep,
  hostHeader: string,
  tlsServerName: string | undefined,
  targets: readonly ResolvedTarget[],
  extra: Extra,
): Planned {
  const first = targets[0] as ResolvedTarget;
  return {
    serverName,
    address: first.addresses[0] as string,
    port: first.port,
    hostHeader,
    ...(tlsServerName === undefined ? {} : { tlsServerName }),
    via,
    ...extra,
    targets,
  };
}
