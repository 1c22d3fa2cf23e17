/**
 * The error server discovery raises when a server name cannot be resolved to
 * somewhere we may connect to.
 *
 * @module
 */

import { type MatrixErrcode, MatrixServerlibError, type MatrixServerlibErrorOptions } from '../../errors.js';
import { printable } from '../text.js';

/**
 * Why discovery failed, or why the `/.well-known/matrix/server` step did not
 * delegate. Stable across releases. The errcode of each is `M_UNKNOWN` (the
 * remote server or the network failed) unless said otherwise.
 *
 * - `blocked-address`: the address is in a range that is refused (loopback,
 *   private, link-local, … see {@link AddressPolicy}) and not allowlisted;
 *   errcode `M_FORBIDDEN`.
 * - `invalid-port`: the server name has port 0, which the grammar allows
 *   but nothing can be reached on; errcode `M_INVALID_PARAM`.
 * - `ambiguous-ip-literal`: an IPv4 literal with a leading zero (`010.0.0.1`),
 *   which the server-name grammar reads as decimal and common resolvers as
 *   octal; or a hostname that URL parsers read as an IPv4 address
 *   (`0177.0.0.1`, `0x7f.1`), so its well-known is not fetched; errcode
 *   `M_INVALID_PARAM`.
 * - `not-found`: the hostname has no A or AAAA records.
 * - `dns-failure`: a DNS query failed (SERVFAIL, timeout, refused …), so the
 *   records could not be known.
 * - `service-unavailable`: the SRV record's target is `.` (RFC 2782: the
 *   service is decidedly not available at this domain).
 * - `http-status`: the well-known answered with a status other than 200.
 * - `too-large`: the well-known body is larger than the limit (50 KiB).
 * - `redirect-loop`, `too-many-redirects`, `insecure-redirect` (to a scheme
 *   other than `https:`): the well-known's redirects were not followed.
 * - `invalid-json`: the well-known body is not UTF-8 JSON.
 * - `invalid-well-known`: the JSON is not an object whose `m.server` is a
 *   valid server name.
 * - `network`: connecting, TLS or reading failed.
 * - `timeout`: a request took longer than its time limit.
 */
export type DiscoveryErrorCode =
  | 'blocked-address'
  | 'invalid-port'
  | 'ambiguous-ip-literal'
  | 'not-found'
  | 'dns-failure'
  | 'service-unavailable'
  | 'http-status'
  | 'too-large'
  | 'redirect-loop'
  | 'too-many-redirects'
  | 'insecure-redirect'
  | 'invalid-json'
  | 'invalid-well-known'
  | 'network'
  | 'timeout';

/**
 * The errcodes other than `M_UNKNOWN`: our policy refuses (`M_FORBIDDEN`),
 * or the server name asked about cannot be used (`M_INVALID_PARAM`, the
 * asker's input).
 */
const ERRCODES: Partial<Record<DiscoveryErrorCode, MatrixErrcode>> = {
  'blocked-address': 'M_FORBIDDEN',
  'invalid-port': 'M_INVALID_PARAM',
  'ambiguous-ip-literal': 'M_INVALID_PARAM',
};

/**
 * Raised by server discovery when a server cannot be reached at all, and
 * recorded (not raised) when the well-known step fails and discovery goes on
 * with SRV records.
 *
 * `code` is stable (see {@link DiscoveryErrorCode} for each and its
 * errcode); `message` is for people and may change. `cause` is the error
 * underneath, if any: the DNS resolver's, undici's, the JSON parser's. The
 * message may quote what a remote server sent (a well-known body, through
 * the JSON parser's message): control and bidirectional formatting
 * characters are written as `\uXXXX` escapes, and it is at most 1,000
 * characters.
 */
export class DiscoveryError extends MatrixServerlibError {
  /** What went wrong. */
  readonly code: DiscoveryErrorCode;
  /**
   * Whether the failure may be temporary (a network error, a 5xx status, a
   * body too large): a still-cached delegation is then kept, as Synapse does.
   * Permanent failures (a 404, invalid JSON) replace it.
   */
  readonly transient: boolean;

  /**
   * @param code - what went wrong.
   * @param message - a sentence a person can act on.
   * @param transient - whether the failure may be temporary (default false).
   * @param options - the error this one is raised because of, if any.
   */
  constructor(code: DiscoveryErrorCode, message: string, transient = false, options?: MatrixServerlibErrorOptions) {
    super(ERRCODES[code] ?? 'M_UNKNOWN', printable(message, 1_000), options);
    this.name = 'DiscoveryError';
    this.code = code;
    this.transient = transient;
  }
}
