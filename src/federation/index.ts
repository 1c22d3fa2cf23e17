/**
 * Federation: server discovery, X-Matrix request signing and verification,
 * and the federation client (undici) with per-destination back-off, which
 * also serves a keyring as its transport. Server names and the other
 * identifiers are in `matrix-serverlib/identifiers`.
 *
 * @example
 * ```ts
 * import { signRequest } from 'matrix-serverlib/federation';
 * const authorization = signRequest(
 *   { method: 'GET', uri: '/_matrix/federation/v1/version', origin: 'a.example', destination: 'b.example' },
 *   'ed25519:a1',
 *   signingKey,
 * ); // X-Matrix origin="a.example",destination="b.example",key="ed25519:a1",sig="…"
 * ```
 *
 * @module federation
 */

export { InvalidInputError, MatrixServerlibError } from '../errors.js';
export { type BackoffPolicy, Failures } from '../util/backoff.js';
export {
  DEFAULT_MAX_RESPONSE_BYTES,
  DENSEST_EVENT_VALUES,
  type DestinationResolver,
  FederationClient,
  type FederationClientOptions,
  type FederationDestination,
  FederationError,
  type FederationErrorCode,
  type FederationErrorDetails,
  type FederationKeyTransportOptions,
  type FederationRequest,
  type FederationTarget,
  MIN_BYTES_PER_VALUE,
  path,
  type RequestSigner,
  type RequestToSign,
  SINGLE_EVENT_RESPONSE_MAX_BYTES,
} from './client.js';
export * from './discovery/index.js';
export {
  checkRequestSignature,
  formatXMatrix,
  type IncomingRequest,
  MAX_AUTHORIZATION_BYTES,
  type OutgoingRequest,
  parseXMatrix,
  type RequestCheck,
  requestJson,
  signRequest,
  type VerifyRequestOptions,
  verifyRequest,
  type XMatrixAuthorization,
} from './xmatrix.js';
