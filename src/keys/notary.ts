/**
 * Acting as a notary (spec: server-server API, "Querying Keys Through
 * Another Server"): answering `GET /_matrix/key/v2/query/{serverName}` and
 * `POST /_matrix/key/v2/query` with the origins' responses as we fetched
 * them, each signed by us as well.
 *
 * @module
 */

import { isJsonObject, type JsonObject, type JsonValue } from '../canonicaljson/value.js';
import { InvalidInputError } from '../errors.js';
import { type AbortOptions, raceAbort } from '../util/abort.js';
import { DIRECT_FETCH_CONCURRENCY } from './fetchers.js';
import { own } from './json.js';
import type { Keyring } from './keyring.js';
import { type NotaryIdentity, notaryQueryResponse } from './response.js';

/** One thing a notary query asks for. */
export interface KeyQueryEntry {
  /** The server. */
  readonly serverName: string;
  /** The key ID wanted; absent for all the server's keys. */
  readonly keyId?: string;
  /** The time the keys should be valid until; absent for now. */
  readonly minimumValidUntilTs?: number;
}

/** A notary query: what `GET` or `POST /_matrix/key/v2/query` asks. */
export type KeyQuery = readonly KeyQueryEntry[];

/** Most servers one query may ask about; more is refused (`M_TOO_LARGE`). */
export const MAX_QUERY_SERVERS = 1000;

/** Most key IDs one query may ask about per server; more is refused (`M_TOO_LARGE`). */
export const MAX_QUERY_KEY_IDS = 100;

/**
 * Default of {@link KeyNotaryOptions.maxFetchesPerQuery}: as many servers as
 * the direct fetcher asks at once ({@link DIRECT_FETCH_CONCURRENCY}), so
 * that a query waits for at most one wave of fetches.
 */
export const MAX_QUERY_FETCHES = DIRECT_FETCH_CONCURRENCY;

function bad(message: string): InvalidInputError {
  return new InvalidInputError('M_BAD_JSON', message);
}

function minimumOf(value: JsonValue | undefined, where: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  throw bad(`${where}: minimum_valid_until_ts must be an integer`);
}

/**
 * Reads the body of `POST /_matrix/key/v2/query`:
 * `{"server_keys": {server: {key_id: {"minimum_valid_until_ts": ts}}}}`,
 * `minimum_valid_until_ts` optional (null taken as absent).
 *
 * @param body - the parsed body.
 * @returns the query.
 * @throws {@link InvalidInputError} `M_NOT_JSON` if the body is not an
 *   object, `M_BAD_JSON` if it is not of that shape, `M_TOO_LARGE` past
 *   {@link MAX_QUERY_SERVERS} servers or {@link MAX_QUERY_KEY_IDS} key IDs
 *   for one server.
 */
export function parseKeyQuery(body: JsonValue): KeyQuery {
  if (!isJsonObject(body)) throw new InvalidInputError('M_NOT_JSON', 'The query must be a JSON object');
  const serverKeys = own(body, 'server_keys');
  if (!isJsonObject(serverKeys)) throw bad('The query has no "server_keys" object');
  const servers = Object.keys(serverKeys);
  if (servers.length > MAX_QUERY_SERVERS) {
    throw new InvalidInputError('M_TOO_LARGE', `The query asks about more than ${MAX_QUERY_SERVERS} servers`);
  }
  const query: KeyQueryEntry[] = [];
  for (const serverName of servers) {
    const keys = serverKeys[serverName];
    if (!isJsonObject(keys)) throw bad(`The query for ${serverName} is not an object`);
    const keyIds = Object.keys(keys);
    if (keyIds.length > MAX_QUERY_KEY_IDS) {
      throw new InvalidInputError(
        'M_TOO_LARGE',
        `The query asks for more than ${MAX_QUERY_KEY_IDS} keys of ${serverName}`,
      );
    }
    if (keyIds.length === 0) query.push({ serverName });
    for (const keyId of keyIds) {
      const criteria = keys[keyId];
      if (!isJsonObject(criteria)) throw bad(`The criteria for ${keyId} of ${serverName} are not an object`);
      const minimum = minimumOf(own(criteria, 'minimum_valid_until_ts'), `${keyId} of ${serverName}`);
      query.push(minimum === undefined ? { serverName, keyId } : { serverName, keyId, minimumValidUntilTs: minimum });
    }
  }
  return query;
}

