/**
 * The keyring: finds the verify keys of other servers, fetching what it
 * does not have, and serves them to whatever checks signatures (events,
 * requests).
 *
 * Lookups made at the same time are batched: each server is asked once per
 * batch, for every key wanted from it, and a lookup for a server whose keys
 * are being fetched waits for that fetch instead of starting another.
 * Sources are tried in order (by default the server itself, then each
 * notary) until every key wanted is found valid long enough. Keys are
 * cached in a {@link KeyStore}; failures are remembered, and not retried
 * until a wait that grows with each further failure has passed.
 *
 * What a request can make it do is bounded, since any request names a
 * server and key IDs before its signature is checked: a server that
 * answered is not asked again for {@link KEY_REFETCH_INTERVAL_MS} (so new
 * key IDs in forged requests cost one fetch per server per minute), at most
 * {@link MAX_KEY_IDS_PER_SERVER} key IDs of a server are looked up at once,
 * a response's keys cost a key object only when they verify something
 * (see {@link checkServerKeys}), and the default store is bounded
 * ({@link MemoryKeyStore}).
 *
 * How long a key is trusted (spec: room versions 5 and later, "Signing key
 * validity period"): until the lesser of what the server published (the
 * response's `valid_until_ts`, or an old key's `expired_ts`) and seven days
 * after we received it. Synapse applies no such cap; set
 * `maxKeyValidityMs: Infinity` to behave as it does.
 *
 * @module
 */

import { hash } from 'node:crypto';
import { encodeCanonicalJson } from '../canonicaljson/encode.js';
import { InvalidInputError } from '../errors.js';
import type { EventKeyLookup, EventVerifyKey } from '../events/signatures.js';
import { isValidServerName } from '../identifiers/identifiers.js';
import { verifyKeyFromBytes } from '../signing/ed25519.js';
import { type AbortOptions, raceAbort, SharedTask } from '../util/abort.js';
import { type BackoffPolicy, Failures } from '../util/backoff.js';
import { BoundedMap } from '../util/bounded.js';
import { measured } from '../util/diagnostics.js';
// biome-ignore lint/correctness/noUnusedImports: for TSDoc links.
import type { checkServerKeys, ParseKeysBodyOptions, TrustedNotary } from './check.js';
import { type KeyBackoffMessage, type KeyFetchMessage, keyBackoffChannel, keyFetchChannel } from './diagnostics.js';
import {
  DirectKeyFetcher,
  type FetchedKeys,
  type KeyFetcher,
  type KeyRequest,
  type KeyTransport,
  NotaryKeyFetcher,
} from './fetchers.js';
import { SIGNED_JSON } from './json.js';
import { type KeyStore, MemoryKeyStore, type StoredKey } from './store.js';

/** Seven days, in milliseconds: the spec's cap on how long a key is trusted. */
export const MAX_KEY_VALIDITY_MS = 7 * 24 * 3_600_000;

/**
 * At most this many key IDs of one server are fetched for one lookup (an
 * event carries one or two); further IDs are answered from the cache only.
 */
export const MAX_KEY_IDS_PER_SERVER = 16;

/**
 * Default of {@link KeyringOptions.refetchIntervalMs}: one minute, the
 * first wait after a failure too. Synapse has no such interval: each key ID
 * it lacks makes it ask the server again (one request at a time per
 * server).
 */
export const KEY_REFETCH_INTERVAL_MS = 60_000;

/** How many servers' last answers the keyring remembers for the refetch interval. */
const ANSWERED_LIMIT = 100_000;

/** A key as the keyring serves it. */
export interface KeyringKey extends EventVerifyKey {
  /**
   * Until when the key may be used: the lesser of what the server
   * published and the keyring's trust cap (see `maxKeyValidityMs`).
   */
  readonly validUntilTs: number;
  /** Whether it is an old key (spec: valid for events only, not requests). */
  readonly old: boolean;
  /** When we received it, by the keyring's clock. */
  readonly fetchedAt: number;
  /** Who gave it: the server itself, a notary, or ourselves (local keys). */
  readonly fromServer: string;
}

/** Keys wanted from one server, for {@link Keyring.prepare}. */
export interface KeyringRequest {
  /** The server. */
  readonly serverName: string;
  /** The key IDs it signed with. */
  readonly keyIds: readonly string[];
  /**
   * The time the keys must be valid until (an event's `origin_server_ts`
   * from room version 5); default: now.
   */
  readonly minimumValidUntilTs?: number;
}

