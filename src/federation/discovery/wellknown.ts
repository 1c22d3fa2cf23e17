/**
 * Step 3 of "Resolving server names": `GET https://<hostname>/.well-known/matrix/server`,
 * redirects followed (each target checked, loops refused, at most 20 as
 * Twisted's `RedirectAgent` allows Synapse), the body capped at 50 KiB,
 * parsed as JSON whatever its content type, and `m.server` checked against
 * the server-name grammar.
 *
 * @module
 */

import { isIP } from 'node:net';
import { isValidServerName, parseServerName } from '../../identifiers/identifiers.js';
import { type AddressPolicy, isAmbiguousIPv4Literal } from './addresses.js';
import type { HeaderMap } from './cache.js';
import { headerValues } from './cache.js';
import { DiscoveryError } from './errors.js';
import { type HttpTransport, transportError } from './http.js';

/** The largest well-known body accepted (Synapse: 50 KiB). */
export const WELL_KNOWN_MAX_BYTES = 50 * 1024;

/** The most redirects followed (Twisted's `RedirectAgent`, which Synapse uses: 20). */
export const WELL_KNOWN_MAX_REDIRECTS = 20;

/** Options of {@link fetchWellKnown}. */
export interface WellKnownFetchOptions {
  /** Makes the requests. */
  readonly transport: HttpTransport;
  /** Which addresses may be connected to: IP-literal redirect targets are checked with it. */
  readonly policy: AddressPolicy;
  /** The largest body accepted (default {@link WELL_KNOWN_MAX_BYTES}). */
  readonly maxBytes?: number;
  /** The most redirects followed (default {@link WELL_KNOWN_MAX_REDIRECTS}). */
  readonly maxRedirects?: number;
  /** The port of the first request (default 443, as the spec says; other values are for tests). */
  readonly port?: number;
  /** The `User-Agent` header (default `matrix-serverlib`). */
  readonly userAgent?: string;
  /** Aborts the request, rejecting with the signal's reason. */
  readonly signal?: AbortSignal | undefined;
}