/**
 * The query of `GET /_matrix/key/v2/query/{serverName}`: all the server's
 * keys, valid until `minimumValidUntilTs` (the query parameter) or now.
 *
 * @param serverName - the path parameter, decoded.
 * @param minimumValidUntilTs - the query parameter, if given.
 * @returns the query. Never throws: the server name is checked when the
 *   query is answered.
 */
export function keyQueryForServer(serverName: string, minimumValidUntilTs?: number): KeyQuery {
  return [minimumValidUntilTs === undefined ? { serverName } : { serverName, minimumValidUntilTs }];
}

/** Options for {@link KeyNotary}. */
export interface KeyNotaryOptions {
  /** Where the origins' responses come from and are cached. */
  readonly keyring: Keyring;
  /** Our name and the keys we sign answers with. */
  readonly identity: NotaryIdentity;
  /**
   * Most servers one query makes us fetch; the others asked about are
   * answered from what the keyring holds. Default
   * {@link MAX_QUERY_FETCHES}. Without a bound, one query naming a thousand
   * servers would start a thousand fetches. Synapse fetches every server of
   * whose asked key IDs it holds no fresh response.
   */
  readonly maxFetchesPerQuery?: number;
}

/**
 * Answers notary queries from a keyring: for each server asked, responses
 * the keyring holds that are valid until the time asked (now if not given,
 * as the spec says) are passed on; otherwise the server is asked directly
 * first (never another notary), for at most `maxFetchesPerQuery` servers a
 * query, and not within the keyring's refetch interval of its last answer.
 * If it cannot be reached, the last response we hold is passed on anyway,
 * as the spec asks, so that old signatures can still be checked. Servers we
 * know nothing of are left out.
 */
export class KeyNotary {
  readonly #keyring: Keyring;
  readonly #identity: NotaryIdentity;
  readonly #maxFetches: number;

  /** @param options - the keyring, our identity and the fetch bound. Never throws. */
  constructor(options: KeyNotaryOptions) {
    this.#keyring = options.keyring;
    this.#identity = options.identity;
    this.#maxFetches = options.maxFetchesPerQuery ?? MAX_QUERY_FETCHES;
  }

  /**
   * Answers a query.
   *
   * @param query - from {@link parseKeyQuery} or {@link keyQueryForServer}.
   * @param options - `signal` gives up the query at once (the requester
   *   went away), rejecting with its reason; the fetches it started are
   *   aborted unless other lookups of the keyring wait for them.
   * @returns the body to answer with: `{"server_keys": [...]}`.
   * @throws {@link InvalidInputError} if a held response cannot be signed
   *   (it was checked when fetched, so only if our keys are bad); rejects
   *   if the keyring's store fails, or with the signal's reason.
   */
  query(query: KeyQuery, options: AbortOptions = {}): Promise<JsonObject> {
    const { signal } = options;
    if (signal?.aborted === true) return Promise.reject(signal.reason);
    return raceAbort(this.#query(query, signal), signal);
  }

  async #query(query: KeyQuery, signal: AbortSignal | undefined): Promise<JsonObject> {
    await this.#keyring.refresh(
      query.map((e) => {
        const keyIds = e.keyId === undefined ? [] : [e.keyId];
        const minimum = e.minimumValidUntilTs;
        return minimum === undefined
          ? { serverName: e.serverName, keyIds }
          : { serverName: e.serverName, keyIds, minimumValidUntilTs: minimum };
      }),
      { directOnly: true, maxFetches: this.#maxFetches, ...(signal === undefined ? {} : { signal }) },
    );
    // The key IDs asked of each server, or undefined for all its keys: one
    // read of the store per server, whose responses are each passed on once
    // (responses of two servers always differ, by their server_name).
    const asked = new Map<string, Set<string> | undefined>();
    for (const e of query) {
      const keyIds = asked.get(e.serverName);
      if (e.keyId === undefined) asked.set(e.serverName, undefined);
      else if (keyIds !== undefined) keyIds.add(e.keyId);
      else if (!asked.has(e.serverName)) asked.set(e.serverName, new Set([e.keyId]));
    }
    const responses: JsonObject[] = [];
    for (const [serverName, keyIds] of asked) {
      responses.push(...(await this.#keyring.storedResponses(serverName, keyIds === undefined ? [] : [...keyIds])));
    }
    return notaryQueryResponse(responses, this.#identity);
  }
}
