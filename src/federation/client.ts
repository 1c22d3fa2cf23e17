/**
 * The federation client (spec: server-server API): signed requests to
 * other homeservers over HTTPS with undici, connecting to the addresses that
 * server discovery gives, in order, with the right TLS server name and
 * `Host` header.
 *
 * Discovery and request signing are injected, so that the client works
 * with any resolver and key store (the defaults of this library, or a
 * test's); whatever the resolver gives passes the address policy before
 * anything is connected to. Every request has a timeout, and every response
 * a size cap fitted to its endpoint and a bound on the values its parse may
 * create; failures are typed ({@link FederationError}, with the error
 * underneath as `cause`) and carry the remote `errcode` as `remoteErrcode`;
 * a destination that keeps failing is backed off. {@link FederationClient.keyTransport} makes
 * it the transport of a keyring (matrix-serverlib/keys).
 *
 * @module
 */

import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { encodeCanonicalJson } from '../canonicaljson/encode.js';
import { parseJson } from '../canonicaljson/parse.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../canonicaljson/value.js';
import { InvalidInputError, type MatrixErrcode, MatrixServerlibError } from '../errors.js';
import type { EventIdString, RoomIdString, UserIdString } from '../identifiers/identifiers.js';
import { MAX_KEYS_BODY_BYTES } from '../keys/check.js';
import type { KeyTransport } from '../keys/fetchers.js';
import { type AbortOptions, raceAbort, withDeadline } from '../util/abort.js';
import { type BackoffPolicy, type BackoffState, Failures } from '../util/backoff.js';
import { measured } from '../util/diagnostics.js';
import {
  backoffChannel,
  type FederationBackoffMessage,
  type FederationRequestMessage,
  requestChannel,
} from './diagnostics.js';
import { AddressPolicy } from './discovery/addresses.js';
import { DiscoveryError } from './discovery/errors.js';
import { ServerResolver } from './discovery/resolve.js';
import {
  type EventAuthResponse,
  type InviteResponse,
  type KeyQueryResponse,
  type MembershipTemplateResponse,
  type MissingEventsResponse,
  type PduTransactionResponse,
  type ProfileResponse,
  type ResponseShape,
  type SendJoinResponse,
  type SendKnockResponse,
  type SendTransactionResponse,
  SHAPES,
  type StateIdsResponse,
  type StateResponse,
  shapeProblem,
  type VersionResponse,
} from './responses.js';
import { printable } from './text.js';
import { Agent, type Dispatcher, request } from './undici.js';

/**
 * The default of {@link FederationClientOptions.maxResponseBytes}: 64 MiB,
 * the cap of the endpoints that answer many events (`send_join`, `state`,
 * `state_ids`, `event_auth`, `send_knock`).
 *
 * Synapse accepts 100 MiB from any endpoint (`ByteParser.MAX_RESPONSE_SIZE`;
 * "a big state_ids is 50M or so") and 500 MiB from `send_join` and `state`
 * (`SendJoinParser.MAX_RESPONSE_SIZE`), but it parses those two as a stream,
 * event by event. This client parses a response whole, into one tree of up
 * to about five times the body's size in heap (see
 * {@link MIN_BYTES_PER_VALUE}), so its cap is lower: 64 MiB holds the
 * `state_ids` of the largest rooms Synapse's comment speaks of, and the full
 * state of rooms of some 80,000 events of 800 bytes. To join larger rooms,
 * ask for partial state (`omitMembers` of {@link FederationClient.sendJoin})
 * or raise the cap, and the heap with it.
 */
export const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/**
 * The cap of the endpoints that answer one event or less: 256 KiB
 * (`make_join`, `make_leave`, `make_knock`, `event`, `invite`, `send_leave`,
 * `send`, `query/profile`, `version`).
 *
 * A PDU is at most 65,536 bytes of Canonical JSON (spec: server-server API,
 * "Size limits"), but is not sent as Canonical JSON: Synapse writes its
 * federation responses with Python's `json` and `ensure_ascii`, so each
 * non-ASCII character becomes a `\uXXXX` escape, up to three times its
 * UTF-8 size (six bytes for two, twelve for four): 192 KiB for the event,
 * and room for the envelope. A profile (at most 64 KiB under the spec's
 * custom profile fields), a version and the answer to a transaction (its at
 * most 50 PDUs' IDs and errors) are smaller.
 */
export const SINGLE_EVENT_RESPONSE_MAX_BYTES = 256 * 1024;

/**
 * The bound on the values a response's parse may create, per byte of its
 * body: one value per 16 bytes, on top of {@link DENSEST_EVENT_VALUES}.
 *
 * A byte cap alone does not bound the heap: a body of `[]` or `{}` is one
 * value per 3 bytes, each tens of bytes of heap (measured: 64 MiB of `[]`
 * took 1.1 GiB), while events as servers send them hold one value per
 * 30 bytes or more (member events shaped as Synapse sends them, as in this
 * repository's benchmark corpus: ~30; event IDs in `state_ids`: ~47). At one value per 16 bytes the heap of a parse is at
 * most about five times its body (up to ~62 bytes a value, for empty
 * objects, plus the decoded text), so the byte caps and
 * {@link FederationClientOptions.maxBufferedBytes} bound the heap too.
 */
export const MIN_BYTES_PER_VALUE = 16;

/**
 * The values one PDU may hold at most: 32,768, as a PDU is at most 65,536
 * bytes of Canonical JSON and each value takes at least two (`0,`). Every
 * response may hold that many on top of its share of
 * {@link MIN_BYTES_PER_VALUE}, so that no valid event, however dense, is
 * refused on its own.
 */
export const DENSEST_EVENT_VALUES = 32_768;

/** The longest {@link FederationError} message, in UTF-16 code units. */
const MAX_MESSAGE_LENGTH = 1_000;
/** The longest part of a message taken from the remote server's `error`. */
const MAX_REMOTE_ERROR_LENGTH = 200;
/** The longest `errcode` kept (the spec's are under 40 characters). */
const MAX_ERRCODE_LENGTH = 100;

/** One place to connect to: a port and the addresses to try on it, in order. */
export interface FederationTarget {
  /** The port. */
  readonly port: number;
  /** The IP addresses to try, in order (each must pass the client's address policy). */
  readonly addresses: readonly string[];
}

/** Where to connect for a server name: what server discovery answers. */
export interface FederationDestination {
  /** The IP address to connect to (the first to try; it must pass the client's address policy). */
  readonly address: string;
  /** The port. */
  readonly port: number;
  /** The `Host` header to send. */
  readonly hostHeader: string;
  /** The name to send as TLS SNI and to check the certificate against; none for IP literals. */
  readonly tlsServerName?: string | undefined;
  /**
   * Every place to try, in order (what {@link ServerResolver} gives as
   * `targets`: SRV targets by priority and weight, each with all its
   * addresses). When given, the client tries each address of each target in
   * turn until one connects, and `address` and `port` are not used on their
   * own; when absent, only `address` and `port` are tried.
   */
  readonly targets?: readonly FederationTarget[] | undefined;
}