/** A valid well-known response. */
export interface WellKnownResponse {
  /** The delegated server name, `m.server`. */
  readonly server: string;
  /** The headers of the final response, for caching. */
  readonly headers: HeaderMap;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * Fetches and checks `https://<hostname>/.well-known/matrix/server`.
 *
 * @param hostname - the server name's hostname (a DNS name; no port).
 * @param options - transport, address policy and limits.
 * @throws {@link DiscoveryError} why there is no valid delegation;
 * `transient` as Synapse classifies failures (network errors, 5xx, body too
 * large, redirect trouble: transient; other statuses and bad content: not);
 * the signal's reason if `signal` aborts.
 */
export async function fetchWellKnown(hostname: string, options: WellKnownFetchOptions): Promise<WellKnownResponse> {
  const maxBytes = options.maxBytes ?? WELL_KNOWN_MAX_BYTES;
  const maxRedirects = options.maxRedirects ?? WELL_KNOWN_MAX_REDIRECTS;
  const port = options.port === undefined || options.port === 443 ? '' : `:${options.port}`;
  let url: URL;
  try {
    url = new URL(`https://${hostname}${port}/.well-known/matrix/server`);
  } catch (e) {
    throw new DiscoveryError('network', `${JSON.stringify(hostname)} does not make a valid URL`, false, { cause: e });
  }
  // URL parsers read some valid DNS names as IPv4 addresses (0177.0.0.1, 0x7f.1, 127.1):
  // the request would not go to the name the spec means.
  if (url.hostname !== hostname.toLowerCase()) {
    throw new DiscoveryError('ambiguous-ip-literal', `${hostname} reads as the IP address ${url.hostname} in a URL`);
  }
  const seen = new Set<string>();
  for (let redirects = 0; ; redirects++) {
    options.signal?.throwIfAborted();
    checkTarget(url, options.policy);
    const key = url.href.replace(/#.*$/s, '');
    if (seen.has(key)) throw new DiscoveryError('redirect-loop', `redirect loop at ${key}`, true);
    seen.add(key);

    let res: Awaited<ReturnType<HttpTransport['get']>>;
    const { signal } = options;
    try {
      res = await options.transport.get(
        { url: url.href, headers: { 'user-agent': options.userAgent ?? 'matrix-serverlib' }, maxBytes },
        signal === undefined ? {} : { signal },
      );
    } catch (e) {
      if (signal?.aborted === true) throw signal.reason;
      throw transportError(e, url.href);
    }

    if (REDIRECTS.has(res.status)) {
      const location = headerValues(res.headers, 'location')[0];
      if (location === undefined) {
        throw new DiscoveryError('http-status', `${url.href}: ${res.status} without a Location header`, true);
      }
      if (redirects >= maxRedirects) {
        throw new DiscoveryError('too-many-redirects', `more than ${maxRedirects} redirects from ${hostname}`, true);
      }
      try {
        url = new URL(location, url);
      } catch (e) {
        throw new DiscoveryError('http-status', `${url.href}: ${res.status} to an invalid URL`, true, { cause: e });
      }
      continue;
    }
    if (res.body.length > maxBytes) {
      throw new DiscoveryError('too-large', `${url.href}: the body is larger than ${maxBytes} bytes`, true);
    }
    if (res.status !== 200) {
      throw new DiscoveryError(
        'http-status',
        `${url.href}: status ${res.status}`,
        res.status >= 500 && res.status < 600,
      );
    }
    return { server: parseWellKnown(res.body), headers: res.headers };
  }
}

/** Refuses a request target that is not HTTPS or is an IP literal in a refused range. */
function checkTarget(url: URL, policy: AddressPolicy): void {
  if (url.protocol !== 'https:') {
    throw new DiscoveryError('insecure-redirect', `refusing to follow a redirect to ${url.href}: not https`);
  }
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  if (isIP(host) !== 0) {
    const verdict = policy.check(host);
    if (!verdict.allowed) {
      throw new DiscoveryError(
        'blocked-address',
        `refusing to fetch ${url.href}: ${verdict.reason ?? 'blocked'}`,
        true,
      );
    }
  }
}

/**
 * Reads a well-known body: UTF-8 (a byte order mark is not skipped, as
 * Python's decoder in Synapse does not), JSON, an object whose `m.server`
 * is a string that is a valid server name, neither an IPv4 literal with a
 * leading zero (which resolvers read differently) nor with port 0.
 *
 * Port 0 is in the grammar (`port = 1*5DIGIT`) but nothing can be
 * connected to on it (RFC 6335: reserved). Synapse takes it for no port at
 * all (Python reads 0 as false: SRV records, then 8448) while sending it in
 * the `Host` header; the server cannot have meant either, so the
 * delegation is refused as invalid and discovery goes on with step 4.
 *
 * @param body - the response body.
 * @returns the delegated server name.
 * @throws {@link DiscoveryError} `invalid-json` or `invalid-well-known`.
 */
export function parseWellKnown(body: Uint8Array): string {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body));
  } catch (e) {
    throw new DiscoveryError('invalid-json', `the well-known is not UTF-8 JSON: ${(e as Error).message}`, false, {
      cause: e,
    });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new DiscoveryError('invalid-well-known', 'the well-known is not a JSON object');
  }
  const server = Object.hasOwn(value, 'm.server') ? (value as Record<string, unknown>)['m.server'] : undefined;
  if (typeof server !== 'string') {
    throw new DiscoveryError('invalid-well-known', 'the well-known has no string m.server');
  }
  if (!isValidServerName(server) || isAmbiguousIPv4Literal(parseServerName(server).host)) {
    throw new DiscoveryError('invalid-well-known', `m.server ${JSON.stringify(server)} is not a valid server name`);
  }
  if (parseServerName(server).port === 0) {
    throw new DiscoveryError('invalid-well-known', `m.server ${JSON.stringify(server)} has port 0`);
  }
  return server;
}
