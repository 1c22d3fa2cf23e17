/**
 * Federation: server discovery, X-Matrix request signing and verification,
 * and the federation client (undici) with per-destination back-off, which
 * also serves a keyring as its transport. Server names and the other
 * identifiers are in `matrix-serverlib/identifiers`.
 *
 * Guides: [Sign and verify a federation request](../../docs/signing-requests.md);
 * [Finding where to send a federation request](../../docs/server-discovery.md); its errors, in
 * [Errors](../../docs/errors.md).
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
export type { AbortOptions } from '../util/abort.js';
export { type BackoffListener, type BackoffPolicy, type BackoffState, Failures } from '../util/backoff.js';
export {
  DEFAULT_MAX_RESPONSE_BYTES,
  DENSEST_EVENT_VALUES,
  type DestinationResolver,
  type FederationCallOptions,
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
  type SendJoinOptions,
  type SendTransactionOptions,
  SINGLE_EVENT_RESPONSE_MAX_BYTES,
} from './client.js';
export {
  DISCOVERY_CHANNEL,
  type DiscoveryMessage,
  FEDERATION_BACKOFF_CHANNEL,
  FEDERATION_REQUEST_CHANNEL,
  type FederationBackoffMessage,
  type FederationRequestMessage,
} from './diagnostics.js';
export * from './discovery/index.js';
export type {
  EventAuthResponse,
  InviteResponse,
  KeyQueryResponse,
  MembershipTemplateResponse,
  MissingEventsResponse,
  PduTransactionResponse,
  ProfileResponse,
  SendJoinResponse,
  SendKnockResponse,
  SendTransactionResponse,
  StateIdsResponse,
  StateResponse,
  VersionResponse,
} from './responses.js';
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
