/**
 * The check of a received PDU written with the plain definitions only (the
 * public functions that take an event as a value): the reference the
 * received-PDU path (`parsePdu`, `checkIncomingPdu`) must agree with.
 */
import { encodeCanonicalJson, type JsonObject, type JsonValue } from '../../src/canonicaljson/index.js';
import {
  checkEventSignatures,
  checkPduFormat,
  type EventKeyLookup,
  type IncomingCheck,
} from '../../src/events/index.js';
import { eventId } from '../../src/hashing/index.js';
import type { RoomVersionRules } from '../../src/roomversions/index.js';

/**
 * Format, then signatures and content hash, then the event ID, each from
 * its definition. `unsigned` counts only for the format check, which cuts it
 * down as Synapse does: the hashes, signatures and ID never cover it.
 */
export function plainIncomingCheck(
  event: JsonObject,
  rules: RoomVersionRules,
  lookup: EventKeyLookup,
  options: { readonly receivedTs?: number } = {},
): IncomingCheck {
  const format = checkPduFormat(event, rules, options);
  if (!format.valid) return { result: 'invalid', reason: format.reason };
  const { unsigned: _, ...signed } = event;
  const check = checkEventSignatures(signed, rules, lookup);
  if (check.result === 'invalid') return check;
  const id = eventId(signed, rules);
  if (check.result === 'redacted')
    return { result: 'redacted', eventId: id, event: check.redacted, reason: check.reason };
  return { result: 'valid', eventId: id, event: format.pdu };
}

/**
 * What two checks of the same PDU must agree on: the result, and the ID
 * and the event to use (not the reasons, prose that may name another of
 * several problems).
 */
export function outcome(check: IncomingCheck): JsonValue {
  if (check.result === 'invalid') return { result: check.result };
  return {
    result: check.result,
    eventId: check.eventId,
    event: encodeCanonicalJson(check.event, { numbers: 'legacy' }),
  };
}
