/**
 * Where a keyring keeps the keys it has fetched: an interface, so that a
 * homeserver can keep them in its database, and an in-memory default.
 *
 * @module
 */

import { encodeCanonicalJson } from '../canonicaljson/encode.js';
import type { JsonObject } from '../canonicaljson/value.js';
import { SIGNED_JSON } from './json.js';

/** One key of a server as a keyring stores it, with the response it came in. */
export interface StoredKey {
  /** The server whose key it is. */
  readonly serverName: string;
  /** Its key ID, e.g. `ed25519:abc`. */
  readonly keyId: string;
  /** The 32-byte public key. */
  readonly publicKey: Uint8Array;
  /**
   * Until when the server says the key may be used (milliseconds since the
   * epoch): the response's `valid_until_ts`, or `expired_ts` for an old key.
   */
  readonly validUntilTs: number;
  /** Whether the key came from `old_verify_keys`. */
  readonly old: boolean;
  /** The `valid_until_ts` of the response the key came in. */
  readonly responseValidUntilTs: number;
  /** When we received the response, by the keyring's clock. */
  readonly fetchedAt: number;
  /** Who gave us the response: the server itself, or a notary's name. */
  readonly fromServer: string;
  /**
   * The response as received (with the origin's signature, and a notary's
   * if it came through one), to pass on when we act as a notary. The keys
   * of one response share it.
   */
  readonly response: JsonObject;
  /**
   * The response's identity: the SHA-256 of its Canonical JSON, in unpadded
   * URL-safe Base64 (equal responses have equal IDs). A store in a database
   * should keep each response once under it, not once per key; the keyring
   * tells responses apart by it without encoding them again.
   */
  readonly responseId: string;
}

/** A value, or a promise of it. */
export type MaybePromise<T> = T | Promise<T>;

/**
 * Storage for fetched keys. Methods may answer synchronously or with a
 * promise; a failure (a rejected promise) fails the lookup that needed it.
 */
export interface KeyStore {
  /**
   * The stored keys of `serverName` among `keyIds`, by key ID; keys not
   * stored are absent.
   */
  getKeys(serverName: string, keyIds: readonly string[]): MaybePromise<ReadonlyMap<string, StoredKey>>;
  /** Every stored key of `serverName`. */
  getAllKeys(serverName: string): MaybePromise<readonly StoredKey[]>;
  /**
   * Stores keys, each replacing any stored key of the same server and key
   * ID (the keyring decides which is better before calling).
   */
  putKeys(keys: readonly StoredKey[]): MaybePromise<void>;
}

/**
 * Default of {@link MemoryKeyStoreOptions.maxBytes}: 16 MiB as counted there,
 * room for about 18,000 servers publishing responses shaped like Synapse's
 * (two keys, about 1 KiB with both keys counted). The heap holds more than
 * the count: we measured 2.7 times as much for such responses, and 8 times
 * for responses built of many tiny members to make the most of it.
 */
export const MEMORY_KEY_STORE_MAX_BYTES = 16 * 1024 * 1024;

/**
 * What each key counts for in {@link MemoryKeyStoreOptions.maxBytes},
 * besides its response: about what its record and public key hold.
 */
const KEY_BYTES = 256;

/** Options for {@link MemoryKeyStore}. */
export interface MemoryKeyStoreOptions {
  /**
   * Most bytes held, counting each response once by the length of its
   * Canonical JSON and each key as 256 bytes (a measure, not the exact
   * heap used); default {@link MEMORY_KEY_STORE_MAX_BYTES}. Past it the
   * servers used least recently (looked up or stored) are dropped whole; if
   * one server alone is past it, its oldest responses are dropped with the
   * keys they hold. A dropped key is fetched again when next needed.
   */
  readonly maxBytes?: number;
}

/** What the store holds of one server. */
interface Held {
  /** Its keys by key ID. */
  readonly keys: Map<string, StoredKey>;
  /** Its responses by ID, least recently stored first: their size and how many keys hold them. */
  readonly responses: Map<string, { readonly bytes: number; keys: number }>;
  /** The bytes it counts for. */
  bytes: number;
}

