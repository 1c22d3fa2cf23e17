/**
 * What the federation client and server discovery report, on
 * `node:diagnostics_channel` channels (also in Bun and Deno): subscribe to
 * log or measure them. Nothing is built or published while a channel has
 * no subscriber. A subscriber runs synchronously within the call: keep it
 * short, and do not throw (Node reports a subscriber's exception as
 * uncaught, it does not reach the call).
 *
 * @example
 * ```ts
 * import { subscribe } from 'node:diagnostics_channel';
 * import { FEDERATION_REQUEST_CHANNEL, type FederationRequestMessage } from 'matrix-serverlib/federation';
 *
 * subscribe(FEDERATION_REQUEST_CHANNEL, (message) => {
 *   const m = message as FederationRequestMessage;
 *   console.log(`${m.method} ${m.destination}${m.path} ${m.status ?? 'no answer'} ${m.durationMs.toFixed(0)} ms`);
 * });
 * ```
 *
 * @module
 */

import { channel } from 'node:diagnostics_channel';
import type { BackoffState } from '../util/backoff.js';
import type { Publisher } from '../util/diagnostics.js';
import type { FederationClient, FederationError } from './client.js';
import type { ResolvedServer } from './discovery/resolve.js';

/** The channel of {@link FederationRequestMessage}: `matrix-serverlib:federation:request`. */
export const FEDERATION_REQUEST_CHANNEL = 'matrix-serverlib:federation:request';

/** The channel of {@link FederationBackoffMessage}: `matrix-serverlib:federation:backoff`. */
export const FEDERATION_BACKOFF_CHANNEL = 'matrix-serverlib:federation:backoff';

/** The channel of {@link DiscoveryMessage}: `matrix-serverlib:discovery:resolve`. */
export const DISCOVERY_CHANNEL = 'matrix-serverlib:discovery:resolve';

/**
 * Published once for every request of a {@link FederationClient} (its
 * key transport's included), when it has ended, whichever way.
 */
export interface FederationRequestMessage {
  /** The server the request was for. */
  readonly destination: string;
  /** The server name it was signed as; undefined for unsigned requests (the key endpoints). */
  readonly origin: string | undefined;
  /** The method. */
  readonly method: string;
  /** The path, without the query string. */
  readonly path: string;
  /** The HTTP status, if the server answered. */
  readonly status: number | undefined;
  /** How long it took, discovery included, in milliseconds (monotonic clock). */
  readonly durationMs: number;
  /**
   * What the call rejected with, if it did: a {@link FederationError}, the
   * signal's reason, or the signer's error.
   */
  readonly error: unknown;
}

/** Published when a destination's back-off changes (see {@link FederationClient.backoffState}). */
export interface FederationBackoffMessage {
  /** The server. */
  readonly destination: string;
  /** The new state after a failure; undefined when a success or a reset forgot the failures. */
  readonly state: BackoffState | undefined;
}

/**
 * Published when server discovery resolves a name: each resolution made,
 * not each result given again from the cache of finished results (a
 * result that was remembered whole).
 */
export interface DiscoveryMessage {
  /** The server name. */
  readonly serverName: string;
  /** The result, if it resolved. */
  readonly result: ResolvedServer | undefined;
  /** What it rejected with, if it did: a `DiscoveryError`, an `InvalidInputError` or the signal's reason. */
  readonly error: unknown;
  /** How long it took, in milliseconds (monotonic clock). */
  readonly durationMs: number;
}

/** The channels, made once (`channel` returns the same object for a name). */
export const requestChannel: Publisher = channel(FEDERATION_REQUEST_CHANNEL);
/** See {@link FEDERATION_BACKOFF_CHANNEL}. */
export const backoffChannel: Publisher = channel(FEDERATION_BACKOFF_CHANNEL);
/** See {@link DISCOVERY_CHANNEL}. */
export const discoveryChannel: Publisher = channel(DISCOVERY_CHANNEL);
