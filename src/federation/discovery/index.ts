/**
 * Server discovery (server-server API, "Resolving server names"): from a
 * server name to where and how to connect, with the well-known, SRV and
 * address steps, caching, and refusal of private addresses.
 *
 * @module
 */

export { AddressPolicy, type AddressPolicyOptions, type AddressVerdict, DEFAULT_BLOCKED_RANGES } from './addresses.js';
export { cachePeriodFromHeaders, type HeaderMap, parseHttpDate, WELL_KNOWN_CACHE } from './cache.js';
export { type AddressRecord, createDnsResolver, type DnsResolver, type DnsResolverOptions } from './dns.js';
export { DiscoveryError, type DiscoveryErrorCode } from './errors.js';
export {
  createUndiciTransport,
  type HttpRequest,
  type HttpResponse,
  type HttpTransport,
  type UndiciTransportOptions,
} from './http.js';
export {
  type DiscoveryStep,
  type ResolvedServer,
  type ResolvedTarget,
  resolveServerName,
  ServerResolver,
  type ServerResolverOptions,
  SPEC_STEPS,
} from './resolve.js';
export { orderSrvRecords, type SrvRecord } from './srv.js';
export {
  fetchWellKnown,
  parseWellKnown,
  WELL_KNOWN_MAX_BYTES,
  WELL_KNOWN_MAX_REDIRECTS,
  type WellKnownFetchOptions,
  type WellKnownResponse,
} from './wellknown.js';
