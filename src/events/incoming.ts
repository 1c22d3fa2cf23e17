/**
 * The full check of a PDU received over federation, in one call: format,
 * signatures, content hash and event ID, sharing one encoding of the event
 * (spec: server-server API, "Checks performed on receipt of a PDU", steps
 * 1–3; the auth rules come after).
 *
 * @module
 */

import { freezeTree } from '../canonicaljson/value.js';
import type { Pdu } from '../hashing/schema.js';
import { checkFormatFor, type FormatOptions } from './format.js';
import { checkedEventId, type ReceivedPdu, receivedEncoding } from './received.js';
import { checkSignaturesFor, type EventKeyLookup } from './signatures.js';

/** The outcome of {@link checkIncomingPdu}. */
export type IncomingCheck =
  | {
      /** Format, signatures and content hash are good. */
      readonly result: 'valid';
      /** The event ID. */
      readonly eventId: string;
      /** The event to use: the received one, frozen. */
      readonly event: Pdu;
    }
  | {
      /** Format and signatures are good, the content hash is not. */
      readonly result: 'redacted';
      /** The event ID (the same as the original's: redaction keeps it). */
      readonly eventId: string;
      /** The redacted event to use instead of the received one, frozen. */
      readonly event: Pdu;
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
 * its event ID, encoding each part of the event once for all of them and
 * taking the parts received as Canonical JSON as they arrived.
 *
 * @param pdu - the PDU, from `parsePdu`: its room version's rules apply.
 * @param lookup - finds the public keys of the signing servers.
 * @param options - `receivedTs`, the receive time (see {@link FormatOptions}).
 * @returns `valid` or `redacted` with the event to use and its ID, or
 *   `invalid` with the reason. Never throws.
 */
export function checkIncomingPdu(
  pdu: ReceivedPdu,
  lookup: EventKeyLookup,
  options: { readonly receivedTs?: number } = {},
): IncomingCheck {
  const encoding = receivedEncoding(pdu);
  const format = checkFormatFor(pdu.event, pdu.rules, encoding, options);
  if (typeof format === 'string') return { result: 'invalid', reason: format };
  const check = checkSignaturesFor(format.pdu, lookup, encoding, format.needs);
  if (check.result === 'invalid') return check;
  const id = checkedEventId(pdu);
  if (check.result === 'redacted') {
    // The encoding keeps the redacted event: frozen like the event it was
    // made from (only what redaction made anew needs it), it cannot change
    // under the encoding or the caller.
    const event = freezeTree(check.redacted, pdu.event);
    return { result: 'redacted', eventId: id, event, reason: check.reason };
  }
  return { result: 'valid', eventId: id, event: format.pdu };
}
