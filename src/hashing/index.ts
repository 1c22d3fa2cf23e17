/**
 * Hashing: redaction, content and reference hashes, event IDs and v12 room
 * IDs, for room versions 1–12 (spec: server-server API, "Calculating the
 * content hash for an event", "Calculating the reference hash for an
 * event"; room versions, "Event IDs", "Redactions"). Checking and signing
 * whole events is in `matrix-serverlib/events`.
 *
 * Guide: [Verifying an event received over federation](../../docs/verifying-events.md).
 *
 * @example
 * ```ts
 * import { contentHash, eventId, redactEvent } from 'matrix-serverlib/hashing';
 * import { getRoomVersion } from 'matrix-serverlib/roomversions';
 * const rules = getRoomVersion('10');
 * eventId(pdu, rules); // '$…', URL-safe Base64 of the reference hash
 * contentHash(pdu, rules); // the 32 bytes `hashes.sha256` holds in Base64
 * redactEvent(pdu, rules); // what survives a redaction
 * ```
 *
 * @module hashing
 */

export { InvalidInputError, MatrixServerlibError } from '../errors.js';
export { contentHash, referenceHash } from './hashes.js';
export { eventId, roomIdOfCreateEvent } from './ids.js';
export { redactEvent } from './redact.js';
