/**
 * The federation client (spec: server-server API): signed requests to
 * other homeservers over HTTPS with undici, connecting to the addresses that
 * server discovery gives, in order, with the right TLS server name and
 * `Host` header.
 *
 * Discovery and request signing are injected, so that the client works
 * with any resolver and key store (the defaults of this library, or a
 * test's). Every request has a timeout and a response size cap; failures
 * are typed ({@link FederationError}) and carry the remote `errcode`; a
 * destination that keeps failing is backed off. {@link FederationClient.keyTransport}
 * makes it the transport of a keyring (matrix-serverlib/keys).
 *
 * @module
 */

import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { Agent, type Dispatcher, request } from 'undici';
import { encodeCanonicalJson } from '../canonicaljson/encode.js';
import { parseJson } from '../canonicaljson/parse.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../canonicaljson/value.js';
import { MAX_KEYS_BODY_BYTES } from '../keys/check.js';
import type { KeyTransport } from '../keys/fetchers.js';
import { type BackoffPolicy, Failures } from './backoff.js';
import { ServerResolver } from './discovery/resolve.js';

/** One place to connect to: a port and the addresses to try on it, in order. */
export interface FederationTarget {
  /** The port. */
  readonly port: number;
  /** The IP addresses (or hostnames) to try, in order. */
  readonly addresses: readonly string[];
}

/** Where to connect for a server name: what server discovery answers. */
export interface FederationDestination {
  /** The IP address or hostname to connect to (the first to try). */
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

/** Finds where to connect for a server name (see server discovery). */
export type DestinationResolver = (serverName: string) => Promise<FederationDestination>;

/** What a request signature covers (spec: "Request Authentication"). */
export interface RequestToSign {
  /** The method, upper case. */
  readonly method: string;
  /** The path and query string, as sent. */
  readonly uri: string;
  /** The server the request is for. */
  readonly destination: string;
  /** The JSON body, if any. */
  readonly content?: JsonValue;
}

/** Returns the `Authorization` header value (X-Matrix) for a request. */
export type RequestSigner = (request: RequestToSign) => string;

/** Options for {@link FederationClient}. */
export interface FederationClientOptions {
  /** Our server name (the `origin` of our requests). */
  readonly serverName: string;
  /** Signs requests. */
  readonly sign: RequestSigner;
  /**
   * Finds where other servers are. Default: a {@link ServerResolver} with
   * its defaults (the spec's discovery, private addresses refused), sharing
   * `ca` and `now`.
   */
  readonly resolve?: DestinationResolver;
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
  /** The largest response body accepted, in bytes; default 64 MiB (room state can be large). */
  readonly maxResponseBytes?: number;
  /**
   * Back-off of failing destinations (after no connection, a timeout or a
   * 5xx); default: 10 minutes, doubling, at most 24 hours.
   */
  readonly backoff?: BackoffPolicy;
  /** The clock, in milliseconds; default `Date.now`. */
  readonly now?: () => number;
}

/** Why a federation request failed. */
export type FederationErrorKind =
  /** The remote server answered with an error status (see `status`, `errcode`). */
  | 'remote'
  /** The destination is backed off after earlier failures (see `retryAt`). */
  | 'backoff'
  /** No connection, a TLS failure, or a reset. */
  | 'network'
  /** The request took longer than the timeout. */
  | 'timeout'
  /** The response body was larger than the cap. */
  | 'too_large'
  /** The response was not the JSON the endpoint returns. */
  | 'bad_response'
  /** The destination could not be resolved. */
  | 'discovery';

/** A failed federation request. */
export class FederationError extends Error {
  /** What went wrong. */
  readonly kind: FederationErrorKind;
  /** The server the request was for. */
  readonly destination: string;
  /** The HTTP status, for `remote`. */
  readonly status: number | undefined;
  /** The Matrix `errcode` the remote server gave, if any. */
  readonly errcode: string | undefined;
  /** For `backoff`: when requests may be made again (clock milliseconds). */
  readonly retryAt: number | undefined;