/**
 * Finds where to connect for a server name (see server discovery). The
 * client passes the caller's signal: a resolver should stop what it does
 * for the call when it aborts (the client stops waiting in any case).
 */
export type DestinationResolver = (serverName: string, options?: AbortOptions) => Promise<FederationDestination>;

/**
 * What a request signature covers (spec: "Request Authentication"): an
 * `OutgoingRequest` of `signRequest`, which signs it as it is.
 */
export interface RequestToSign {
  /** The method, upper case. */
  readonly method: string;
  /** The path and query string, as sent. */
  readonly uri: string;
  /**
   * The server name to sign as: the request's `origin`, or the client's
   * `serverName` (see {@link FederationCallOptions.origin}).
   */
  readonly origin: string;
  /** The server the request is for. */
  readonly destination: string;
  /** The JSON body, if any. */
  readonly content?: JsonValue;
}

/**
 * Returns the `Authorization` header value (X-Matrix) for a request, signed
 * as its `origin`: with one key, `(r) => signRequest(r, keyId, key)`; when
 * hosting several server names, with the key of `r.origin`. A signer that
 * cannot sign as the origin should throw (the request is then not sent).
 */
export type RequestSigner = (request: RequestToSign) => string;

/** Options for {@link FederationClient}. */
export interface FederationClientOptions {
  /**
   * Our server name: the `origin` of our requests unless a request names
   * another ({@link FederationCallOptions.origin}, for virtual hosting).
   */
  readonly serverName: string;
  /** Signs requests, as the origin each names. */
  readonly sign: RequestSigner;
  /**
   * Finds where other servers are. Default: a {@link ServerResolver} with
   * its defaults (the spec's discovery), sharing `ca`, `now`, `policy` and
   * `allow`. Whatever it gives is checked against the address policy before
   * anything is connected to: every address must be an IP address the
   * policy allows (a hostname is refused, as it would be resolved again,
   * unchecked), or the request fails with `discovery`.
   */
  readonly resolve?: DestinationResolver;
  /**
   * Which addresses may be connected to (default: `new AddressPolicy({ allow })`,
   * which refuses loopback, private, link-local and other non-public ranges).
   */
  readonly policy?: AddressPolicy;
  /** Addresses and CIDR ranges allowed despite the default blocklist, when `policy` is not given. */
  readonly allow?: readonly string[];
  /**
   * TLS: the certificate authorities (PEM) to trust instead of Node's
   * bundled roots (Node's `ca` replaces them), e.g. a test CA. Default:
   * Node's bundled roots.
   */
  readonly ca?: string | readonly string[];
  /**
   * Per-request timeout in milliseconds, over everything the request takes
   * (every connection attempt, headers and body); default 60 s.
   */
  readonly timeoutMs?: number;
  /**
   * Timeout of each connection attempt (TCP and TLS), in milliseconds,
   * within `timeoutMs`; default 30 s, as Synapse's connections (Twisted's
   * `HostnameEndpoint`). When it passes, the next address is tried.
   */
  readonly connectTimeoutMs?: number;
  /**
   * The largest response body accepted, in bytes, from the endpoints that
   * answer many events (`send_join`, `state`, `state_ids`, `event_auth`,
   * `send_knock`) and from {@link FederationClient.request} unless the
   * request gives its own `maxBytes`. Every other endpoint has a smaller cap
   * of its own ({@link SINGLE_EVENT_RESPONSE_MAX_BYTES}, the keys' 1 MiB,
   * 256 KiB a PDU for `backfill` and `get_missing_events`), never above
   * this one. Default {@link DEFAULT_MAX_RESPONSE_BYTES} (64 MiB).
   */
  readonly maxResponseBytes?: number;
  /**
   * The most response-body bytes held at once across all requests of this
   * client, from the first byte read until the body is parsed (or handed to
   * the keyring): a response that would take the total past it fails with
   * code `busy`, and nothing is backed off. With the bound on values per
   * byte this bounds the heap that concurrent responses take while they are
   * read and parsed, whoever sends them. Default twice `maxResponseBytes`
   * (128 MiB by default): two of the largest responses at once.
   */
  readonly maxBufferedBytes?: number;
  /**
   * The bytes of body each value of a response's parse must be paid with,
   * beyond the {@link DENSEST_EVENT_VALUES} every response may hold; default
   * {@link MIN_BYTES_PER_VALUE} (16). Lower it to join a room whose state
   * is unusually dense (events made of nothing but tiny values): the heap a
   * response may take grows as it falls, to about 62 bytes a value.
   */
  readonly minBytesPerValue?: number;
  /**
   * Back-off of failing destinations (after no connection, a timeout or a
   * 5xx); default: 10 minutes, doubling, at most 24 hours.
   */
  readonly backoff?: BackoffPolicy;
  /** The clock, in milliseconds; default `Date.now`. */
  readonly now?: () => number;
}

/**
 * Why a federation request failed: the `code` of a {@link FederationError},
 * with the `errcode` each carries.
 */
export type FederationErrorCode =
  /**
   * The remote server answered with an error status (see `status`,
   * `remoteErrcode`); errcode `M_UNKNOWN` (the remote server's own errcode
   * is `remoteErrcode`, for a homeserver that passes it on).
   */
  | 'remote'
  /**
   * The destination is backed off after earlier failures (see `retryAt`);
   * errcode `M_LIMIT_EXCEEDED`.
   */
  | 'backoff'
  /** No connection, a TLS failure, or a reset; errcode `M_UNKNOWN`. */
  | 'network'
  /** The request took longer than the timeout; errcode `M_UNKNOWN`. */
  | 'timeout'
  /**
   * The response body was larger than the cap, or held more values than
   * its size allows (see {@link MIN_BYTES_PER_VALUE}); errcode `M_UNKNOWN`
   * (the remote server's fault, not the request's: not `M_TOO_LARGE`).
   */
  | 'too-large'
  /**
   * The client already held `maxBufferedBytes` of responses being read or
   * parsed; the request may be made again. Errcode `M_LIMIT_EXCEEDED`.
   */
  | 'busy'
  /** The response was not the JSON the endpoint returns; errcode `M_UNKNOWN`. */
  | 'bad-response'
  /**
   * The destination could not be resolved, or resolves to an address the
   * policy refuses; `cause` is the {@link DiscoveryError} (or what a
   * resolver of the caller's threw), and the errcode is the
   * DiscoveryError's (`M_FORBIDDEN` for a refused address), else
   * `M_UNKNOWN`.
   */
  | 'discovery';