/** One of our own keys. */
export interface LocalKey extends EventVerifyKey {
  /** Whether it is an old key; default `false`. */
  readonly old?: boolean;
}

/** Our own keys, served without fetching. */
export interface LocalKeys {
  /** Our server name. */
  readonly serverName: string;
  /** Our keys (current and old) by key ID. */
  readonly keys: ReadonlyMap<string, LocalKey>;
}

/** Options for {@link Keyring}. */
export interface KeyringOptions {
  /**
   * Makes the HTTP requests of the default fetchers. Without it (and
   * without `fetchers`) the keyring only serves what its store holds.
   */
  readonly transport?: KeyTransport;
  /**
   * Notaries to ask when a server does not answer for itself, in order,
   * each with the keys it signs with (from configuration).
   */
  readonly notaries?: readonly TrustedNotary[];
  /**
   * The sources to try, in order, replacing the default: the server itself
   * ({@link DirectKeyFetcher}) then each notary ({@link NotaryKeyFetcher}).
   */
  readonly fetchers?: readonly KeyFetcher[];
  /** Where keys are kept; default a new {@link MemoryKeyStore}. */
  readonly store?: KeyStore;
  /**
   * Our own keys, never fetched: of one server name, or of each server
   * name we host (virtual hosting), each name at most once.
   */
  readonly local?: LocalKeys | readonly LocalKeys[];
  /** The clock, in milliseconds since the epoch; default `Date.now`. */
  readonly now?: () => number;
  /**
   * How long after we receive a key it is trusted at most, in milliseconds;
   * default {@link MAX_KEY_VALIDITY_MS} (the spec's seven days).
   * `Infinity` trusts a key as long as its server says, as Synapse does.
   */
  readonly maxKeyValidityMs?: number;
  /**
   * The waits after failures: of a source for a server (or of a whole
   * notary), and of a key that no source could give valid long enough.
   */
  readonly backoff?: BackoffPolicy;
  /** Limits of the bodies the default fetchers parse. */
  readonly limits?: ParseKeysBodyOptions;
  /**
   * How long after a source answered for a server (whatever the keys it
   * gave) the server is not fetched again, in milliseconds; default
   * {@link KEY_REFETCH_INTERVAL_MS}. A key ID it did not publish, or a key
   * not valid long enough, waits for the interval to pass: the answer is
   * what the server publishes now, and without the wait every new key ID
   * named in a forged request would make the keyring ask again.
   */
  readonly refetchIntervalMs?: number;
}

/** Options for {@link Keyring.refresh}. */
export interface KeyringRefreshOptions extends AbortOptions {
  /**
   * Ask only the servers themselves, never another notary (what a notary
   * must do).
   */
  readonly directOnly?: boolean;
  /**
   * Most servers fetched for this call; the others are answered from the
   * store only. Default: no limit.
   */
  readonly maxFetches?: number;
}

/** What a lookup wants of one key; `keyId` {@link ANY} for a server's current response. */
interface Need {
  readonly serverName: string;
  readonly keyId: string;
  minimum: number;
}

/** The key ID of a need for any fresh response of a server (notary queries for all keys). */
const ANY = '';

const needName = (n: { serverName: string; keyId: string }) => `${n.serverName}\n${n.keyId}`;

/**
 * Finds, fetches, caches and serves the keys of other servers.
 *
 * @example
 * ```ts
 * const keyring = new Keyring({ transport, notaries: [{ serverName: 'matrix.org', verifyKeys }] });
 * const check = await verifyEvent(pdu, rules, keyring.lookup);
 * ```
 */
export class Keyring {
  readonly #store: KeyStore;
  readonly #fetchers: readonly KeyFetcher[];
  readonly #now: () => number;
  readonly #cap: number;
  /** Our own keys, by server name. */
  readonly #local = new Map<string, LocalKeys>();
  /** Failures of sources: `source` or `source\nserver`. */
  readonly #sources: Failures;
  /** Keys no source could give: `server\nkeyId`. */
  readonly #missing: Failures;
  /** When a source last answered for a server, by server. */
  readonly #answered = new BoundedMap<string, number>(ANSWERED_LIMIT);
  readonly #refetchIntervalMs: number;
  /** Fetch rounds under way, by server, shared by the lookups waiting for them. */
  readonly #inFlight = new Map<string, SharedTask<void>>();
  /** The batch gathering lookups until the event loop turns, and what they need. */
  #batch: { readonly task: SharedTask<void>; readonly needs: Need[] } | undefined;

