/**
 * Federation: identifiers and server names, X-Matrix request signing and
 * verification, and the federation client (undici) with per-destination
 * back-off, which also serves a keyring as its transport.
 *
 * @example
 * ```ts
 * import { parseServerName, parseUserId } from 'matrix-serverlib/federation';
 * parseServerName('[1234:5678::abcd]:8448'); // { host: '[1234:5678::abcd]', kind: 'ipv6', port: 8448 }
 * parseUserId('@alice:example.org').compliant; // true
 * ```
 *
 * @module federation
 */

export { InvalidInputError } from '../errors.js';
export { type BackoffPolicy, Failures } from './backoff.js';
export {
  DEFAULT_MAX_RESPONSE_BYTES,
  DENSEST_EVENT_VALUES,
  type DestinationResolver,
  FederationClient,
  type FederationClientOptions,
  type FederationDestination,
  FederationError,
  type FederationErrorKind,
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
  type EventId,
  isValidEventId,
  isValidRoomAlias,
  isValidRoomId,
  isValidServerName,
  isValidUserId,
  type OpaqueId,
  parseEventId,
  parseRoomAlias,
  parseRoomId,
  parseServerName,
  parseUserId,
  type RoomAlias,
  type RoomId,
  type ServerName,
  type UserId,
} from './identifiers.js';
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
