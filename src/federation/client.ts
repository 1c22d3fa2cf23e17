/**
 * The federation client (spec: server-server API): signed requests to
 * other homeservers over HTTPS with undici, connecting to the address that
 * server discovery gives, with the right TLS server name and `Host` header.
 *
 * Discovery and request signing are injected, so that the client works
 * with any resolver and key store (the defaults of this library, or a
 * test's). Every request has a timeout and a response size cap; failures
 * are typed ({@link FederationError}) and carry the remote `errcode`; a
 * destination that keeps failing is backed off.
 *
 * @module
 */

import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { Agent, type Dispatcher, request } from 'undici';
import { encodeCanonicalJson } from '../canonicaljson/encode.js';
import { parseJson } from '../canonicaljson/parse.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../canonicaljson/value.js';
import { type BackoffPolicy, Failures } from './backoff.js';
import { ServerResolver } from './discovery/resolve.js';

/** Where to connect for a server name: what server discovery answers. */
export interface FederationDestination {
  /** The IP address or hostname to connect to. */
  readonly address: string;
  /** The port. */
  readonly port: number;
  /** The `Host` header to send. */
  readonly hostHeader: string;
  /** The name to send as TLS SNI and to check the certificate against; none for IP literals. */
  readonly tlsServerName?: string | undefined;
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
  /** TLS: extra trusted CAs (PEM), e.g. a test CA. Default: Node's bundled roots. */
  readonly ca?: string | readonly string[];
  /** Per-request timeout in milliseconds (connect, headers and body); default 60 s. */
  readonly timeoutMs?: number;
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
    this.#maxBytes = options.maxResponseBytes ?? 64 * 1024 * 1024;
  }

  /** Closes every connection. */
  async close(): Promise<void> {
    await Promise.all([...this.#agents.values()].map((a) => a.close()));
    this.#agents.clear();
  }

  #agentFor(d: FederationDestination): Dispatcher {
    const key = `${d.address}|${d.port}|${d.tlsServerName ?? ''}`;
    let agent = this.#agents.get(key);
    if (agent === undefined) {
      const ca = this.#options.ca;
      agent = new Agent({
        connect: {
          // The certificate must be valid for the server name, not for the
          // address connected to (spec: "Resolving server names"). undici
          // takes SNI from the Host header, so the check is pinned here.
          ...(d.tlsServerName !== undefined ? { servername: d.tlsServerName } : {}),
          checkServerIdentity: (_host: string, cert: PeerCertificate) =>
            checkServerIdentity(d.tlsServerName ?? d.address, cert),
          ...(ca !== undefined ? { ca: typeof ca === 'string' ? ca : [...ca] } : {}),
          timeout: this.#timeoutMs,
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
   * @param destination - the server name.
   * @param req - method, path, query, body.
   * @throws {@link FederationError} on any failure.
   */
  async request(destination: string, req: FederationRequest): Promise<JsonValue> {
    const retryAt = this.#backoff.retryAt(destination, this.#now());
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
    const host = target.address.includes(':') ? `[${target.address}]` : target.address;
    let status: number;
    let text: string;
    try {
      const res = await request(`https://${host}:${target.port}${uri}`, {
        method: req.method,
        headers,
        ...(body !== undefined ? { body } : {}),
        dispatcher: this.#agentFor(target),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      status = res.statusCode;
      text = await this.#readCapped(res.body, destination);
    } catch (e) {
      if (e instanceof FederationError) throw e;
      this.#backoff.failed(destination, this.#now());
      const timedOut = e instanceof Error && (e.name === 'TimeoutError' || /timeout/i.test(e.name + e.message));
      throw new FederationError(timedOut ? 'timeout' : 'network', destination, `${req.method} ${uri}: ${String(e)}`);
    }
    if (status >= 500) this.#backoff.failed(destination, this.#now());
    else this.#backoff.succeeded(destination);
    let parsed: JsonValue | undefined;
    try {
      parsed = parseJson(text, { numbers: 'legacy' });
    } catch {
      parsed = undefined;
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
      throw new FederationError('bad_response', destination, `${req.method} ${uri} did not answer JSON`);
    }
    return parsed;
  }

  /** Reads a body up to the cap, as UTF-8. */
  async #readCapped(body: AsyncIterable<Uint8Array> & { destroy?: (e?: Error) => void }, destination: string) {
    const chunks: Uint8Array[] = [];
    let n = 0;
    for await (const chunk of body) {
      n += chunk.byteLength;
      if (n > this.#maxBytes) {
        body.destroy?.();
        throw new FederationError('too_large', destination, `The response is larger than ${this.#maxBytes} bytes`);
      }
      chunks.push(chunk);
    }
    return Buffer.concat(chunks).toString('utf8');
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
