/**
 * The full check of a PDU received over federation, in one call: format,
 * signatures, content hash and event ID, sharing one encoding of the event
 * (spec: server-server API, "Checks performed on receipt of a PDU", steps
 * 1–3; the auth rules come after).
 *
 * @module
 */

import type { ParseOptions } from '../canonicaljson/parse.js';
import type { CanonicalSpans } from '../canonicaljson/spans.js';
import type { JsonObject } from '../canonicaljson/value.js';
import { PduEncoding } from '../hashing/encoding.js';
import { eventIdOf } from '../hashing/ids.js';
import type { RoomVersionRules } from '../roomversions/rules.js';
import { checkFormatFor } from './format.js';
import { checkSignaturesFor, type EventKeyLookup } from './signatures.js';

/** The outcome of {@link checkIncomingPdu}. */
export type IncomingCheck =
  | {
      /** Format, signatures and content hash are good. */
      readonly result: 'valid';
      /** The event ID. */
      readonly eventId: string;
      /** The event to use. */
      readonly event: JsonObject;
    }
  | {
      /** Format and signatures are good, the content hash is not. */
      readonly result: 'redacted';
      /** The event ID (the same as the original's: redaction keeps it). */
      readonly eventId: string;
      /** The redacted event to use instead of the received one. */
      readonly event: JsonObject;
      /** Why. */
      readonly reason: string;
    }
  | {
      /** The event is malformed or not genuine: reject it. */
      readonly result: 'invalid';
      /** Why. */
      readonly reason: string;
    };

/**
 * Checks a received PDU's format, signatures and content hash, and computes
 * its event ID, encoding each part of the event once for all of them.
 *
 * @param event - the event as received (parsed once, with the version's
 *   number rules).
 * @param rules - the room version's rules.
 * @param lookup - finds the public keys of the signing servers.
 * @param options - `receivedTs`, the receive time (see {@link FormatOptions});
 *   `canonicalSpans`, the record made when the event was parsed
 *   ({@link ParseOptions.canonicalSpans}): with it, the parts of an event
 *   received as Canonical JSON are hashed and measured as received, not
 *   encoded again.
 * @returns `valid` or `redacted` with the event to use and its ID, or
 *   `invalid` with the reason. Never throws.
 */
export function checkIncomingPdu(
  event: JsonObject,
  rules: RoomVersionRules,
  lookup: EventKeyLookup,
  options: { readonly receivedTs?: number; readonly canonicalSpans?: CanonicalSpans } = {},
): IncomingCheck {
  const encoding = new PduEncoding(event, rules, options.canonicalSpans);
  const needs = checkFormatFor(event, rules, encoding, options);
  if (typeof needs === 'string') return { result: 'invalid', reason: needs };
  const check = checkSignaturesFor(event, lookup, encoding, needs);
  if (check.result === 'invalid') return check;
  const id = eventIdOf(encoding);
  if (check.result === 'redacted')
    return { result: 'redacted', eventId: id, event: check.redacted, reason: check.reason };
  return { result: 'valid', eventId: id, event };
}