/** The errcode of each {@link FederationErrorCode} (see there). */
const FEDERATION_ERRCODES: Readonly<Record<FederationErrorCode, MatrixErrcode>> = {
  remote: 'M_UNKNOWN',
  backoff: 'M_LIMIT_EXCEEDED',
  network: 'M_UNKNOWN',
  timeout: 'M_UNKNOWN',
  'too-large': 'M_UNKNOWN',
  busy: 'M_LIMIT_EXCEEDED',
  'bad-response': 'M_UNKNOWN',
  discovery: 'M_UNKNOWN',
};

/** What a {@link FederationError} carries besides its code, destination and message. */
export interface FederationErrorDetails {
  /** The HTTP status, for `remote`. */
  readonly status?: number;
  /** The remote server's `errcode`, for `remote`, if it gave one. */
  readonly remoteErrcode?: string;
  /** For `backoff`: when requests may be made again (clock milliseconds). */
  readonly retryAt?: number;
  /** The error this one is raised because of. */
  readonly cause?: unknown;
}

/**
 * A failed federation request.
 *
 * `code` says what failed (see {@link FederationErrorCode}), `errcode` what
 * a homeserver answers when the request it serves fails so, and `cause` is
 * the error underneath: the {@link DiscoveryError} of a destination that
 * cannot be resolved, undici's error for a network failure or a timeout,
 * the parser's {@link InvalidInputError} for a response that is not JSON
 * or too large to parse.
 *
 * Its message may quote the remote server (its `error` string, a
 * certificate's names): every control and bidirectional formatting
 * character in it is written as a `\uXXXX` escape, so that it cannot drive a
 * terminal or forge a log line, and it is at most 1,000 characters (the
 * remote `error` at most 200 of them).
 */
export class FederationError extends MatrixServerlibError {
  /** What went wrong. */
  readonly code: FederationErrorCode;
  /** The server the request was for. */
  readonly destination: string;
  /** The HTTP status, for `remote`. */
  readonly status: number | undefined;
  /**
   * The Matrix `errcode` the remote server gave, if any (escaped as the
   * message is, at most 100 characters). Not ours: ours is `errcode`.
   */
  readonly remoteErrcode: string | undefined;
  /** For `backoff`: when requests may be made again (clock milliseconds). */
  readonly retryAt: number | undefined;

  /**
   * @param code - what went wrong.
   * @param destination - the server.
   * @param message - a sentence.
   * @param details - status, remote errcode, retryAt, cause.
   */
  constructor(code: FederationErrorCode, destination: string, message: string, details: FederationErrorDetails = {}) {
    const cause = details.cause;
    const errcode = code === 'discovery' && cause instanceof DiscoveryError ? cause.errcode : FEDERATION_ERRCODES[code];
    super(errcode, printable(message, MAX_MESSAGE_LENGTH), 'cause' in details ? { cause } : {});
    this.name = 'FederationError';
    this.code = code;
    this.destination = destination;
    this.status = details.status;
    this.remoteErrcode =
      details.remoteErrcode === undefined ? undefined : printable(details.remoteErrcode, MAX_ERRCODE_LENGTH);
    this.retryAt = details.retryAt;
  }
}

/** A request to make. */
export interface FederationRequest {
  /** `GET`, `PUT` or `POST`. */
  readonly method: 'GET' | 'PUT' | 'POST';
  /** The path, with its parameters already encoded (see {@link path}). */
  readonly path: string;
  /** Query parameters; repeated keys as arrays. */
  readonly query?: Readonly<Record<string, string | readonly string[]>>;
  /** The JSON body. */
  readonly body?: JsonValue;
  /** Whether to sign it (default true; the key server endpoints are not authenticated). */
  readonly signed?: boolean;
  /**
   * The largest response body accepted, in bytes (default the client's
   * `maxResponseBytes`). The values its parse may create are bounded by
   * the body's size (see {@link MIN_BYTES_PER_VALUE}).
   */
  readonly maxBytes?: number;
}

/** Options of each request of a {@link FederationClient}. */
export interface FederationCallOptions extends AbortOptions {
  /**
   * The server name to send the request as (virtual hosting: one client
   * for every server name we host): the `origin` the signer signs as, and
   * the `origin` of a transaction. Default the client's `serverName`.
   */
  readonly origin?: string;
}

/** Options for {@link FederationClient.sendJoin}. */
export interface SendJoinOptions extends FederationCallOptions {
  /** Ask for a partial state (MSC3706, `omit_members`); default false. */
  readonly omitMembers?: boolean;
}

/** Options for {@link FederationClient.sendTransaction}. */
export interface SendTransactionOptions extends FederationCallOptions {
  /** The EDUs to send; default none. */
  readonly edus?: readonly JsonValue[];
  /** The transaction's `origin_server_ts`, in milliseconds; default the client's clock now. */
  readonly originServerTs?: number;
}

/** Options for {@link FederationClient.keyTransport}. */
export interface FederationKeyTransportOptions {
  /**
   * The largest key response read, in bytes: give the keyring's
   * `limits.maxBytes` here too. Default `MAX_KEYS_BODY_BYTES` (1 MiB), the
   * keyring's default.
   */
  readonly maxBytes?: number;
}

/**
 * Errors of a connection attempt that never reached the server: the next
 * address may be tried (Synapse's `MatrixHostnameEndpoint` tries the next
 * server whenever connecting fails). Anything after the connection, an
 * HTTP error status included, is not retried elsewhere.
 */
const CONNECT_ERRORS = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
  'EADDRNOTAVAIL',
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
]);

function isConnectError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && CONNECT_ERRORS.has(code);
}

/** The (address, port) pairs to try for a destination, in order. */
function attemptsOf(d: FederationDestination): { address: string; port: number }[] {
  if (d.targets === undefined) return [{ address: d.address, port: d.port }];
  return d.targets.flatMap((t) => t.addresses.map((address) => ({ address, port: t.port })));
}

/** What one exchange gave: the status and the body, as bytes. */
interface Exchanged {
  readonly status: number;
  readonly body: Buffer;
  readonly uri: string;
}

/**
 * Every address of a destination, checked against the policy.
 *
 * @returns why the destination may not be connected to, or undefined.
 */
function refusedAddress(d: FederationDestination, policy: AddressPolicy): string | undefined {
  // All or nothing, as the resolver does: a name that gives a refused
  // address beside allowed ones is not trusted with the allowed ones.
  for (const { address } of attemptsOf(d)) {
    const verdict = policy.check(address);
    if (!verdict.allowed) return verdict.reason ?? `${address} is not allowed`;
  }
  return undefined;
}

/**
 * The cap of a response of at most `limit` PDUs: one
 * {@link SINGLE_EVENT_RESPONSE_MAX_BYTES} each, and one for the envelope.
 * A limit that is not a positive number gives the envelope's alone.
 */
function eventsCap(limit: number): number {
  const events = Number.isFinite(limit) && limit > 0 ? Math.ceil(limit) : 0;
  return (events + 1) * SINGLE_EVENT_RESPONSE_MAX_BYTES;
}

