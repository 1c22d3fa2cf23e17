/**
 * Key fetchers: where a keyring gets keys it does not have. The server
 * itself (`GET /_matrix/key/v2/server`) or a notary (`POST
 * /_matrix/key/v2/query`), over an injected transport: this library makes
 * no network calls of its own here.
 *
 * @module
 */

import { isJsonObject, type JsonObject, type JsonValue } from '../canonicaljson/value.js';
import { type AbortOptions, raceAbort } from '../util/abort.js';
import {
  checkNotaryResponse,
  checkServerKeys,
  type ParseKeysBodyOptions,
  parseKeysBody,
  type ServerVerifyKey,
  type TrustedNotary,
} from './check.js';

/** A request the transport makes. */
export interface KeyTransportRequest {
  /** `GET` (no body) or `POST` (a JSON body). */
  readonly method: 'GET' | 'POST';
  /** The path, e.g. `/_matrix/key/v2/server`. */
  readonly path: string;
  /** The JSON body of a `POST`. */
  readonly body?: JsonObject;
}

/**
 * Makes an unauthenticated federation request (the key endpoints need no
 * signature) and returns the response body: raw bytes, which the fetcher
 * parses with its limits, or a JSON value the transport has parsed already
 * (losslessly: numbers as written, as `parseJson` with legacy rules gives).
 * A failure of any kind (no route, TLS, timeout, a status other than 200)
 * is a rejected promise.
 *
 * The transport finds the server (server discovery), applies timeouts and
 * caps the body size; the federation client of this library does all that.
 */
export interface KeyTransport {
  /**
   * Makes the request and returns the body.
   *
   * @param serverName - the server to ask.
   * @param request - method, path and body.
   * @param options - `signal`: abort the request when it aborts (the
   *   keyring aborts a fetch only once every lookup waiting for it has
   *   given up), rejecting with its reason.
   */
  fetchJson(serverName: string, request: KeyTransportRequest, options?: AbortOptions): Promise<JsonValue | Uint8Array>;
}

/** Keys wanted from one server. */
export interface KeyRequest {
  /** The server. */
  readonly serverName: string;
  /** The key IDs wanted; empty for all the server's keys. */
  readonly keyIds: readonly string[];
  /** The keys should be valid until at least this time (milliseconds). */
  readonly minimumValidUntilTs: number;
}

/** A checked response a fetcher got. */
export interface FetchedKeys {
  /** The server whose keys these are. */
  readonly serverName: string;
  /** Who answered: the server itself, or the notary. */
  readonly fromServer: string;
  /** The response as received. */
  readonly response: JsonObject;
  /** The response's `valid_until_ts`. */
  readonly validUntilTs: number;
  /** The keys it proves. */
  readonly keys: ReadonlyMap<string, ServerVerifyKey>;
}

/**
 * A failure of a fetcher: for one server, or (no `serverName`) of the
 * source as a whole, such as a notary that cannot be reached.
 */
export interface FetchFailure {
  /** The server it concerns, if only one. */
  readonly serverName?: string;
  /** What went wrong. */
  readonly reason: string;
  /**
   * The error the fetch failed with, if it threw: the transport's (a
   * `FederationError` from the federation client's transport) or the
   * parser's {@link InvalidInputError} for a body that is not JSON.
   */
  readonly cause?: unknown;
}

/** What one call of a fetcher gave. */
export interface KeyFetchResult {
  /** The checked responses. */
  readonly fetched: readonly FetchedKeys[];
  /** What failed. */
  readonly failures: readonly FetchFailure[];
}

/** A source of keys for a keyring. */
export interface KeyFetcher {
  /**
   * A name for the source, unique among a keyring's fetchers: failures are
   * remembered (and the source backed off) under it.
   */
  readonly source: string;
  /**
   * Whether the source is the servers themselves. A keyring acting as a
   * notary passes on only what it fetched from origins (so that two
   * notaries never ask each other in a loop).
   */
  readonly direct: boolean;
  /**
   * Fetches keys. Should not reject: failures are reported in the result
   * (a rejection counts as a failure of the whole source), except when
   * `signal` aborts: then it should abort its requests and reject with the
   * signal's reason (the keyring records nothing of a fetch it aborted).
   *
   * @param requests - what is wanted, at most one request per server.
   * @param options - the signal.
   */
  fetch(requests: readonly KeyRequest[], options?: AbortOptions): Promise<KeyFetchResult>;
}

/** Options of the fetchers. */
export interface KeyFetcherOptions {
  /** Limits for bodies the transport returns as bytes. */
  readonly limits?: ParseKeysBodyOptions;
  /**
   * Most requests {@link DirectKeyFetcher} makes at once; default
   * {@link DIRECT_FETCH_CONCURRENCY}.
   */
  readonly concurrency?: number;
}

/** Default number of servers a {@link DirectKeyFetcher} asks at once. */
export const DIRECT_FETCH_CONCURRENCY = 32;

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

async function fetchBody(
  transport: KeyTransport,
  serverName: string,
  request: KeyTransportRequest,
  limits: ParseKeysBodyOptions | undefined,
  signal: AbortSignal | undefined,
): Promise<JsonValue> {
  const body = await transport.fetchJson(serverName, request, signal === undefined ? {} : { signal });
  return body instanceof Uint8Array ? parseKeysBody(body, limits) : body;
}

/**
 * Fetches keys from the servers themselves: `GET /_matrix/key/v2/server`,
 * once per server whatever key IDs are wanted (the response lists them all),
 * each response checked with {@link checkServerKeys}.
 */
export class DirectKeyFetcher implements KeyFetcher {
  /** `direct`. */
  readonly source = 'direct';
  /** Always `true`. */
  readonly direct = true;
  readonly #transport: KeyTransport;
  readonly #limits: ParseKeysBodyOptions | undefined;
  readonly #concurrency: number;

