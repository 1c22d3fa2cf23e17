/**
 * Events: the PDU of every room version, 1–12. Format checks, building and
 * signing events, checking their signatures and content hashes, membership
 * templates, and the one-call check of a PDU received over federation
 * (spec: server-server API, "Checks performed on receipt of a PDU"). The
 * hashes, redaction and IDs these build on are in `matrix-serverlib/hashing`.
 *
 * Guides: [Verifying an event received over federation](../../docs/verifying-events.md); with keys fetched by a keyring,
 * [Find and trust a server's keys](../../docs/server-keys.md) (step 3).
 *
 * @example
 * ```ts
 * import { checkIncomingPdu, parsePdu } from 'matrix-serverlib/events';
 * import { getRoomVersion } from 'matrix-serverlib/roomversions';
 * const received = parsePdu(body, getRoomVersion('10')); // throws InvalidInputError if not JSON
 * const check = checkIncomingPdu(received, keys); // keys: a lookup of the keys you hold
 * if (check.result !== 'invalid') console.log(check.eventId, check.event);
 * ```
 *
 * @module events
 */

export { InvalidInputError, MatrixServerlibError } from '../errors.js';
export {
  assertEventNesting,
  assertEventSchema,
  checkEventSchema,
  type EventReference,
  type FormatCheck,
  MAX_EVENT_DEPTH,
  type Pdu,
} from '../hashing/schema.js';
export { type BuildOptions, type BuiltEvent, buildEvent } from './builder.js';
export {
  checkPduFormat,
  type FormatOptions,
  MAX_AUTH_EVENTS,
  MAX_IDENTIFIER_LENGTH,
  MAX_PDU_BYTES,
  MAX_PREV_EVENTS,
} from './format.js';
export { checkIncomingPdu, type IncomingCheck } from './incoming.js';
export { type PduParseOptions, parsePdu, ReceivedPdu } from './received.js';
export {
  type AsyncEventKeyLookup,
  checkEventSignatures,
  type EventCheck,
  type EventKeyLookup,
  type EventVerifyKey,
  signEvent,
  verifyEvent,
} from './signatures.js';
export { type RequiredSignature, requiredSignatures } from './signers.js';
export {
  checkMembershipTemplate,
  type MembershipRequest,
  type SignedTemplate,
  signMembershipTemplate,
  type TemplateCheck,
} from './templates.js';
export { type PduKeySource, type VerifyIncomingPduOptions, verifyIncomingPdu } from './verify.js';