/**
 * Percent-encodes a path segment or a query key or value, as
 * `encodeURIComponent` does, but refusing an unpaired surrogate (which no
 * URI can carry) with the library's error instead of a `URIError`.
 */
function encodeComponent(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch (e) {
    const shown = JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text);
    throw new InvalidInputError('M_INVALID_PARAM', `${shown} cannot be written in a URI`, { cause: e });
  }
}

/**
 * Builds a path from a template and parameters, each percent-encoded as one segment.
 *
 * @throws {@link InvalidInputError} `M_INVALID_PARAM` if a parameter holds
 *   an unpaired surrogate.
 */
export function path(strings: TemplateStringsArray, ...params: string[]): string {
  let out = strings[0] as string;
  params.forEach((p, i) => {
    out += encodeComponent(p) + (strings[i + 1] as string);
  });
  return out;
}

function queryString(query: FederationRequest['query']): string {
  if (query === undefined) return '';
  const parts: string[] = [];
  for (const [key, value] of Object.entries(query)) {
    for (const v of typeof value === 'string' ? [value] : value) {
      parts.push(`${encodeComponent(key)}=${encodeComponent(v)}`);
    }
  }
  return parts.length === 0 ? '' : `?${parts.join('&')}`;
}

/**
 * A client for the server-server API. One instance per homeserver
 * identity; it keeps a connection pool per destination.
 */
export class FederationClient {
  readonly #options: FederationClientOptions;
  readonly #resolve: DestinationResolver;
  readonly #agents = new Map<string, Agent>();
  readonly #backoff: Failures;
  readonly #now: () => number;
  readonly #timeoutMs: number;
  readonly #connectTimeoutMs: number;
  readonly #maxBytes: number;
  readonly #policy: AddressPolicy;
  readonly #maxBuffered: number;
  readonly #bytesPerValue: number;
  /** Bytes of response bodies held now (see {@link FederationClientOptions.maxBufferedBytes}). */
  #buffered = 0;

