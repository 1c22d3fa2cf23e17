/**
 * What the keyring reports, on `node:diagnostics_channel` channels (also
 * in Bun and Deno): each fetch from a source and each change of its
 * back-off. Nothing is built or published while a channel has no
 * subscriber; a subscriber runs synchronously and should not throw.
 *
 * @example
 * ```ts
 * import { subscribe } from 'node:diagnostics_channel';
 * import { KEY_FETCH_CHANNEL, type KeyFetchMessage } from 'matrix-serverlib/keys';
 *
 * subscribe(KEY_FETCH_CHANNEL, (message) => {
 *   const m = message as KeyFetchMessage;
 *   for (const f of m.failures) console.warn(`keys from ${m.source}: ${f.serverName ?? '(all)'}: ${f.reason}`);
 * });
 * ```
 *
 * @module
 */

import { channel } from 'node:diagnostics_channel';
import type { BackoffState } from '../util/backoff.js';
import type { Publisher } from '../util/diagnostics.js';
import type { FetchFailure } from './fetchers.js';
import type { Keyring } from './keyring.js';

/** The channel of {@link KeyFetchMessage}: `matrix-serverlib:keys:fetch`. */
export const KEY_FETCH_CHANNEL = 'matrix-serverlib:keys:fetch';

/** The channel of {@link KeyBackoffMessage}: `matrix-serverlib:keys:backoff`. */
export const KEY_BACKOFF_CHANNEL = 'matrix-serverlib:keys:backoff';

/** Published for each fetch a {@link Keyring} makes from one of its sources, when it has ended. */
export interface KeyFetchMessage {
  /** The source (`direct`, `notary:<name>`, or a fetcher's own). */
  readonly source: string;
  /** The servers asked about. */
  readonly servers: readonly string[];
  /** The servers whose keys came back, checked. */
  readonly fetched: readonly string[];
  /** What failed, for one server or (no `serverName`) the source as a whole. */
  readonly failures: readonly FetchFailure[];
  /**
   * What the fetch rejected with, if it did: the signal's reason when every
   * lookup waiting for it gave up, or a fetcher's failure.
   */
  readonly error: unknown;
  /** How long it took, in milliseconds (monotonic clock). */
  readonly durationMs: number;
}

/**
 * Published when a back-off of a {@link Keyring} changes: of a source for
 * a server (or of a whole source), or of a key no source could give.
 */
export interface KeyBackoffMessage {
  /** `source`: a source failed; `key`: no source could give a key valid long enough. */
  readonly kind: 'source' | 'key';
  /** The source, for `source`. */
  readonly source: string | undefined;
  /** The server; undefined when a whole source failed. */
  readonly serverName: string | undefined;
  /** The key ID, for `key`. */
  readonly keyId: string | undefined;
  /** The new state after a failure; undefined when a success or a reset forgot the failures. */
  readonly state: BackoffState | undefined;
}

/** The channels, made once. */
export const keyFetchChannel: Publisher = channel(KEY_FETCH_CHANNEL);
/** See {@link KEY_BACKOFF_CHANNEL}. */
export const keyBackoffChannel: Publisher = channel(KEY_BACKOFF_CHANNEL);