  /**
   * @param kind - what went wrong.
   * @param destination - the server.
   * @param message - a sentence.
   * @param details - status, errcode, retryAt.
   */
  constructor(
    kind: FederationErrorKind,
    destination: string,
    message: string,
    details: { status?: number; errcode?: string; retryAt?: number } = {},
  ) {
    super(message);
    this.name = 'FederationError';
    this.kind = kind;
    this.destination = destination;
    this.status = details.status;
    this.errcode = details.errcode;
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

/** Builds a path from a template and parameters, each percent-encoded as one segment. */
export function path(strings: TemplateStringsArray, ...params: string[]): string {
  let out = strings[0] as string;
  params.forEach((p, i) => {
    out += encodeURIComponent(p) + (strings[i + 1] as string);
  });
  return out;
}

function queryString(query: FederationRequest['query']): string {
  if (query === undefined) return '';
  const parts: string[] = [];
  for (const [key, value] of Object.entries(query)) {
    for (const v of typeof value === 'string' ? [value] : value) {
      parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(v)}`);
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

  /** @param options - identity, signer, resolver, limits. */
  constructor(options: FederationClientOptions) {
    this.#options = options;
    if (options.resolve === undefined) {
      const resolver = new ServerResolver({
        ...(options.ca !== undefined ? { ca: options.ca } : {}),
        ...(options.now !== undefined ? { now: options.now } : {}),
      });
      this.#resolve = (name) => resolver.resolve(name);
    } else {
      this.#resolve = options.resolve;
    }
    this.#backoff = new Failures({ initialMs: 10 * 60_000, maxMs: 24 * 3_600_000, ...options.backoff }, 10_000);
    this.#now = options.now ?? Date.now;
    this.#timeoutMs = options.timeoutMs ?? 60_000;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 30_000;
    this.#maxBytes = options.maxResponseBytes ?? 64 * 1024 * 1024;
  }

  /** Closes every connection. */
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
   * @param destination - the server name.
   * @param req - method, path, query, body.
   * @throws {@link FederationError} on any failure: `too_large` for a body
   *   over `maxResponseBytes`, `bad_response` for one that is not JSON (or
   *   not UTF-8).
   */
  async request(destination: string, req: FederationRequest): Promise<JsonValue> {
    const { status, body, uri } = await this.#exchange(destination, req, this.#maxBytes, false);
    let parsed: JsonValue | undefined;
    let problem = '';
    try {
      // The bytes, not a decoded string: invalid UTF-8 is refused rather
      // than silently replaced. The body is at most the cap already, so the
      // parser's own size limit is set to the cap and never refuses it.
      parsed = parseJson(body, { numbers: 'legacy', maxLength: this.#maxBytes });
    } catch (e) {
      problem = e instanceof Error ? e.message : String(e);
    }
    if (status < 200 || status >= 300) {
      const errcode = isJsonObject(parsed) && typeof parsed.errcode === 'string' ? parsed.errcode : undefined;
      const error = isJsonObject(parsed) && typeof parsed.error === 'string' ? `: ${parsed.error}` : '';
      throw new FederationError('remote', destination, `${req.method} ${uri} answered ${status}${error}`, {
        status,
        ...(errcode !== undefined ? { errcode } : {}),
      });
    }
    if (parsed === undefined) {
      throw new FederationError('bad_response', destination, `${req.method} ${uri} did not answer JSON: ${problem}`);
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
   * @returns the transport. Its promise rejects with a {@link FederationError}
   *   on any failure or status other than 2xx.
   */
  keyTransport(options: FederationKeyTransportOptions = {}): KeyTransport {
    const maxBytes = options.maxBytes ?? MAX_KEYS_BODY_BYTES;
    return {
      fetchJson: async (serverName, { method, path: p, body }) => {
        const req: FederationRequest = { method, path: p, signed: false, ...(body !== undefined ? { body } : {}) };
        const answer = await this.#exchange(serverName, req, maxBytes, true);
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
   * connecting fails, and reads the body up to `maxBytes`.
   */
  async #exchange(
    destination: string,
    req: FederationRequest,
    maxBytes: number,
    ignoreBackoff: boolean,
  ): Promise<Exchanged> {
    const retryAt = ignoreBackoff ? undefined : this.#backoff.retryAt(destination, this.#now());
    if (retryAt !== undefined) {
      throw new FederationError('backoff', destination, `${destination} is backed off after failures`, { retryAt });
    }
    let target: FederationDestination;
    try {
      target = await this.#resolve(destination);
    } catch (e) {
      this.#backoff.failed(destination, this.#now());
      throw new FederationError('discovery', destination, `Cannot resolve ${destination}: ${String(e)}`);
    }
    const uri = req.path + queryString(req.query);
    const headers: Record<string, string> = { host: target.hostHeader };
    let body: string | undefined;
    if (req.body !== undefined) {
      body = encodeCanonicalJson(req.body, { numbers: 'legacy' });
      headers['content-type'] = 'application/json';
    }
    if (req.signed !== false) {
      const toSign: RequestToSign =
        req.body === undefined
          ? { method: req.method, uri, destination }
          : { method: req.method, uri, destination, content: req.body };
      headers.authorization = this.#options.sign(toSign);
    }
    // One deadline for the whole request, every attempt included.
    const signal = AbortSignal.timeout(this.#timeoutMs);
    let status: number;
    let bytes: Buffer;
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
      bytes = await this.#readCapped(res.body, destination, maxBytes);
    } catch (e) {
      if (e instanceof FederationError) throw e;
      this.#backoff.failed(destination, this.#now());
      const timedOut = e instanceof Error && (e.name === 'TimeoutError' || /timeout/i.test(e.name + e.message));
      throw new FederationError(timedOut ? 'timeout' : 'network', destination, `${req.method} ${uri}: ${String(e)}`);
    }
    if (status >= 500) this.#backoff.failed(destination, this.#now());
    else this.#backoff.succeeded(destination);
    return { status, body: bytes, uri };
  }

  /** Reads a body up to `maxBytes`. */
  async #readCapped(
    body: AsyncIterable<Uint8Array> & { destroy?: (e?: Error) => void },
    destination: string,
    maxBytes: number,
  ): Promise<Buffer> {
    const chunks: Uint8Array[] = [];
    let n = 0;
    for await (const chunk of body) {
      n += chunk.byteLength;
      if (n > maxBytes) {
        body.destroy?.();
        throw new FederationError('too_large', destination, `The response is larger than ${maxBytes} bytes`);
      }
      chunks.push(chunk);
    }
    return Buffer.concat(chunks);
  }

  /** {@link request}, for endpoints that answer a JSON object. */
  async #object(destination: string, req: FederationRequest): Promise<JsonObject> {
    const v = await this.request(destination, req);
    if (!isJsonObject(v))
      throw new FederationError('bad_response', destination, `${req.path} did not answer an object`);
    return v;
  }

  /** `GET /_matrix/key/v2/server`: the server's keys (unauthenticated; check them with the keys module). */
  getServerKeys(destination: string): Promise<JsonObject> {
    return this.#object(destination, { method: 'GET', path: '/_matrix/key/v2/server', signed: false });
  }

  /**
   * `POST /_matrix/key/v2/query`: asks a notary for the keys of other
   * servers (unauthenticated). Check the answer with `checkNotaryResponse`
   * (matrix-serverlib/keys); a keyring does all this with its notaries.
   *
   * @param notary - the notary's server name.
   * @param serverKeys - the query criteria: server name to key ID to
   *   `{ minimum_valid_until_ts }` (no key IDs: all the server's keys).
   */
  queryKeys(notary: string, serverKeys: JsonObject): Promise<JsonObject> {
    return this.#object(notary, {
      method: 'POST',
      path: '/_matrix/key/v2/query',
      body: { server_keys: serverKeys },
      signed: false,
    });
  }

  /** `GET /_matrix/federation/v1/version`: the server's implementation name and version. */
  getVersion(destination: string): Promise<JsonObject> {
    return this.#object(destination, { method: 'GET', path: '/_matrix/federation/v1/version' });
  }

  /**
   * `GET /_matrix/federation/v1/make_join/{roomId}/{userId}`: a join
   * template. Validate it (`checkMembershipTemplate`) before signing it.
   *
   * @param supportedVersions - the room versions we support (`ver`).
   */
  makeJoin(destination: string, roomId: string, userId: string, supportedVersions: readonly string[]) {
    return this.#object(destination, {
      method: 'GET',
      path: path`/_matrix/federation/v1/make_join/${roomId}/${userId}`,
      query: { ver: supportedVersions },
    });
  }

  /**
   * `PUT /_matrix/federation/v2/send_join/{roomId}/{eventId}`: sends a
   * signed join; answers the room state and auth chain.
   *
   * @param omitMembers - ask for a partial state (MSC3706, `omit_members`).
   */
  sendJoin(destination: string, roomId: string, eventId: string, event: JsonObject, omitMembers = false) {
    return this.#object(destination, {
      method: 'PUT',
      path: path`/_matrix/federation/v2/send_join/${roomId}/${eventId}`,
      ...(omitMembers ? { query: { omit_members: 'true' } } : {}),
      body: event,
    });
  }

  /** `GET /_matrix/federation/v1/make_leave/{roomId}/{userId}`: a leave template. */
  makeLeave(destination: string, roomId: string, userId: string) {
    return this.#object(destination, {
      method: 'GET',
      path: path`/_matrix/federation/v1/make_leave/${roomId}/${userId}`,
    });
  }

  /** `PUT /_matrix/federation/v2/send_leave/{roomId}/{eventId}`. */
  sendLeave(destination: string, roomId: string, eventId: string, event: JsonObject) {
    return this.#object(destination, {
      method: 'PUT',
      path: path`/_matrix/federation/v2/send_leave/${roomId}/${eventId}`,
      body: event,
    });
  }

  /** `GET /_matrix/federation/v1/make_knock/{roomId}/{userId}`: a knock template. */
  makeKnock(destination: string, roomId: string, userId: string, supportedVersions: readonly string[]) {
    return this.#object(destination, {
      method: 'GET',
      path: path`/_matrix/federation/v1/make_knock/${roomId}/${userId}`,
      query: { ver: supportedVersions },
    });
  }

  /** `PUT /_matrix/federation/v1/send_knock/{roomId}/{eventId}`. */
  sendKnock(destination: string, roomId: string, eventId: string, event: JsonObject) {
    return this.#object(destination, {
      method: 'PUT',
      path: path`/_matrix/federation/v1/send_knock/${roomId}/${eventId}`,
      body: event,
    });
  }

  /**
   * `PUT /_matrix/federation/v2/invite/{roomId}/{eventId}`: asks the
   * invitee's server to sign an invite; answers `{event}` with its
   * signature.
   */
  invite(
    destination: string,
    roomId: string,
    eventId: string,
    invite: { event: JsonObject; roomVersion: string; inviteRoomState?: JsonValue[] },
  ) {
    return this.#object(destination, {
      method: 'PUT',
      path: path`/_matrix/federation/v2/invite/${roomId}/${eventId}`,
      body: {
        event: invite.event,
        room_version: invite.roomVersion,
        invite_room_state: invite.inviteRoomState ?? [],
      },
    });
  }

  /** `PUT /_matrix/federation/v1/send/{txnId}`: a transaction of PDUs and EDUs. */
  sendTransaction(
    destination: string,
    txnId: string,
    pdus: JsonValue[],
    edus: JsonValue[] = [],
    originServerTs?: number,
  ) {
    return this.#object(destination, {
      method: 'PUT',
      path: path`/_matrix/federation/v1/send/${txnId}`,
      body: {
        origin: this.#options.serverName,
        origin_server_ts: originServerTs ?? this.#now(),
        pdus,
        edus,
      },
    });
  }

  /** `GET /_matrix/federation/v1/event/{eventId}`: a transaction holding the event. */
  getEvent(destination: string, eventId: string) {
    return this.#object(destination, { method: 'GET', path: path`/_matrix/federation/v1/event/${eventId}` });
  }

  /** `GET /_matrix/federation/v1/state/{roomId}?event_id=`: the state and auth chain at an event. */
  getState(destination: string, roomId: string, eventId: string) {
    return this.#object(destination, {
      method: 'GET',
      path: path`/_matrix/federation/v1/state/${roomId}`,
      query: { event_id: eventId },
    });
  }

  /** `GET /_matrix/federation/v1/state_ids/{roomId}?event_id=`: their IDs. */
  getStateIds(destination: string, roomId: string, eventId: string) {
    return this.#object(destination, {
      method: 'GET',
      path: path`/_matrix/federation/v1/state_ids/${roomId}`,
      query: { event_id: eventId },
    });
  }

  /** `GET /_matrix/federation/v1/event_auth/{roomId}/{eventId}`: an event's auth chain. */
  getEventAuth(destination: string, roomId: string, eventId: string) {
    return this.#object(destination, {
      method: 'GET',
      path: path`/_matrix/federation/v1/event_auth/${roomId}/${eventId}`,
    });
  }

  /** `POST /_matrix/federation/v1/get_missing_events/{roomId}`: events between the earliest and latest. */
  getMissingEvents(
    destination: string,
    roomId: string,
    q: { earliestEvents: string[]; latestEvents: string[]; limit?: number; minDepth?: number },
  ) {
    return this.#object(destination, {
      method: 'POST',
      path: path`/_matrix/federation/v1/get_missing_events/${roomId}`,
      body: {
        earliest_events: q.earliestEvents,
        latest_events: q.latestEvents,
        limit: q.limit ?? 10,
        min_depth: q.minDepth ?? 0,
      },
    });
  }

  /** `GET /_matrix/federation/v1/backfill/{roomId}?v=…&limit=`: history before the given events. */
  backfill(destination: string, roomId: string, fromEventIds: readonly string[], limit: number) {
    return this.#object(destination, {
      method: 'GET',
      path: path`/_matrix/federation/v1/backfill/${roomId}`,
      query: { v: fromEventIds, limit: String(limit) },
    });
  }

  /** `GET /_matrix/federation/v1/query/profile`: a user's profile (or one field of it). */
  queryProfile(destination: string, userId: string, field?: 'displayname' | 'avatar_url') {
    return this.#object(destination, {
      method: 'GET',
      path: '/_matrix/federation/v1/query/profile',
      query: field === undefined ? { user_id: userId } : { user_id: userId, field },
    });
  }
}