  /**
   * @param options - identity, signer, resolver, limits.
   * @throws {@link InvalidInputError} `M_INVALID_PARAM` if `allow` has
   * something that is not an address or CIDR range.
   */
  constructor(options: FederationClientOptions) {
    this.#options = options;
    this.#policy = options.policy ?? new AddressPolicy(options.allow === undefined ? {} : { allow: options.allow });
    if (options.resolve === undefined) {
      const resolver = new ServerResolver({
        policy: this.#policy,
        ...(options.ca !== undefined ? { ca: options.ca } : {}),
        ...(options.now !== undefined ? { now: options.now } : {}),
      });
      this.#resolve = (name, o) => resolver.resolve(name, o);
    } else {
      this.#resolve = options.resolve;
    }
    this.#backoff = new Failures(
      { initialMs: 10 * 60_000, maxMs: 24 * 3_600_000, ...options.backoff },
      10_000,
      (destination, state) => {
        if (backoffChannel.hasSubscribers)
          backoffChannel.publish({ destination, state } satisfies FederationBackoffMessage);
      },
    );
    this.#now = options.now ?? Date.now;
    this.#timeoutMs = options.timeoutMs ?? 60_000;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 30_000;
    this.#maxBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.#maxBuffered = options.maxBufferedBytes ?? 2 * this.#maxBytes;
    this.#bytesPerValue = Math.max(1, options.minBytesPerValue ?? MIN_BYTES_PER_VALUE);
  }

  /**
   * What the client remembers of a destination's failures: how many in a
   * row, and when requests may be made again (if that is past, the next
   * request is made, and a failure makes the wait longer). Undefined when
   * the destination is not failing.
   *
   * @param destination - the server name.
   */
  backoffState(destination: string): BackoffState | undefined {
    return this.#backoff.state(destination);
  }

  /**
   * Every destination remembered as failing, with its state (see
   * {@link FederationClient.backoffState}), the least recently failed first.
   * At most 10,000 are remembered: past that the oldest is forgotten.
   */
  backoffStates(): IterableIterator<[string, BackoffState]> {
    return this.#backoff.states();
  }

  /**
   * Forgets a destination's failures, so that the next request is made at
   * once: for when you learn it is back (it sent us a request, or an
   * operator says so), as Synapse resets its back-off when a destination
   * contacts it.
   *
   * @param destination - the server name.
   */
  resetBackoff(destination: string): void {
    this.#backoff.succeeded(destination);
  }

  /**
   * Closes every connection.
   *
   * @returns when every connection is closed. Never rejects.
   */
  async close(): Promise<void> {
    await Promise.all([...this.#agents.values()].map((a) => a.close()));
    this.#agents.clear();
  }

  #agentFor(tlsServerName: string | undefined, address: string, port: number): Dispatcher {
    const key = `${address}|${port}|${tlsServerName ?? ''}`;
    let agent = this.#agents.get(key);
    if (agent === undefined) {
      const ca = this.#options.ca;
      agent = new Agent({
        connect: {
          // The certificate must be valid for the server name, not for the
          // address connected to (spec: "Resolving server names"). undici
          // takes SNI from the Host header, so the check is pinned here.
          ...(tlsServerName !== undefined ? { servername: tlsServerName } : {}),
          checkServerIdentity: (_host: string, cert: PeerCertificate) =>
            checkServerIdentity(tlsServerName ?? address, cert),
          ...(ca !== undefined ? { ca: typeof ca === 'string' ? ca : [...ca] } : {}),
          timeout: Math.min(this.#connectTimeoutMs, this.#timeoutMs),
        },
        headersTimeout: this.#timeoutMs,
        bodyTimeout: this.#timeoutMs,
      });
      this.#agents.set(key, agent);
    }
    return agent;
  }

  /**
   * Makes a (signed) request to `destination` and returns the parsed JSON
   * response (numbers kept exactly: big integers as `bigint`, floats as
   * `JsonFloat`, so events of any room version survive).
   *
   * The addresses discovery gives are tried in order while connecting
   * fails; once one connects, its answer is the answer (an HTTP error is
   * not retried elsewhere).
   *
   * Every request method of the client takes the same `options` last:
   * `signal` cancels the request (discovery included) at any point; the
   * promise then rejects with the signal's reason, and the destination is
   * not backed off for it. `origin` sends it as another server name we
   * host (the signer is asked to sign as it).
   *
   * @param destination - the server name.
   * @param req - method, path, query, body, size cap.
   * @param options - the signal.
   * @throws {@link FederationError} on any failure (see
   *   {@link FederationErrorCode}): `too-large` for a body over `maxBytes`
   *   (default `maxResponseBytes`) or holding more values than its size
   *   allows, `busy` when the client holds `maxBufferedBytes` of responses
   *   already, `bad-response` for one that is not JSON (or not UTF-8),
   *   `remote` for a status other than 2xx, `backoff`, `discovery`,
   *   `network`, `timeout`; {@link InvalidInputError} `M_BAD_JSON` for a
   *   body Canonical JSON cannot encode, `M_INVALID_PARAM` for a query
   *   holding an unpaired surrogate; the signal's reason if it aborts;
   *   whatever the signer throws if it cannot sign as the origin. The
   *   promise rejects; nothing is thrown.
   */
  request(destination: string, req: FederationRequest, options: FederationCallOptions = {}): Promise<JsonValue> {
    return this.#exchange(destination, req, req.maxBytes ?? this.#maxBytes, false, options, (answer) =>
      this.#parse(destination, req, answer),
    );
  }

  /** Parses an answer's body, and turns an error status into a {@link FederationError}. */
  #parse(destination: string, req: FederationRequest, { status, body, uri }: Exchanged): JsonValue {
    let parsed: JsonValue | undefined;
    let problem = '';
    let unparsed: unknown;
    try {
      // The bytes, not a decoded string: invalid UTF-8 is refused rather
      // than silently replaced. The body is within its cap already, so the
      // parser's size limit is its length and never refuses it.
      parsed = parseJson(body, {
        numbers: 'legacy',
        maxLength: body.length,
        maxValues: DENSEST_EVENT_VALUES + Math.floor(body.length / this.#bytesPerValue),
      });
    } catch (e) {
      if (e instanceof InvalidInputError && e.errcode === 'M_TOO_LARGE') {
        throw new FederationError('too-large', destination, `${req.method} ${uri}: ${e.message}`, { cause: e });
      }
      problem = e instanceof Error ? e.message : String(e);
      unparsed = e;
    }
    if (status < 200 || status >= 300) {
      const errcode = isJsonObject(parsed) && typeof parsed.errcode === 'string' ? parsed.errcode : undefined;
      const error =
        isJsonObject(parsed) && typeof parsed.error === 'string'
          ? `: ${printable(parsed.error, MAX_REMOTE_ERROR_LENGTH)}`
          : '';
      throw new FederationError('remote', destination, `${req.method} ${uri} answered ${status}${error}`, {
        status,
        ...(errcode !== undefined ? { remoteErrcode: errcode } : {}),
      });
    }
    if (parsed === undefined) {
      throw new FederationError('bad-response', destination, `${req.method} ${uri} did not answer JSON: ${problem}`, {
        cause: unparsed,
      });
    }
    return parsed;
  }

  /**
   * A transport for a keyring (matrix-serverlib/keys) over this client:
   * unsigned requests (the key endpoints are not authenticated), the body
   * returned as bytes for the keyring to parse with its limits, read up to
   * `maxBytes`. Like Synapse's key fetchers, key requests are made even to
   * a destination backed off after failures (the keyring backs off sources
   * itself); their failures still count for the back-off.
   *
   * @example
   * ```ts
   * const limits = { maxBytes: 64 * 1024 };
   * const keyring = new Keyring({ transport: client.keyTransport(limits), limits });
   * ```
   *
   * @param options - the size cap; default the keyring's default (1 MiB).
   * @returns the transport (never throws). Its promise rejects with a
   *   {@link FederationError} on any failure or status other than 2xx, and
   *   with the signal's reason if the keyring's signal aborts.
   */
  keyTransport(options: FederationKeyTransportOptions = {}): KeyTransport {
    const maxBytes = options.maxBytes ?? MAX_KEYS_BODY_BYTES;
    return {
      fetchJson: async (serverName, { method, path: p, body }, callOptions = {}) => {
        const req: FederationRequest = { method, path: p, signed: false, ...(body !== undefined ? { body } : {}) };
        const answer = await this.#exchange(serverName, req, maxBytes, true, callOptions, (a) => a);
        if (answer.status < 200 || answer.status >= 300) {
          throw new FederationError('remote', serverName, `${method} ${p} answered ${answer.status}`, {
            status: answer.status,
          });
        }
        return answer.body;
      },
    };
  }

  /**
   * Resolves, signs and sends a request, trying each address in turn while
   * connecting fails, reads the body up to `maxBytes`, and gives the answer
   * to `use`: the body's bytes count towards `maxBufferedBytes` until `use`
   * returns. A request the caller's signal aborts rejects with its reason,
   * and is no failure of the destination.
   */
  async #exchange<T>(
    destination: string,
    req: FederationRequest,
    maxBytes: number,
    ignoreBackoff: boolean,
    options: FederationCallOptions,
    use: (answer: Exchanged) => T,
  ): Promise<T> {
    const trace: { status?: number } = {};
    return measured(
      requestChannel,
      () => this.#send(destination, req, maxBytes, ignoreBackoff, options, use, trace),
      ({ error, durationMs }): FederationRequestMessage => ({
        destination,
        origin: req.signed === false ? undefined : (options.origin ?? this.#options.serverName),
        method: req.method,
        path: req.path,
        status: trace.status,
        durationMs,
        error,
      }),
    );
  }

  /** What `#exchange` does, telling `trace` the status once the server answered. */
  async #send<T>(
    destination: string,
    req: FederationRequest,
    maxBytes: number,
    ignoreBackoff: boolean,
    options: FederationCallOptions,
    use: (answer: Exchanged) => T,
    trace: { status?: number },
  ): Promise<T> {
    const caller = options.signal;
    caller?.throwIfAborted();
    const retryAt = ignoreBackoff ? undefined : this.#backoff.retryAt(destination, this.#now());
    if (retryAt !== undefined) {
      throw new FederationError('backoff', destination, `${destination} is backed off after failures`, { retryAt });
    }
    let target: FederationDestination;
    try {
      // A resolver of the caller's may not heed the signal: stop waiting anyway.
      target = await raceAbort(this.#resolve(destination, caller === undefined ? {} : { signal: caller }), caller);
    } catch (e) {
      if (caller?.aborted === true) throw caller.reason;
      this.#backoff.failed(destination, this.#now());
      throw new FederationError('discovery', destination, `Cannot resolve ${destination}: ${String(e)}`, { cause: e });
    }
    // A resolver of the caller's is held to the policy too (CVE-2024-52594:
    // a server name must not make us reach into our own network).
    const refused = refusedAddress(target, this.#policy);
    if (refused !== undefined) {
      throw new FederationError('discovery', destination, `Refusing to connect for ${destination}: ${refused}`, {
        cause: new DiscoveryError('blocked-address', `${destination}: ${refused}`),
      });
    }
    const uri = req.path + queryString(req.query);
    const headers: Record<string, string> = { host: target.hostHeader };
    let body: string | undefined;
    if (req.body !== undefined) {
      body = encodeCanonicalJson(req.body, { numbers: 'legacy' });
      headers['content-type'] = 'application/json';
    }
    if (req.signed !== false) {
      const origin = options.origin ?? this.#options.serverName;
      const toSign: RequestToSign =
        req.body === undefined
          ? { method: req.method, uri, origin, destination }
          : { method: req.method, uri, origin, destination, content: req.body };
      headers.authorization = this.#options.sign(toSign);
    }
    // One deadline for the whole request, every attempt included; the
    // caller's signal aborts it too (undici then destroys the body).
    const signal = withDeadline(this.#timeoutMs, caller);
    let status: number;
    let bytes: Buffer;
    let held = 0;
    try {
      let res: Dispatcher.ResponseData | undefined;
      let first: unknown;
      for (const { address, port } of attemptsOf(target)) {
        const host = address.includes(':') ? `[${address}]` : address;
        try {
          res = await request(`https://${host}:${port}${uri}`, {
            method: req.method,
            headers,
            ...(body !== undefined ? { body } : {}),
            dispatcher: this.#agentFor(target.tlsServerName, address, port),
            signal,
          });
          break;
        } catch (e) {
          if (!isConnectError(e) || signal.aborted) throw e;
          first ??= e;
        }
      }
      // When every address refused, the first failure is reported, as
      // Synapse does ("probably the most interesting").
      if (res === undefined) throw first ?? new Error('Discovery gave no address to connect to');
      status = res.statusCode;
      trace.status = status;
      bytes = await this.#readCapped(res.body, destination, maxBytes, (n) => {
        held += n;
      });
    } catch (e) {
      this.#buffered -= held;
      if (e instanceof FederationError) throw e;
      if (caller?.aborted === true) throw caller.reason;
      this.#backoff.failed(destination, this.#now());
      const timedOut = e instanceof Error && (e.name === 'TimeoutError' || /timeout/i.test(e.name + e.message));
      throw new FederationError(timedOut ? 'timeout' : 'network', destination, `${req.method} ${uri}: ${String(e)}`, {
        cause: e,
      });
    }
    if (status >= 500) this.#backoff.failed(destination, this.#now());
    else this.#backoff.succeeded(destination);
    try {
      return use({ status, body: bytes, uri });
    } finally {
      this.#buffered -= held;
    }
  }

  /**
   * Reads a body up to `maxBytes`, counting each chunk towards
   * `maxBufferedBytes` as it arrives (`hold` is told how much).
   */
  async #readCapped(
    body: AsyncIterable<Uint8Array> & { destroy?: (e?: Error) => void },
    destination: string,
    maxBytes: number,
    hold: (n: number) => void,
  ): Promise<Buffer> {
    const chunks: Uint8Array[] = [];
    let n = 0;
    for await (const chunk of body) {
      n += chunk.byteLength;
      this.#buffered += chunk.byteLength;
      hold(chunk.byteLength);
      if (n > maxBytes) {
        body.destroy?.();
        throw new FederationError('too-large', destination, `The response is larger than ${maxBytes} bytes`);
      }
      if (this.#buffered > this.#maxBuffered) {
        body.destroy?.();
        throw new FederationError(
          'busy',
          destination,
          `Responses being read hold more than ${this.#maxBuffered} bytes (maxBufferedBytes)`,
        );
      }
      chunks.push(chunk);
    }
    return Buffer.concat(chunks);
  }

  /** {@link request}, for endpoints that answer a JSON object of `shape`, with a cap of at most `maxResponseBytes`. */
  async #object<T extends JsonObject>(
    destination: string,
    options: FederationCallOptions,
    req: FederationRequest & { readonly maxBytes: number },
    shape: ResponseShape,
  ): Promise<T> {
    const v = await this.request(destination, { ...req, maxBytes: Math.min(req.maxBytes, this.#maxBytes) }, options);
    if (!isJsonObject(v))
      throw new FederationError('bad-response', destination, `${req.path} did not answer an object`);
    const problem = shapeProblem(v, shape);
    if (problem !== undefined)
      throw new FederationError('bad-response', destination, `${req.path} answered an object ${problem}`);
    return v as T;
  }

  /**
   * `GET /_matrix/key/v2/server`: the server's keys (unauthenticated; check them with the keys module).
   *
   * @throws {@link FederationError} (the promise rejects), as
   *   {@link FederationClient.request}.
   */
  getServerKeys(destination: string, options: FederationCallOptions = {}): Promise<JsonObject> {
    return this.#object<JsonObject>(
      destination,
      options,
      {
        method: 'GET',
        path: '/_matrix/key/v2/server',
        signed: false,
        maxBytes: MAX_KEYS_BODY_BYTES,
      },
      SHAPES.getServerKeys,
    );
  }

  /**
   * `POST /_matrix/key/v2/query`: asks a notary for the keys of other
   * servers (unauthenticated). Check the answer with `checkNotaryResponse`
   * (matrix-serverlib/keys); a keyring does all this with its notaries.
   *
   * @param notary - the notary's server name.
   * @param serverKeys - the query criteria: server name to key ID to
   *   `{ minimum_valid_until_ts }` (no key IDs: all the server's keys).
   * @throws {@link FederationError} (the promise rejects), as
   *   {@link FederationClient.request}.
   */
  queryKeys(notary: string, serverKeys: JsonObject, options: FederationCallOptions = {}): Promise<KeyQueryResponse> {
    return this.#object<KeyQueryResponse>(
      notary,
      options,
      {
        method: 'POST',
        path: '/_matrix/key/v2/query',
        body: { server_keys: serverKeys },
        signed: false,
        maxBytes: MAX_KEYS_BODY_BYTES,
      },
      SHAPES.queryKeys,
    );
  }

  /**
   * `GET /_matrix/federation/v1/version`: the server's implementation name and version.
   *
   * @throws {@link FederationError} (the promise rejects), as
   *   {@link FederationClient.request}.
   */
  getVersion(destination: string, options: FederationCallOptions = {}): Promise<VersionResponse> {
    return this.#object<VersionResponse>(
      destination,
      options,
      {
        method: 'GET',
        path: '/_matrix/federation/v1/version',
        maxBytes: SINGLE_EVENT_RESPONSE_MAX_BYTES,
      },
      SHAPES.getVersion,
    );
  }

  /**
   * `GET /_matrix/federation/v1/make_join/{roomId}/{userId}`: a join
   * template. Validate it (`checkMembershipTemplate`) before signing it.
   *
   * @param supportedVersions - the room versions we support (`ver`).
   * @throws {@link FederationError} (the promise rejects), as
   *   {@link FederationClient.request}; {@link InvalidInputError}
   *   `M_INVALID_PARAM`, thrown, if an ID in the path holds an unpaired
   *   surrogate.
   */
  makeJoin(
    destination: string,
    roomId: RoomIdString,
    userId: UserIdString,
    supportedVersions: readonly string[],
    options: FederationCallOptions = {},
  ): Promise<MembershipTemplateResponse> {
    return this.#object<MembershipTemplateResponse>(
      destination,
      options,
      {
        method: 'GET',
        path: path`/_matrix/federation/v1/make_join/${roomId}/${userId}`,
        query: { ver: supportedVersions },
        maxBytes: SINGLE_EVENT_RESPONSE_MAX_BYTES,
      },
      SHAPES.makeJoin,
    );
  }

  /**
   * `PUT /_matrix/federation/v2/send_join/{roomId}/{eventId}`: sends a
   * signed join; answers the room state and auth chain.
   *
   * @param options - `omitMembers`: ask for a partial state (MSC3706,
   *   `omit_members`); the signal.
   * @throws {@link FederationError} (the promise rejects), as
   *   {@link FederationClient.request}; {@link InvalidInputError}
   *   `M_INVALID_PARAM`, thrown, if an ID in the path holds an unpaired
   *   surrogate.
   */
  sendJoin(
    destination: string,
    roomId: RoomIdString,
    eventId: EventIdString,
    event: JsonObject,
    options: SendJoinOptions = {},
  ): Promise<SendJoinResponse> {
    return this.#object<SendJoinResponse>(
      destination,
      options,
      {
        method: 'PUT',
        path: path`/_matrix/federation/v2/send_join/${roomId}/${eventId}`,
        ...(options.omitMembers === true ? { query: { omit_members: 'true' } } : {}),
        body: event,
        maxBytes: this.#maxBytes,
      },
      SHAPES.sendJoin,
    );
  }

  /**
   * `GET /_matrix/federation/v1/make_leave/{roomId}/{userId}`: a leave template.
   *
   * @throws {@link FederationError} (the promise rejects), as
   *   {@link FederationClient.request}; {@link InvalidInputError}
   *   `M_INVALID_PARAM`, thrown, if an ID in the path holds an unpaired
   *   surrogate.
   */
  makeLeave(
    destination: string,
    roomId: RoomIdString,
    userId: UserIdString,
    options: FederationCallOptions = {},
  ): Promise<MembershipTemplateResponse> {
    return this.#object<MembershipTemplateResponse>(
      destination,
      options,
      {
        method: 'GET',
        path: path`/_matrix/federation/v1/make_leave/${roomId}/${userId}`,
        maxBytes: SINGLE_EVENT_RESPONSE_MAX_BYTES,
      },
      SHAPES.makeLeave,
    );
  }

  /**
   * `PUT /_matrix/federation/v2/send_leave/{roomId}/{eventId}`.
   *
   * @throws {@link FederationError} (the promise rejects), as
   *   {@link FederationClient.request}; {@link InvalidInputError}
   *   `M_INVALID_PARAM`, thrown, if an ID in the path holds an unpaired
   *   surrogate.
   */
  sendLeave(
    destination: string,
    roomId: RoomIdString,
    eventId: EventIdString,
    event: JsonObject,
    options: FederationCallOptions = {},
  ): Promise<JsonObject> {
    return this.#object<JsonObject>(
      destination,
      options,
      {
        method: 'PUT',
        path: path`/_matrix/federation/v2/send_leave/${roomId}/${eventId}`,
        body: event,
        maxBytes: SINGLE_EVENT_RESPONSE_MAX_BYTES,
      },
      SHAPES.sendLeave,
    );
  }

  /**
   * `GET /_matrix/federation/v1/make_knock/{roomId}/{userId}`: a knock template.
   *
   * @throws {@link FederationError} (the promise rejects), as
   *   {@link FederationClient.request}; {@link InvalidInputError}
   *   `M_INVALID_PARAM`, thrown, if an ID in the path holds an unpaired
   *   surrogate.
   */
  makeKnock(
    destination: string,
    roomId: RoomIdString,
    userId: UserIdString,
    supportedVersions: readonly string[],
    options: FederationCallOptions = {},
  ): Promise<MembershipTemplateResponse> {
    return this.#object<MembershipTemplateResponse>(
      destination,
      options,
      {
        method: 'GET',
        path: path`/_matrix/federation/v1/make_knock/${roomId}/${userId}`,
        query: { ver: supportedVersions },
        maxBytes: SINGLE_EVENT_RESPONSE_MAX_BYTES,
      },
      SHAPES.makeKnock,
    );
  }

  /**
   * `PUT /_matrix/federation/v1/send_knock/{roomId}/{eventId}`.
   *
   * @throws {@link FederationError} (the promise rejects), as
   *   {@link FederationClient.request}; {@link InvalidInputError}
   *   `M_INVALID_PARAM`, thrown, if an ID in the path holds an unpaired
   *   surrogate.
   */
  sendKnock(
    destination: string,
    roomId: RoomIdString,
    eventId: EventIdString,
    event: JsonObject,
    options: FederationCallOptions = {},
  ): Promise<SendKnockResponse> {
    return this.#object<SendKnockResponse>(
      destination,
      options,
      {
        method: 'PUT',
        path: path`/_matrix/federation/v1/send_knock/${roomId}/${eventId}`,
        body: event,
        // Stripped state events, as many as the room's server chooses to share.
        maxBytes: this.#maxBytes,
      },
      SHAPES.sendKnock,
    );
  }

  /**
   * `PUT /_matrix/federation/v2/invite/{roomId}/{eventId}`: asks the
   * invitee's server to sign an invite; answers `{event}` with its
   * signature.
   * @throws {@link FederationError} (the promise rejects), as
   *   {@link FederationClient.request}; {@link InvalidInputError}
   *   `M_INVALID_PARAM`, thrown, if an ID in the path holds an unpaired
   *   surrogate.
   */
  invite(
    destination: string,
    roomId: RoomIdString,
    eventId: EventIdString,
    invite: { event: JsonObject; roomVersion: string; inviteRoomState?: JsonValue[] },
    options: FederationCallOptions = {},
  ): Promise<InviteResponse> {
    return this.#object<InviteResponse>(
      destination,
      options,
      {
        method: 'PUT',
        path: path`/_matrix/federation/v2/invite/${roomId}/${eventId}`,
        body: {
          event: invite.event,
          room_version: invite.roomVersion,
          invite_room_state: invite.inviteRoomState ?? [],
        },
        maxBytes: SINGLE_EVENT_RESPONSE_MAX_BYTES,
      },
      SHAPES.invite,
    );
  }

  /**
   * `PUT /_matrix/federation/v1/send/{txnId}`: a transaction of PDUs and
   * EDUs, sent as `options.origin` (default the client's server name).
   *
   * @param pdus - the PDUs (the spec allows at most 50).
   * @param options - the EDUs (at most 100), the transaction's
   *   `origin_server_ts` (default now), the origin and the signal.
   * @returns what the destination made of each PDU, by event ID.
   * @throws {@link FederationError} (the promise rejects), as
   *   {@link FederationClient.request}; {@link InvalidInputError}
   *   `M_INVALID_PARAM`, thrown, if an ID in the path holds an unpaired
   *   surrogate.
   */
  sendTransaction(
    destination: string,
    txnId: string,
    pdus: readonly JsonValue[],
    options: SendTransactionOptions = {},
  ): Promise<SendTransactionResponse> {
    return this.#object<SendTransactionResponse>(
      destination,
      options,
      {
        method: 'PUT',
        path: path`/_matrix/federation/v1/send/${txnId}`,
        body: {
          origin: options.origin ?? this.#options.serverName,
          origin_server_ts: options.originServerTs ?? this.#now(),
          pdus: [...pdus],
          edus: [...(options.edus ?? [])],
        },
        maxBytes: SINGLE_EVENT_RESPONSE_MAX_BYTES,
      },
      SHAPES.sendTransaction,
    );
  }

  /**
   * `GET /_matrix/federation/v1/event/{eventId}`: a transaction holding the event.
   *
   * @throws {@link FederationError} (the promise rejects), as
   *   {@link FederationClient.request}; {@link InvalidInputError}
   *   `M_INVALID_PARAM`, thrown, if an ID in the path holds an unpaired
   *   surrogate.
   */
  getEvent(
    destination: string,
    eventId: EventIdString,
    options: FederationCallOptions = {},
  ): Promise<PduTransactionResponse> {
    return this.#object<PduTransactionResponse>(
      destination,
      options,
      {
        method: 'GET',
        path: path`/_matrix/federation/v1/event/${eventId}`,
        maxBytes: SINGLE_EVENT_RESPONSE_MAX_BYTES,
      },
      SHAPES.getEvent,
    );
  }

  /**
   * `GET /_matrix/federation/v1/state/{roomId}?event_id=`: the state and auth chain at an event.
   *
   * @throws {@link FederationError} (the promise rejects), as
   *   {@link FederationClient.request}; {@link InvalidInputError}
   *   `M_INVALID_PARAM`, thrown, if an ID in the path holds an unpaired
   *   surrogate.
   */
  getState(
    destination: string,
    roomId: RoomIdString,
    eventId: EventIdString,
    options: FederationCallOptions = {},
  ): Promise<StateResponse> {
    return this.#object<StateResponse>(
      destination,
      options,
      {
        method: 'GET',
        path: path`/_matrix/federation/v1/state/${roomId}`,
        query: { event_id: eventId },
        maxBytes: this.#maxBytes,
      },
      SHAPES.getState,
    );
  }

  /**
   * `GET /_matrix/federation/v1/state_ids/{roomId}?event_id=`: their IDs.
   *
   * @throws {@link FederationError} (the promise rejects), as
   *   {@link FederationClient.request}; {@link InvalidInputError}
   *   `M_INVALID_PARAM`, thrown, if an ID in the path holds an unpaired
   *   surrogate.
   */
  getStateIds(
    destination: string,
    roomId: RoomIdString,
    eventId: EventIdString,
    options: FederationCallOptions = {},
  ): Promise<StateIdsResponse> {
    return this.#object<StateIdsResponse>(
      destination,
      options,
      {
        method: 'GET',
        path: path`/_matrix/federation/v1/state_ids/${roomId}`,
        query: { event_id: eventId },
        maxBytes: this.#maxBytes,
      },
      SHAPES.getStateIds,
    );
  }

  /**
   * `GET /_matrix/federation/v1/event_auth/{roomId}/{eventId}`: an event's auth chain.
   *
   * @throws {@link FederationError} (the promise rejects), as
   *   {@link FederationClient.request}; {@link InvalidInputError}
   *   `M_INVALID_PARAM`, thrown, if an ID in the path holds an unpaired
   *   surrogate.
   */
  getEventAuth(
    destination: string,
    roomId: RoomIdString,
    eventId: EventIdString,
    options: FederationCallOptions = {},
  ): Promise<EventAuthResponse> {
    return this.#object<EventAuthResponse>(
      destination,
      options,
      {
        method: 'GET',
        path: path`/_matrix/federation/v1/event_auth/${roomId}/${eventId}`,
        maxBytes: this.#maxBytes,
      },
      SHAPES.getEventAuth,
    );
  }

  /**
   * `POST /_matrix/federation/v1/get_missing_events/{roomId}`: events between the earliest and latest.
   * The response may be {@link SINGLE_EVENT_RESPONSE_MAX_BYTES} a PDU of `limit` (the spec: "the
   * maximum number of events to retrieve"), and one more for the envelope.
   *
   * @throws {@link FederationError} (the promise rejects), as
   *   {@link FederationClient.request}; {@link InvalidInputError}
   *   `M_INVALID_PARAM`, thrown, if an ID in the path holds an unpaired
   *   surrogate.
   */
  getMissingEvents(
    destination: string,
    roomId: RoomIdString,
    q: {
      earliestEvents: readonly EventIdString[];
      latestEvents: readonly EventIdString[];
      limit?: number;
      minDepth?: number;
    },
    options: FederationCallOptions = {},
  ): Promise<MissingEventsResponse> {
    const limit = q.limit ?? 10;
    return this.#object<MissingEventsResponse>(
      destination,
      options,
      {
        method: 'POST',
        path: path`/_matrix/federation/v1/get_missing_events/${roomId}`,
        body: {
          earliest_events: [...q.earliestEvents],
          latest_events: [...q.latestEvents],
          limit,
          min_depth: q.minDepth ?? 0,
        },
        maxBytes: eventsCap(limit),
      },
      SHAPES.getMissingEvents,
    );
  }

  /**
   * `GET /_matrix/federation/v1/backfill/{roomId}?v=…&limit=`: history before the given events.
   * The response may be {@link SINGLE_EVENT_RESPONSE_MAX_BYTES} a PDU of `limit` (the spec: "the
   * maximum number of PDUs to retrieve, including the given events"), and one more for the envelope.
   *
   * @throws {@link FederationError} (the promise rejects), as
   *   {@link FederationClient.request}; {@link InvalidInputError}
   *   `M_INVALID_PARAM`, thrown, if an ID in the path holds an unpaired
   *   surrogate.
   */
  backfill(
    destination: string,
    roomId: RoomIdString,
    fromEventIds: readonly EventIdString[],
    limit: number,
    options: FederationCallOptions = {},
  ): Promise<PduTransactionResponse> {
    return this.#object<PduTransactionResponse>(
      destination,
      options,
      {
        method: 'GET',
        path: path`/_matrix/federation/v1/backfill/${roomId}`,
        query: { v: fromEventIds, limit: String(limit) },
        maxBytes: eventsCap(limit),
      },
      SHAPES.backfill,
    );
  }

  /**
   * `GET /_matrix/federation/v1/query/profile`: a user's profile (or one field of it).
   *
   * @throws {@link FederationError} (the promise rejects), as
   *   {@link FederationClient.request}.
   */
  queryProfile(
    destination: string,
    userId: UserIdString,
    field?: 'displayname' | 'avatar_url',
    options: FederationCallOptions = {},
  ): Promise<ProfileResponse> {
    return this.#object<ProfileResponse>(
      destination,
      options,
      {
        method: 'GET',
        path: '/_matrix/federation/v1/query/profile',
        query: field === undefined ? { user_id: userId } : { user_id: userId, field },
        maxBytes: SINGLE_EVENT_RESPONSE_MAX_BYTES,
      },
      SHAPES.queryProfile,
    );
  }
}
