/**
 * The one-call check of a received PDU with keys fetched on demand: what
 * {@link checkIncomingPdu} does, given a keyring (or any asynchronous
 * lookup) instead of keys already at hand.
 *
 * @module
 */

import { checkPduFormat } from './format.js';
import { checkIncomingPdu, type IncomingCheck } from './incoming.js';
import type { ReceivedPdu } from './received.js';
import { type AsyncEventKeyLookup, lookUpSigningKeys } from './signatures.js';
import { type RequiredSignature, requiredSignatures } from './signers.js';

/**
 * Where {@link verifyIncomingPdu} gets keys: a `Keyring` of
 * matrix-serverlib/keys (its `lookup`), or an asynchronous lookup itself.
 */
export type PduKeySource =
  | AsyncEventKeyLookup
  | {
      /** The keyring's lookup (`Keyring.lookup`). */
      readonly lookup: AsyncEventKeyLookup;
    };

/** Options for {@link verifyIncomingPdu}. */
export interface VerifyIncomingPduOptions {
  /** The time the PDU was received, as for {@link checkIncomingPdu}. */
  readonly receivedTs?: number;
  /**
   * Gives up the key lookup (the transaction was dropped, the server shuts
   * down), rejecting with the signal's reason; passed on to the lookup, so
   * that a keyring stops its fetches unless other lookups wait for them.
   */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Checks a received PDU's format, signatures and content hash, and
 * computes its event ID, fetching the keys it needs: the keys of each
 * server that must have signed it, all at once, valid until the time the
 * room version asks (the event's `origin_server_ts` from room version 5),
 * then {@link checkIncomingPdu} with them.
 *
 * @example
 * ```ts
 * const keyring = new Keyring({ transport: client.keyTransport() });
 * const received = parsePdu(body, getRoomVersion('10')); // the bytes received
 * const check = await verifyIncomingPdu(received, keyring);
 * if (check.result === 'invalid') reject(check.reason);
 * ```
 *
 * @param pdu - the PDU, from `parsePdu`: its room version's rules
 *   apply.
 * @param keys - a keyring, or an asynchronous lookup.
 * @param options - the receive time and the signal.
 * @returns as {@link checkIncomingPdu}; a lookup that fails, or answers
 *   something other than a map of keys, makes the event `invalid` with the
 *   failure as reason. Rejects only with the signal's reason.
 */
export async function verifyIncomingPdu(
  pdu: ReceivedPdu,
  keys: PduKeySource,
  options: VerifyIncomingPduOptions = {},
): Promise<IncomingCheck> {
  const { signal, receivedTs } = options;
  signal?.throwIfAborted();
  const checkOptions = receivedTs === undefined ? {} : { receivedTs };
  let needs: readonly RequiredSignature[] = [];
  try {
    needs = requiredSignatures(pdu.event, pdu.rules);
  } catch {
    // A malformed event: no keys to fetch, and the format check says why.
  }
  const lookup = typeof keys === 'function' ? keys : keys.lookup;
  const found = await lookUpSigningKeys(pdu.event, needs, lookup, signal);
  if (typeof found === 'string') {
    // The format comes first, as in checkIncomingPdu: a malformed event is
    // named for that, not for its keys.
    const format = checkPduFormat(pdu.event, pdu.rules, checkOptions);
    return { result: 'invalid', reason: format.valid ? found : format.reason };
  }
  return checkIncomingPdu(pdu, found, checkOptions);
}
