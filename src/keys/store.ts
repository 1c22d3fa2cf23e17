/**
 * Where a keyring keeps the keys it has fetched: an interface, so that a
 * homeserver can keep them in its database, and an in-memory default.
 *
 * @module
 */

import type { JsonObject } from '../canonicaljson/value.js';

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
 * A {@link KeyStore} in memory: nothing survives a restart. Unbounded, as a
 * server federates with a bounded number of servers (each key is kept once,
 * the newest).
 */
export class MemoryKeyStore implements KeyStore {
  readonly #servers = new Map<string, Map<string, StoredKey>>();

  /** {@inheritDoc KeyStore.getKeys} */
  getKeys(serverName: string, keyIds: readonly string[]): ReadonlyMap<string, StoredKey> {
    const stored = this.#servers.get(serverName);
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
    return [...(this.#servers.get(serverName)?.values() ?? [])];
  }

  /** {@inheritDoc KeyStore.putKeys} */
  putKeys(keys: readonly StoredKey[]): void {
    for (const key of keys) {
      let stored = this.#servers.get(key.serverName);
      if (stored === undefined) this.#servers.set(key.serverName, (stored = new Map()));
      stored.set(key.keyId, key);
    }
  }
}