/**
 * A {@link KeyStore} in memory: nothing survives a restart. Bounded (see
 * {@link MemoryKeyStoreOptions.maxBytes}): without a bound, every server
 * name a forged request or a notary query names could add its keys. Each
 * response is held once, however many of its keys are stored.
 */
export class MemoryKeyStore implements KeyStore {
  /** Least recently used first. */
  readonly #servers = new Map<string, Held>();
  readonly #maxBytes: number;
  #bytes = 0;

  /** @param options - the bound. Never throws. */
  constructor(options: MemoryKeyStoreOptions = {}) {
    this.#maxBytes = options.maxBytes ?? MEMORY_KEY_STORE_MAX_BYTES;
  }

  /** What the store holds, as {@link MemoryKeyStoreOptions.maxBytes} counts it. Never throws. */
  get bytes(): number {
    return this.#bytes;
  }

  /** {@inheritDoc KeyStore.getKeys} */
  getKeys(serverName: string, keyIds: readonly string[]): ReadonlyMap<string, StoredKey> {
    const stored = this.#used(serverName)?.keys;
    const found = new Map<string, StoredKey>();
    if (stored === undefined) return found;
    for (const keyId of keyIds) {
      const key = stored.get(keyId);
      if (key !== undefined) found.set(keyId, key);
    }
    return found;
  }

  /** {@inheritDoc KeyStore.getAllKeys} */
  getAllKeys(serverName: string): readonly StoredKey[] {
    return [...(this.#used(serverName)?.keys.values() ?? [])];
  }

  /** {@inheritDoc KeyStore.putKeys} */
  putKeys(keys: readonly StoredKey[]): void {
    for (const key of keys) {
      let held = this.#used(key.serverName);
      if (held === undefined) {
        held = { keys: new Map(), responses: new Map(), bytes: 0 };
        this.#servers.set(key.serverName, held);
      }
      const previous = held.keys.get(key.keyId);
      if (previous !== undefined) this.#release(held, previous);
      held.keys.set(key.keyId, key);
      let response = held.responses.get(key.responseId);
      if (response === undefined) {
        response = { bytes: encodeCanonicalJson(key.response, SIGNED_JSON).length, keys: 0 };
        this.#add(held, response.bytes);
      } else {
        held.responses.delete(key.responseId);
      }
      // Newest last: a response fetched again is no longer the oldest.
      held.responses.set(key.responseId, response);
      response.keys++;
      this.#add(held, KEY_BYTES);
    }
    while (this.#bytes > this.#maxBytes && this.#servers.size > 0) {
      const [serverName, held] = this.#servers.entries().next().value as [string, Held];
      if (this.#servers.size > 1) {
        this.#servers.delete(serverName);
        this.#bytes -= held.bytes;
        continue;
      }
      const oldest = held.responses.keys().next().value;
      for (const [keyId, key] of held.keys) {
        if (key.responseId !== oldest) continue;
        held.keys.delete(keyId);
        this.#release(held, key);
      }
      if (held.keys.size === 0) this.#servers.delete(serverName);
    }
  }

  /** The server's entry, marked as used most recently. */
  #used(serverName: string): Held | undefined {
    const held = this.#servers.get(serverName);
    if (held !== undefined) {
      this.#servers.delete(serverName);
      this.#servers.set(serverName, held);
    }
    return held;
  }

  #add(held: Held, bytes: number): void {
    held.bytes += bytes;
    this.#bytes += bytes;
  }

  /** Counts a key out, and its response once no key holds it. */
  #release(held: Held, key: StoredKey): void {
    this.#add(held, -KEY_BYTES);
    const response = held.responses.get(key.responseId);
    if (response === undefined || --response.keys > 0) return;
    held.responses.delete(key.responseId);
    this.#add(held, -response.bytes);
  }
}