  /**
   * Never throws; {@link DirectKeyFetcher.fetch} never rejects either.
   *
   * @param transport - makes the requests.
   * @param options - body limits and concurrency.
   */
  constructor(transport: KeyTransport, options: KeyFetcherOptions = {}) {
    this.#transport = transport;
    this.#limits = options.limits;
    this.#concurrency = options.concurrency ?? DIRECT_FETCH_CONCURRENCY;
  }

  /** {@inheritDoc KeyFetcher.fetch} */
  async fetch(requests: readonly KeyRequest[], options: AbortOptions = {}): Promise<KeyFetchResult> {
    const { signal } = options;
    signal?.throwIfAborted();
    const fetched: FetchedKeys[] = [];
    const failures: FetchFailure[] = [];
    const servers = [...new Set(requests.map((r) => r.serverName))];
    let next = 0;
    const one = async (serverName: string): Promise<void> => {
      try {
        const body = await fetchBody(
          this.#transport,
          serverName,
          { method: 'GET', path: '/_matrix/key/v2/server' },
          this.#limits,
          signal,
        );
        const check = checkServerKeys(body, { serverName });
        if (!check.valid) {
          failures.push({ serverName, reason: check.reason });
          return;
        }
        fetched.push({
          serverName,
          fromServer: serverName,
          response: check.response,
          validUntilTs: check.validUntilTs,
          keys: check.verifyKeys,
        });
      } catch (e) {
        failures.push({ serverName, reason: `Fetching the keys of ${serverName} failed: ${describe(e)}`, cause: e });
      }
    };
    const worker = async (): Promise<void> => {
      while (next < servers.length && signal?.aborted !== true) await one(servers[next++] as string);
    };
    const workers = Array.from({ length: Math.max(1, Math.min(this.#concurrency, servers.length)) }, worker);
    // A transport that does not heed the signal is not waited for.
    await raceAbort(Promise.all(workers), signal);
    // What failed because of the abort is no failure of the servers.
    signal?.throwIfAborted();
    return { fetched, failures };
  }
}

/**
 * Fetches keys through a notary: one `POST /_matrix/key/v2/query` for all
 * the servers wanted, with `minimum_valid_until_ts` for each key as the
 * spec requires. The answer is checked with {@link checkNotaryResponse}:
 * each entry must carry the notary's signature by a key configured for it
 * and the origin's own signature. Entries for servers not asked about are
 * ignored unread (neither decoded nor verified).
 */
export class NotaryKeyFetcher implements KeyFetcher {
  /** `notary:` and the notary's server name. */
  readonly source: string;
  /** Always `false`. */
  readonly direct = false;
  readonly #transport: KeyTransport;
  readonly #notary: TrustedNotary;
  readonly #limits: ParseKeysBodyOptions | undefined;

  /**
   * Never throws; {@link NotaryKeyFetcher.fetch} never rejects either.
   *
   * @param transport - makes the requests.
   * @param notary - the notary and its known keys.
   * @param options - body limits.
   */
  constructor(transport: KeyTransport, notary: TrustedNotary, options: KeyFetcherOptions = {}) {
    this.#transport = transport;
    this.#notary = notary;
    this.#limits = options.limits;
    this.source = `notary:${notary.serverName}`;
  }

  /** {@inheritDoc KeyFetcher.fetch} */
  async fetch(requests: readonly KeyRequest[], options: AbortOptions = {}): Promise<KeyFetchResult> {
    const { signal } = options;
    signal?.throwIfAborted();
    const query = new Map<string, Map<string, number>>();
    for (const r of requests) {
      let keys = query.get(r.serverName);
      if (keys === undefined) query.set(r.serverName, (keys = new Map()));
      for (const keyId of r.keyIds) keys.set(keyId, Math.max(keys.get(keyId) ?? 0, r.minimumValidUntilTs));
    }
    const serverKeys: JsonObject = {};
    for (const [serverName, keys] of query) {
      const criteria: JsonObject = {};
      for (const [keyId, minimum] of keys) {
        Object.defineProperty(criteria, keyId, {
          value: { minimum_valid_until_ts: minimum },
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      Object.defineProperty(serverKeys, serverName, {
        value: criteria,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    const notary = this.#notary.serverName;
    let body: JsonValue;
    try {
      body = await raceAbort(
        fetchBody(
          this.#transport,
          notary,
          { method: 'POST', path: '/_matrix/key/v2/query', body: { server_keys: serverKeys } },
          this.#limits,
          signal,
        ),
        signal,
      );
    } catch (e) {
      if (signal?.aborted === true) throw signal.reason;
      return { fetched: [], failures: [{ reason: `Asking the notary ${notary} failed: ${describe(e)}`, cause: e }] };
    }
    const check = checkNotaryResponse(body, this.#notary, { serverNames: new Set(query.keys()) });
    if (!check.valid) return { fetched: [], failures: [{ reason: `The notary ${notary}: ${check.reason}` }] };
    const fetched: FetchedKeys[] = [];
    const failures: FetchFailure[] = [];
    check.entries.forEach((entry, i) => {
      const raw = (body as { server_keys: JsonValue[] }).server_keys[i];
      const serverName = isJsonObject(raw) ? (raw.server_name as string) : '';
      if (!query.has(serverName)) return;
      if (!entry.valid) {
        failures.push({ serverName, reason: `The notary ${notary} about ${serverName}: ${entry.reason}` });
        return;
      }
      fetched.push({
        serverName,
        fromServer: notary,
        response: entry.response,
        validUntilTs: entry.validUntilTs,
        keys: entry.verifyKeys,
      });
    });
    return { fetched, failures };
  }
}
