/**
 * The conformance operations (PROTOCOL.md): each takes a request object
 * and returns the result fields, or throws {@link InvalidInputError}.
 *
 * @module
 */

import { type AuthResult, authTypesForEvent, checkEventAuth, checkSoftFail } from 'matrix-serverlib/auth';
import { encodeCanonicalJson, InvalidInputError, type JsonObject, parseJson } from 'matrix-serverlib/canonicaljson';
import { assertEventSchema, checkEventSignatures, checkPduFormat, type Pdu, signEvent } from 'matrix-serverlib/events';
import { contentHash, eventId, redactEvent, referenceHash, roomIdOfCreateEvent } from 'matrix-serverlib/hashing';
import type { RoomVersionRules } from 'matrix-serverlib/roomversions';
import {
  encodeBase64,
  PUBLIC_KEY_LENGTH,
  SEED_LENGTH,
  SigningKey,
  signJson,
  verifyJson,
  verifyKeyFromBytes,
} from 'matrix-serverlib/signing';
import { keyOperations } from './keyops.js';
import {
  bytesField,
  eventField,
  eventListField,
  keysField,
  objectField,
  type Request,
  roomVersionField,
  stateField,
  stringField,
  stringListField,
} from './request.js';
import { resolveStateOp } from './stateresops.js';
import { visibilityOperations } from './visibilityops.js';
import { xMatrixOperations } from './xmatrixops.js';

/** An operation: request in, result fields out. */
export type Operation = (req: Request) => JsonObject;

// Signed JSON is room-version agnostic in the spec and in Synapse's
// signedjson, which encodes whatever numbers the object holds: so do we.
const SIGNED_JSON = { numbers: 'legacy' } as const;

/** An op over one event field, held to its room version's JSON rules. */
function eventOp(field: string, op: (event: JsonObject, rules: RoomVersionRules) => JsonObject): Operation {
  return (req) => {
    const rules = roomVersionField(req);
    return op(eventField(req, field, rules), rules);
  };
}

/**
 * The event without `unsigned`, held to its room version's event format:
 * no auth rule reads `unsigned` (nor does an event ID), and a received
 * event's is rebuilt.
 */
function authPdu(event: JsonObject, rules: RoomVersionRules): Pdu {
  const { unsigned: _, ...withoutUnsigned } = event;
  assertEventSchema(withoutUnsigned, rules);
  return withoutUnsigned;
}

/** How the auth ops answer an {@link AuthResult}: the rule leads the reason. */
function authAnswer(result: AuthResult): JsonObject {
  return result.allowed
    ? { allowed: true, reason: '' }
    : { allowed: false, reason: `${result.rule}: ${result.reason}` };
}

/** The operations by name. */
export const operations: ReadonlyMap<string, Operation> = new Map<string, Operation>([
  ...visibilityOperations,
  ...xMatrixOperations,
  ...keyOperations,
  [
    'canonical_json',
    (req) => {
      const numbers = roomVersionField(req, '12').json.numbers;
      const value = parseJson(stringField(req, 'json'), { numbers });
      return { canonical: encodeCanonicalJson(value, { numbers }) };
    },
  ],
  [
    'public_key',
    (req) => ({ public_key: encodeBase64(new SigningKey(bytesField(req, 'seed', SEED_LENGTH)).publicKey) }),
  ],
  [
    'sign_json',
    (req) => {
      const key = new SigningKey(bytesField(req, 'seed', SEED_LENGTH));
      const signed = signJson(
        objectField(req, 'object'),
        stringField(req, 'server_name'),
        stringField(req, 'key_id'),
        key,
        SIGNED_JSON,
      );
      return { signed };
    },
  ],
  [
    'verify_json',
    (req) => {
      const key = verifyKeyFromBytes(bytesField(req, 'public_key', PUBLIC_KEY_LENGTH));
      const check = verifyJson(
        objectField(req, 'object'),
        stringField(req, 'server_name'),
        stringField(req, 'key_id'),
        key,
        SIGNED_JSON,
      );
      return check.valid ? { valid: true } : { valid: false, reason: check.reason };
    },
  ],
  [
    'auth_types',
    eventOp('event', (event, rules) => {
      assertEventSchema(event, rules);
      return { types: authTypesForEvent(event, rules).map(([type, key]) => [type, key]) };
    }),
  ],
  [
    'check_auth',
    (req) => {
      const rules = roomVersionField(req);
      const event = authPdu(eventField(req, 'event', rules), rules);
      const authEvents = eventListField(req, 'auth_events', rules).map((e) => authPdu(e, rules));
      const rejected = new Set(stringListField(req, 'rejected_auth_events'));
      return authAnswer(checkEventAuth(event, authEvents, rules, { rejected }));
    },
  ],
  [
    // An extension of PROTOCOL.md: the soft-fail check of an event
    // against the room's current state.
    'soft_fail',
    (req) => {
      const rules = roomVersionField(req);
      const event = authPdu(eventField(req, 'event', rules), rules);
      return authAnswer(checkSoftFail(event, stateField(req, 'current_state', rules, authPdu), rules));
    },
  ],
  ['resolve_state', (req) => resolveStateOp(req, authPdu)],
  ['redact', eventOp('event', (event, rules) => ({ redacted: redactEvent(event, rules) }))],
  ['content_hash', eventOp('event', (event, rules) => ({ hash: encodeBase64(contentHash(event, rules)) }))],
  ['reference_hash', eventOp('event', (event, rules) => ({ hash: encodeBase64(referenceHash(event, rules)) }))],
  ['event_id', eventOp('event', (event, rules) => ({ event_id: eventId(event, rules) }))],
  ['room_id', eventOp('create_event', (event, rules) => ({ room_id: roomIdOfCreateEvent(event, rules) }))],
  [
    'sign_event',
    (req) => {
      const rules = roomVersionField(req);
      const key = new SigningKey(bytesField(req, 'seed', SEED_LENGTH));
      const event = eventField(req, 'event', rules);
      return { event: signEvent(event, rules, stringField(req, 'server_name'), stringField(req, 'key_id'), key) };
    },
  ],
  [
    'check_pdu_format',
    (req) => {
      const event = objectField(req, 'event');
      const rules = roomVersionField(req);
      const check = checkPduFormat(event, rules);
      return check.valid ? { valid: true, reason: '' } : { valid: false, reason: check.reason };
    },
  ],
  [
    'verify_event',
    (req) => {
      const rules = roomVersionField(req);
      // `keys` must be an object before anything else is read, as in the oracle.
      objectField(req, 'keys');
      let event: JsonObject;
      try {
        event = eventField(req, 'event', rules);
      } catch (e) {
        // An event the version's JSON rules refuse is never genuine.
        if (e instanceof InvalidInputError && e.errcode === 'M_BAD_JSON')
          return { result: 'invalid', reason: e.message };
        throw e;
      }
      const lookup = keysField(req);
      const check = checkEventSignatures(event, rules, lookup);
      return check.result === 'valid'
        ? { result: 'valid', reason: '' }
        : { result: check.result, reason: check.reason };
    },
  ],
]);