  /**
   * @param options - transport, notaries, store, local keys, clock and policies.
   * @throws {@link InvalidInputError} `M_INVALID_PARAM` if two fetchers
   *   have the same source name, or local keys are given twice for one
   *   server name.
   */
  constructor(options: KeyringOptions = {}) {
    this.#store = options.store ?? new MemoryKeyStore();
    this.#now = options.now ?? Date.now;
    this.#cap = options.maxKeyValidityMs ?? MAX_KEY_VALIDITY_MS;
    const local = options.local;
    for (const l of local === undefined ? [] : 'serverName' in local ? [local] : local) {
      if (this.#local.has(l.serverName))
        throw new InvalidInputError('M_INVALID_PARAM', `Local keys of ${l.serverName} are given twice`);
      this.#local.set(l.serverName, l);
    }
    const limits = options.limits === undefined ? {} : { limits: options.limits };
    const transport = options.transport;
    this.#fetchers =
      options.fetchers ??
      (transport === undefined
        ? []
        : [
            new DirectKeyFetcher(transport, limits),
            ...(options.notaries ?? []).map((n) => new NotaryKeyFetcher(transport, n, limits)),
          ]);
    const sources = new Set<string>();
    for (const f of this.#fetchers) {
      if (sources.has(f.source)) {
        throw new InvalidInputError('M_INVALID_PARAM', `Two key fetchers have the source name ${f.source}`);
      }
      sources.add(f.source);
    }
    this.#sources = new Failures(options.backoff ?? {}, 10_000, (name, state) => {
      if (!keyBackoffChannel.hasSubscribers) return;
      // `source` or `source\nserver`: a server name never holds a line feed.
      const i = name.lastIndexOf('\n');
      const source = i < 0 ? name : name.slice(0, i);
      const serverName = i < 0 ? undefined : name.slice(i + 1);
      keyBackoffChannel.publish({
        kind: 'source',
        source,
        serverName,
        keyId: undefined,
        state,
      } satisfies KeyBackoffMessage);
    });
    this.#missing = new Failures(options.backoff ?? {}, 100_000, (name, state) => {
      if (!keyBackoffChannel.hasSubscribers) return;
      // `server\nkeyId` (see needName).
      const i = name.indexOf('\n');
      const [serverName, keyId] = [name.slice(0, i), name.slice(i + 1)];
      keyBackoffChannel.publish({
        kind: 'key',
        source: undefined,
        serverName,
        keyId,
        state,
      } satisfies KeyBackoffMessage);
    });
    this.#refetchIntervalMs = options.refetchIntervalMs ?? KEY_REFETCH_INTERVAL_MS;
  }

  /**
   * The lookup that `verifyEvent` (matrix-serverlib/events) takes: the keys
   * of `serverName` among `keyIds`, fetched if needed. Keys found but not
   * valid long enough are returned too (the signature check decides).
   *
   * @param serverName - the server.
   * @param keyIds - the key IDs it signed with.
   * @param minimumValidUntilTs - when the keys must be valid until (an
   *   event's `origin_server_ts`, from room version 5); default now. A
   *   cached key valid for less is fetched again.
   * @param options - the signal (see {@link Keyring.getKeys}).
   * @returns the keys found, by key ID. Rejects only if the store fails,
   *   or with the signal's reason.
   */
  readonly lookup = (
    serverName: string,
    keyIds: readonly string[],
    minimumValidUntilTs?: number,
    options: AbortOptions = {},
  ): Promise<ReadonlyMap<string, KeyringKey>> => this.getKeys(serverName, keyIds, minimumValidUntilTs, options);

  /**
   * The keys of `serverName` among `keyIds`, fetched if not cached or not
   * valid until `minimumValidUntilTs`. Only `ed25519:` key IDs are looked
   * up.
   *
   * `signal` gives up the lookup at once, rejecting with its reason. A
   * fetch is shared by every lookup that waits for it (those batched with
   * this one, and those made while it runs): it goes on while any of them
   * still waits, and its requests are aborted only once all have given up.
   * An aborted fetch is not remembered as a failure.
   *
   * @param serverName - the server.
   * @param keyIds - the key IDs wanted.
   * @param minimumValidUntilTs - when they must be valid until; default now.
   * @param options - the signal.
   * @returns the keys found, by key ID, each with the time it is valid
   *   until (which may be less than asked). Rejects only if the store fails,
   *   or with the signal's reason.
   */
  async getKeys(
    serverName: string,
    keyIds: readonly string[],
    minimumValidUntilTs?: number,
    options: AbortOptions = {},
  ): Promise<ReadonlyMap<string, KeyringKey>> {
    const lookup = await this.prepare(
      [minimumValidUntilTs === undefined ? { serverName, keyIds } : { serverName, keyIds, minimumValidUntilTs }],
      options,
    );
    const found = new Map<string, KeyringKey>();
    for (const keyId of keyIds) {
      const key = lookup(serverName, keyId);
      if (key !== undefined) found.set(keyId, key);
    }
    return found;
  }

  /**
   * Fetches what the requests need, all in one batch, and returns a
   * synchronous lookup over the result, for `checkEventSignatures` and
   * `checkIncomingPdu` (matrix-serverlib/events).
   *
   * @param requests - the keys wanted.
   * @param options - the signal, as for {@link Keyring.getKeys}.
   * @returns a lookup answering from the keys found (of any server asked).
   *   Rejects only if the store fails, or with the signal's reason.
   */
  prepare(
    requests: readonly KeyringRequest[],
    options: AbortOptions = {},
  ): Promise<(serverName: string, keyId: string) => KeyringKey | undefined> {
    const { signal } = options;
    if (signal?.aborted === true) return Promise.reject(signal.reason);
    // The store is not given the signal: its reads are not waited for.
    return raceAbort(this.#prepare(requests, signal), signal);
  }

  async #prepare(
    requests: readonly KeyringRequest[],
    signal: AbortSignal | undefined,
  ): Promise<(serverName: string, keyId: string) => KeyringKey | undefined> {
    const now = this.#now();
    const needs: Need[] = [];
    for (const r of requests) {
      if (this.#isLocal(r.serverName)) continue;
      let fetchable = 0;
      for (const keyId of new Set(r.keyIds)) {
        if (!keyId.startsWith('ed25519:') || ++fetchable > MAX_KEY_IDS_PER_SERVER) continue;
        needs.push({ serverName: r.serverName, keyId, minimum: r.minimumValidUntilTs ?? now });
      }
    }
    if (needs.length > 0) {
      // Keys the store already holds, valid long enough, need no batch (and
      // no turn of the event loop): only the rest waits for a fetch.
      const unmet = await this.#unmet(needs, false);
      if (unmet.size > 0) await this.#enqueue([...unmet.values()].flat(), signal);
    }
    const found = new Map<string, Map<string, KeyringKey>>();
    for (const r of requests) {
      const forServer = found.get(r.serverName) ?? new Map<string, KeyringKey>();
      found.set(r.serverName, forServer);
      const local = this.#local.get(r.serverName);
      if (local !== undefined) {
        for (const keyId of r.keyIds) {
          const key = local.keys.get(keyId);
          if (key !== undefined) {
            forServer.set(keyId, {
              key: key.key,
              validUntilTs: key.validUntilTs,
              old: key.old ?? false,
              fetchedAt: now,
              fromServer: r.serverName,
            });
          }
        }
        continue;
      }
      const stored = await this.#store.getKeys(r.serverName, r.keyIds);
      for (const [keyId, s] of stored) forServer.set(keyId, this.#served(s));
    }
    return (serverName, keyId) => found.get(serverName)?.get(keyId);
  }

  /**
   * A lookup of the type `checkEventSignatures` takes, over keys fetched
   * for the requests (see {@link Keyring.prepare}).
   *
   * @param requests - the keys wanted.
   * @param options - the signal, as for {@link Keyring.getKeys}.
   * @returns the lookup. Rejects only if the store fails, or with the signal's reason.
   */
  async eventKeyLookup(requests: readonly KeyringRequest[], options: AbortOptions = {}): Promise<EventKeyLookup> {
    return this.prepare(requests, options);
  }

  /**
   * Makes sure the responses that hold the wanted keys are valid until the
   * times asked (by the servers' own `valid_until_ts`, without the trust
   * cap), fetching where not; for a notary answering `/_matrix/key/v2/query`.
   *
   * @param requests - the keys wanted; an empty `keyIds` asks for the
   *   server's current response, whatever its keys.
   * @param options - which sources, how many servers at most to fetch, and
   *   the signal, as for {@link Keyring.getKeys}.
   * @returns when done; fetch failures are remembered, not raised.
   *   Rejects only if the store fails, or with the signal's reason.
   */
  refresh(requests: readonly KeyringRequest[], options: KeyringRefreshOptions = {}): Promise<void> {
    const { signal } = options;
    if (signal?.aborted === true) return Promise.reject(signal.reason);
    return raceAbort(this.#refresh(requests, options), signal);
  }

  async #refresh(requests: readonly KeyringRequest[], options: KeyringRefreshOptions): Promise<void> {
    const now = this.#now();
    const needs: Need[] = [];
    for (const r of requests) {
      if (this.#isLocal(r.serverName)) continue;
      const minimum = r.minimumValidUntilTs ?? now;
      if (r.keyIds.length === 0) needs.push({ serverName: r.serverName, keyId: ANY, minimum });
      let fetchable = 0;
      for (const keyId of new Set(r.keyIds)) {
        if (keyId.startsWith('ed25519:') && ++fetchable <= MAX_KEY_IDS_PER_SERVER) {
          needs.push({ serverName: r.serverName, keyId, minimum });
        }
      }
    }
    const fetchers = options.directOnly === true ? this.#fetchers.filter((f) => f.direct) : this.#fetchers;
    await this.#resolve(needs, fetchers, true, options.maxFetches ?? Number.POSITIVE_INFINITY, options.signal);
  }

  /**
   * The stored responses (as received) that hold the keys of `serverName`
   * among `keyIds`, or all its keys if `keyIds` is empty; each response
   * once (told apart by {@link StoredKey.responseId}, so the cost is linear
   * in the keys). For a notary passing them on.
   *
   * @param serverName - the server.
   * @param keyIds - the key IDs; empty for all.
   * @returns the responses. Rejects only if the store fails.
   */
  async storedResponses(serverName: string, keyIds: readonly string[]): Promise<StoredKey['response'][]> {
    const keys =
      keyIds.length === 0
        ? await this.#store.getAllKeys(serverName)
        : [...(await this.#store.getKeys(serverName, keyIds)).values()];
    const seen = new Map<string, StoredKey['response']>();
    for (const k of keys) if (!seen.has(k.responseId)) seen.set(k.responseId, k.response);
    return [...seen.values()];
  }

  /**
   * Forgets failures, so that the next lookup fetches at once: those of
   * every source for `serverName` and of its keys that no source could
   * give; without a server name, every failure (whole notaries that could
   * not be reached included). For when you learn a server is back. A
   * server that answered less than `refetchIntervalMs` ago is still not
   * asked again before the interval has passed (it guards against forged
   * key IDs, not failures).
   *
   * @param serverName - the server; none for all.
   */
  resetBackoff(serverName?: string): void {
    const forget = (failures: Failures, matches: (name: string) => boolean) => {
      for (const [name] of failures.states()) if (matches(name)) failures.succeeded(name);
    };
    if (serverName === undefined) {
      forget(this.#sources, () => true);
      forget(this.#missing, () => true);
      return;
    }
    for (const f of this.#fetchers) this.#sources.succeeded(`${f.source}\n${serverName}`);
    forget(this.#missing, (name) => name.startsWith(`${serverName}\n`));
  }

  #isLocal(serverName: string): boolean {
    return this.#local.has(serverName);
  }

  /** A stored key as served: valid until the lesser of its own time and the cap. */
  #served(s: StoredKey): KeyringKey {
    return {
      key: verifyKeyFromBytes(s.publicKey),
      validUntilTs: Math.min(s.validUntilTs, s.fetchedAt + this.#cap),
      old: s.old,
      fetchedAt: s.fetchedAt,
      fromServer: s.fromServer,
    };
  }

  /**
   * Queues needs for the next batch; resolves when they are settled. The
   * batch is shared by the lookups in it: it is abandoned (its fetches
   * aborted) only when every one of them has given up.
   */
  #enqueue(needs: Need[], signal: AbortSignal | undefined): Promise<void> {
    let batch = this.#batch;
    if (batch === undefined) {
      const gathered: Need[] = [];
      const task = new SharedTask((shared) =>
        this.#resolve(gathered, this.#fetchers, false, Number.POSITIVE_INFINITY, shared),
      );
      this.#batch = batch = { task, needs: gathered };
      // Everything looked up until the event loop turns goes in one batch.
      setImmediate(() => {
        this.#batch = undefined;
        task.start();
      });
    }
    batch.needs.push(...needs);
    return batch.task.join(signal);
  }

  /**
   * Whether a stored key meets a need. For lookups (`published` false) the
   * key's time is capped; for notaries (`published` true) the response's own
   * times count.
   */
  #meets(need: Need, stored: ReadonlyMap<string, StoredKey>, published: boolean): boolean {
    if (need.keyId === ANY) {
      for (const s of stored.values()) if (s.responseValidUntilTs >= need.minimum) return true;
      return false;
    }
    const s = stored.get(need.keyId);
    if (s === undefined) return false;
    return (published ? s.validUntilTs : this.#served(s).validUntilTs) >= need.minimum;
  }

  async #storedFor(serverName: string, keyIds: readonly string[]): Promise<ReadonlyMap<string, StoredKey>> {
    if (keyIds.includes(ANY)) {
      return new Map((await this.#store.getAllKeys(serverName)).map((s) => [s.keyId, s]));
    }
    return this.#store.getKeys(serverName, keyIds);
  }

  /** The needs not met by the store, by server. */
  async #unmet(needs: readonly Need[], published: boolean): Promise<Map<string, Need[]>> {
    const byServer = new Map<string, Need[]>();
    for (const n of needs) {
      const list = byServer.get(n.serverName);
      if (list === undefined) byServer.set(n.serverName, [n]);
      else list.push(n);
    }
    const unmet = new Map<string, Need[]>();
    for (const [serverName, list] of byServer) {
      const stored = await this.#storedFor(
        serverName,
        list.map((n) => n.keyId),
      );
      const left = list.filter((n) => !this.#meets(n, stored, published));
      if (left.length > 0) unmet.set(serverName, left);
    }
    return unmet;
  }

  /** Whether a source answered for the server less than the refetch interval ago. */
  #answeredRecently(serverName: string, now: number): boolean {
    const at = this.#answered.get(serverName);
    return at !== undefined && now - at < this.#refetchIntervalMs;
  }

  /**
   * Fetches until every need is met, or has been tried and failed (then
   * remembered as failing), or is still waiting after an earlier failure or
   * a recent answer; starting fetches for at most `maxFetches` servers.
   * Rejects with the signal's reason once it aborts.
   */
  async #resolve(
    needs: readonly Need[],
    fetchers: readonly KeyFetcher[],
    published: boolean,
    maxFetches: number,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    // The most demanding time per key.
    const merged = new Map<string, Need>();
    for (const n of needs) {
      const m = merged.get(needName(n));
      if (m === undefined) merged.set(needName(n), { ...n });
      else m.minimum = Math.max(m.minimum, n.minimum);
    }
    let pending = [...merged.values()];
    const tried = new Set<string>();
    const fetched = new Set<string>();
    for (;;) {
      signal?.throwIfAborted();
      const now = this.#now();
      const unmet = await this.#unmet(pending, published);
      const mine: Need[] = [];
      const others: Promise<void>[] = [];
      pending = [];
      for (const [serverName, list] of unmet) {
        const open = list.filter(
          (n) => !tried.has(needName(n)) && !this.#missing.waiting(needName(n), now) && isValidServerName(serverName),
        );
        if (open.length === 0) continue;
        const running = this.#inFlight.get(serverName);
        if (running !== undefined && !running.abandoned) {
          // Another lookup is fetching this server: wait for it, then see
          // what is still missing (giving up this wait is seen above).
          others.push(running.join(signal).catch(() => undefined));
          pending.push(...open);
        } else if (!this.#answeredRecently(serverName, now) && (fetched.has(serverName) || fetched.size < maxFetches)) {
          fetched.add(serverName);
          mine.push(...open);
        }
      }
      if (mine.length === 0 && others.length === 0) return;
      let round: Promise<void> | undefined;
      if (mine.length > 0) {
        for (const n of mine) tried.add(needName(n));
        const servers = [...new Set(mine.map((n) => n.serverName))];
        const shared: SharedTask<void> = new SharedTask(async (roundSignal) => {
          try {
            await this.#round(mine, fetchers, published, roundSignal);
          } finally {
            for (const s of servers) if (this.#inFlight.get(s) === shared) this.#inFlight.delete(s);
          }
        });
        for (const s of servers) this.#inFlight.set(s, shared);
        round = shared.start().join(signal);
      }
      // Another lookup's failure (of its store) is its own; ours rejects.
      await Promise.all([...others, ...(round === undefined ? [] : [round])]);
    }
  }

  /**
   * One fetch round: each source in turn, for what is still unmet. Once
   * the signal aborts (every lookup waiting gave up) it rejects, and
   * records no failure: the sources did not fail.
   */
  async #round(
    needs: readonly Need[],
    fetchers: readonly KeyFetcher[],
    published: boolean,
    signal: AbortSignal,
  ): Promise<void> {
    let left: readonly Need[] = needs;
    const kept = new Map<string, StoredKey>();
    for (const fetcher of fetchers) {
      if (left.length === 0) break;
      signal.throwIfAborted();
      const now = this.#now();
      if (this.#sources.waiting(fetcher.source, now)) continue;
      const asked = left.filter((n) => !this.#sources.waiting(`${fetcher.source}\n${n.serverName}`, now));
      if (asked.length === 0) continue;
      const requests = new Map<string, { keyIds: string[]; minimum: number }>();
      for (const n of asked) {
        const r = requests.get(n.serverName) ?? { keyIds: [], minimum: 0 };
        requests.set(n.serverName, r);
        if (n.keyId !== ANY) r.keyIds.push(n.keyId);
        r.minimum = Math.max(r.minimum, n.minimum);
      }
      const list: KeyRequest[] = [...requests].map(([serverName, r]) => ({
        serverName,
        keyIds: r.keyIds,
        minimumValidUntilTs: r.minimum,
      }));
      let result: Awaited<ReturnType<KeyFetcher['fetch']>>;
      try {
        result = await measured(
          keyFetchChannel,
          () => fetcher.fetch(list, { signal }),
          (outcome): KeyFetchMessage => ({
            source: fetcher.source,
            servers: list.map((r) => r.serverName),
            fetched: outcome.result?.fetched.map((f) => f.serverName) ?? [],
            failures: outcome.result?.failures ?? [],
            error: outcome.error,
            durationMs: outcome.durationMs,
          }),
        );
      } catch (e) {
        result = { fetched: [], failures: [{ reason: e instanceof Error ? e.message : String(e), cause: e }] };
      }
      // A fetcher of the caller's may report the abort as failures.
      signal.throwIfAborted();
      const at = this.#now();
      for (const f of result.failures) {
        this.#sources.failed(f.serverName === undefined ? fetcher.source : `${fetcher.source}\n${f.serverName}`, at);
      }
      const answered = result.fetched.filter((f) => requests.has(f.serverName));
      if (answered.length > 0) this.#sources.succeeded(fetcher.source);
      for (const f of answered) {
        this.#sources.succeeded(`${fetcher.source}\n${f.serverName}`);
        this.#answered.set(f.serverName, at);
      }
      await this.#keep(answered, at, kept);
      const unmet = await this.#unmet(left, published);
      left = [...unmet.values()].flat();
    }
    const at = this.#now();
    const stillUnmet = new Set(left.map(needName));
    for (const n of needs) {
      if (stillUnmet.has(needName(n))) this.#missing.failed(needName(n), at);
      else this.#missing.succeeded(needName(n));
    }
  }

  /**
   * Stores fetched keys: of several answers in one round (`best`, what the
   * round kept so far), the key valid the longest; over a key stored by an
   * earlier round, the newer fetch.
   */
  async #keep(fetched: readonly FetchedKeys[], at: number, best: Map<string, StoredKey>): Promise<void> {
    const put = new Map<string, StoredKey>();
    for (const f of fetched) {
      // One encoding per response: its keys share the ID.
      const responseId = hash('sha256', encodeCanonicalJson(f.response, SIGNED_JSON), 'base64url');
      for (const [keyId, k] of f.keys) {
        const name = needName({ serverName: f.serverName, keyId });
        const previous = best.get(name);
        if (previous !== undefined && previous.validUntilTs > k.validUntilTs) continue;
        best.set(name, {
          serverName: f.serverName,
          keyId,
          publicKey: k.key.bytes,
          validUntilTs: k.validUntilTs,
          old: k.old,
          responseValidUntilTs: f.validUntilTs,
          fetchedAt: at,
          fromServer: f.fromServer,
          response: f.response,
          responseId,
        });
        put.set(name, best.get(name) as StoredKey);
      }
    }
    if (put.size > 0) await this.#store.putKeys([...put.values()]);
  }
}
