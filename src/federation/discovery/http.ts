/**
 * The HTTPS request of the well-known step, behind an interface, and the
 * default implementation on undici: time limits, a body size cap, and an
 * address filter applied when connecting, to the addresses actually
 * connected to (a name that resolves to a refused address, an IP-literal
 * URL, or a socket whose peer is refused are all stopped before a request
 * is sent).
 *
 * @module
 */

import { isIP, type LookupFunction } from 'node:net';
import { type AbortOptions, withDeadline } from '../../util/abort.js';
import { Agent, buildConnector, request } from '../undici.js';
import { AddressPolicy } from './addresses.js';
import type { HeaderMap } from './cache.js';
import { createDnsResolver, type DnsResolver, resolveAddresses } from './dns.js';
import { DiscoveryError } from './errors.js';

/** One GET request. */
export interface HttpRequest {
  /** An `https:` URL. */
  readonly url: string;
  /** Request headers (lower-case names). */
  readonly headers: Readonly<Record<string, string>>;
  /** The largest body to accept, in bytes. */
  readonly maxBytes: number;
}

/** A response. */
export interface HttpResponse {
  /** The status code. */
  readonly status: number;
  /** The response headers. */
  readonly headers: HeaderMap;
  /** The body; may be left empty for redirects (301, 302, 303, 307, 308). */
  readonly body: Uint8Array;
}

/**
 * Makes single HTTPS GET requests for the well-known step. It must not
 * follow redirects (the caller does, so it can refuse loops and check each
 * target). A body longer than `maxBytes` must be refused with
 * {@link DiscoveryError} `too-large` (transient) without reading it all;
 * other failures reject with any error. When `signal` aborts, it should
 * abort the request and reject with the signal's reason.
 */
export interface HttpTransport {
  /** Makes one request. */
  get(request: HttpRequest, options?: AbortOptions): Promise<HttpResponse>;
  /** Releases connections, if it holds any. */
  close?(): Promise<void>;
}

