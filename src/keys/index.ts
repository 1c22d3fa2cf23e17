/**
 * Server keys: our key server's signed responses, checking the responses of
 * other servers and notaries, and a keyring that fetches, caches and serves
 * the verify keys everything else is checked with.
 *
 * Guide: [Find and trust a server's keys](../../docs/server-keys.md).
 *
 * @example
 * ```ts
 * import { Keyring } from 'matrix-serverlib/keys';
 * import { verifyEvent } from 'matrix-serverlib/events';
 * const keyring = new Keyring({ transport, notaries: [{ serverName: 'matrix.org', verifyKeys }] });
 * const check = await verifyEvent(pdu, rules, keyring.lookup);
 * ```
 *
 * @module keys
 */

export { InvalidInputError, MatrixServerlibError } from '../errors.js';
export type { AbortOptions } from '../util/abort.js';
export type { BackoffPolicy, BackoffState } from '../util/backoff.js';
export {
  checkNotaryResponse,
  checkNotaryServerKeys,
  checkServerKeys,
  MAX_KEYS_BODY_BYTES,
  MAX_KEYS_BODY_DEPTH,
  type NotaryResponseCheck,
  type NotaryResponseCheckOptions,
  type NotaryServerKeysCheckOptions,
  type ParseKeysBodyOptions,
  parseKeysBody,
  type ServerKeysCheck,
  type ServerKeysCheckOptions,
  type ServerVerifyKey,
  type TrustedNotary,
} from './check.js';
export {
  KEY_BACKOFF_CHANNEL,
  KEY_FETCH_CHANNEL,
  type KeyBackoffMessage,
  type KeyFetchMessage,
} from './diagnostics.js';
export {
  DIRECT_FETCH_CONCURRENCY,
  DirectKeyFetcher,
  type FetchedKeys,
  type FetchFailure,
  type KeyFetcher,
  type KeyFetcherOptions,
  type KeyFetchResult,
  type KeyRequest,
  type KeyTransport,
  type KeyTransportRequest,
  NotaryKeyFetcher,
} from './fetchers.js';
export {
  KEY_REFETCH_INTERVAL_MS,
  Keyring,
  type KeyringKey,
  type KeyringOptions,
  type KeyringRefreshOptions,
  type KeyringRequest,
  type LocalKey,
  type LocalKeys,
  MAX_KEY_IDS_PER_SERVER,
  MAX_KEY_VALIDITY_MS,
} from './keyring.js';
export {
  KeyNotary,
  type KeyNotaryOptions,
  type KeyQuery,
  type KeyQueryEntry,
  keyQueryForServer,
  MAX_QUERY_FETCHES,
  MAX_QUERY_KEY_IDS,
  MAX_QUERY_SERVERS,
  parseKeyQuery,
} from './notary.js';
export {
  type NotaryIdentity,
  notaryQueryResponse,
  notarySignResponse,
  type OldVerifyKey,
  type ServerKeysResponseOptions,
  serverKeysResponse,
} from './response.js';
export {
  type KeyStore,
  type MaybePromise,
  MEMORY_KEY_STORE_MAX_BYTES,
  MemoryKeyStore,
  type MemoryKeyStoreOptions,
  type StoredKey,
} from './store.js';
