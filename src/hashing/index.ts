/**
 * Events: redaction, content and reference hashes, event IDs, v12 room IDs,
 * signing events and checking their signatures and hashes, for room versions
 * 1–12.
 *
 * @example
 * ```ts
 * import { checkEventSignatures, eventId } from 'matrix-serverlib/hashing';
 * import { getRoomVersion } from 'matrix-serverlib/roomversions';
 * const rules = getRoomVersion('10');
 * const check = checkEventSignatures(pdu, rules, (server, keyId) => keyring.get(server, keyId));
 * if (check.result === 'valid') console.log(eventId(pdu, rules));
 * ```
 *
 * @module hashing
 */

export { InvalidInputError } from '../errors.js';
export { type BuildOptions, type BuiltEvent, buildEvent } from './builder.js';
export { PduEncoding } from './encoding.js';
export {
  assertEventNesting,
  assertEventSchema,
  checkEventSchema,
  checkPduFormat,
  type FormatCheck,
  type FormatOptions,
  MAX_AUTH_EVENTS,
  MAX_EVENT_DEPTH,
  MAX_IDENTIFIER_LENGTH,
  MAX_PDU_BYTES,
  MAX_PREV_EVENTS,
} from './format.js';
export { contentHash, referenceHash } from './hashes.js';
export { eventId, eventIdOf, roomIdOfCreateEvent } from './ids.js';
export { checkIncomingPdu, type IncomingCheck } from './incoming.js';
export { redactEvent } from './redact.js';
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