/** Options of {@link createUndiciTransport}. */
export interface UndiciTransportOptions {
  /** Resolves host names when connecting (default: {@link createDnsResolver}`()`). */
  readonly dns?: DnsResolver;
  /** Which addresses may be connected to (default: `new AddressPolicy()`). */
  readonly policy?: AddressPolicy;
  /** Certificate authorities to trust instead of Node's bundled ones (PEM). */
  readonly ca?: string | readonly string[];
  /** Time limit for connecting and the TLS handshake, in milliseconds (default 10,000). */
  readonly connectTimeoutMs?: number;
  /** Time limit for a whole request, body included, in milliseconds (default 30,000). */
  readonly timeoutMs?: number;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * A {@link HttpTransport} on an undici `Agent`. Host names are resolved with
 * `dns` (so a test's or the application's name servers apply) and every
 * address is checked against `policy` before connecting; IP-literal hosts are
 * checked before connecting, and the peer of every connection once more
 * after it.
 *
 * @param options - resolver, policy, trusted CAs and time limits.
 * @returns the transport (never throws). Its `get` rejects with a
 *   {@link DiscoveryError}: `not-found`, `dns-failure` or `blocked-address`
 *   when the host has no address it may connect to, `too-large` for a body
 *   over `maxBytes`, `timeout` or `network` (undici's error as `cause`) for
 *   any other failure.
 */
export function createUndiciTransport(options: UndiciTransportOptions = {}): HttpTransport {
  const dns = options.dns ?? createDnsResolver();
  const policy = options.policy ?? new AddressPolicy();
  const timeoutMs = options.timeoutMs ?? 30_000;
  const refuse = (address: string, reason: string | undefined) =>
    new DiscoveryError('blocked-address', `refusing to connect to ${address}: ${reason ?? 'blocked'}`, true);

  /** The addresses of `hostname` of the wanted family, all of them allowed. */
  const allowedAddresses = async (hostname: string, wanted: number | string | undefined) => {
    const records = await resolveAddresses(dns, hostname);
    for (const r of records) {
      const verdict = policy.check(r.address);
      if (!verdict.allowed) throw refuse(`${hostname} (${r.address})`, verdict.reason);
    }
    const family = wanted === 'IPv4' ? 4 : wanted === 'IPv6' ? 6 : wanted;
    const all = records
      .map((r) => ({ address: r.address, family: isIP(r.address) }))
      .filter((a) => family === undefined || family === 0 || a.family === family);
    if (all.length === 0) throw new DiscoveryError('not-found', `${hostname} has no address of that family`, true);
    return all;
  };
  const lookup: LookupFunction = (hostname, lookupOptions, callback) => {
    allowedAddresses(hostname, lookupOptions.family).then(
      (all) => {
        const first = all[0] as { address: string; family: number };
        if (lookupOptions.all === true) callback(null, all);
        else callback(null, first.address, first.family);
      },
      (e: unknown) => callback(e as NodeJS.ErrnoException, ''),
    );
  };

  const tlsConnect = buildConnector({
    timeout: options.connectTimeoutMs ?? 10_000,
    lookup,
    ...(options.ca === undefined ? {} : { ca: typeof options.ca === 'string' ? options.ca : [...options.ca] }),
  });
  const connect: buildConnector.connector = (opts, callback) => {
    const literal = opts.hostname.startsWith('[') ? opts.hostname.slice(1, -1) : opts.hostname;
    if (isIP(literal) !== 0) {
      const verdict = policy.check(literal);
      if (!verdict.allowed) {
        callback(refuse(literal, verdict.reason), null);
        return;
      }
    }
    tlsConnect(opts, (err, socket) => {
      if (err !== null) {
        callback(err, null);
        return;
      }
      const peer = socket.remoteAddress;
      const verdict = peer === undefined ? { allowed: false, reason: 'no peer address' } : policy.check(peer);
      if (!verdict.allowed) {
        socket.destroy();
        callback(refuse(peer ?? opts.hostname, verdict.reason), null);
        return;
      }
      callback(null, socket);
    });
  };
  const agent = new Agent({ connect, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, keepAliveTimeout: 10_000 });

  return {
    async get(req: HttpRequest, callOptions: AbortOptions = {}): Promise<HttpResponse> {
      const caller = callOptions.signal;
      try {
        const res = await request(req.url, {
          dispatcher: agent,
          method: 'GET',
          headers: { ...req.headers },
          signal: withDeadline(timeoutMs, caller),
        });
        const headers = res.headers as HeaderMap;
        if (REDIRECTS.has(res.statusCode)) {
          await res.body.dump();
          return { status: res.statusCode, headers, body: new Uint8Array(0) };
        }
        const declared = Number(res.headers['content-length']);
        if (declared > req.maxBytes) {
          res.body.destroy();
          throw tooLarge(req);
        }
        const chunks: Buffer[] = [];
        let size = 0;
        for await (const chunk of res.body) {
          size += (chunk as Buffer).length;
          if (size > req.maxBytes) {
            res.body.destroy();
            throw tooLarge(req);
          }
          chunks.push(chunk as Buffer);
        }
        return { status: res.statusCode, headers, body: new Uint8Array(Buffer.concat(chunks)) };
      } catch (e) {
        if (caller?.aborted === true) throw caller.reason;
        throw transportError(e, req.url);
      }
    },
    close: () => agent.close(),
  };
}

function tooLarge(req: HttpRequest): DiscoveryError {
  return new DiscoveryError('too-large', `${req.url}: the body is larger than ${req.maxBytes} bytes`, true);
}

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** Maps whatever a request failed with to a transient {@link DiscoveryError}. */
export function transportError(e: unknown, url: string): DiscoveryError {
  for (let cause: unknown = e, depth = 0; cause !== undefined && cause !== null && depth < 5; depth++) {
    if (cause instanceof DiscoveryError) return cause;
    cause = (cause as { cause?: unknown }).cause;
  }
  const err = e as { name?: unknown; code?: unknown; message?: unknown } | null;
  const detail = typeof err?.message === 'string' && err.message !== '' ? err.message : String(e);
  if (err?.name === 'TimeoutError' || (typeof err?.code === 'string' && TIMEOUT_CODES.has(err.code))) {
    return new DiscoveryError('timeout', `${url}: ${detail}`, true, { cause: e });
  }
  return new DiscoveryError('network', `${url}: ${detail}`, true, { cause: e });
}
