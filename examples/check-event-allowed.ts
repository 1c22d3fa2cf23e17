/**
 * The guide "Checking whether an event is allowed" (docs/checking-events-are-allowed.md),
 * as code the test suite runs: the auth steps of receiving a PDU, after its
 * format, signatures and hashes have been checked.
 */

import { checkEventAuth, checkSoftFail, type StateLookup } from 'matrix-serverlib/auth';
import type { Pdu } from 'matrix-serverlib/events';
import type { RoomVersionRules } from 'matrix-serverlib/roomversions';

/** What to do with the event. */
export type Verdict =
  | { outcome: 'accepted' }
  | { outcome: 'rejected'; why: string }
  | { outcome: 'soft-failed'; why: string };

/**
 * Decides an event's fate from its own auth events and the room's current
 * state.
 *
 * @param event - the PDU, already checked for format, signatures and hashes
 *   (the `event` of `checkIncomingPdu`'s answer, or `checkPduFormat`'s `pdu`).
 * @param authEvents - the events it cites in `auth_events` by event ID (in
 *   room version 12 also the room's create event), with those that were
 *   themselves rejected listed in `rejected`.
 * @param currentState - the room's current state.
 * @param rules - the room version's rules.
 */
export function authorise(
  event: Pdu,
  authEvents: ReadonlyMap<string, Pdu>,
  rejected: ReadonlySet<string>,
  currentState: StateLookup,
  rules: RoomVersionRules,
): Verdict {
  // Step 1: the event against the auth events it cites. A failure here
  // rejects the event: store it as rejected, never use it as state.
  const own = checkEventAuth(event, authEvents, rules, { rejected });
  if (!own.allowed) return { outcome: 'rejected', why: `${own.rule} (room version ${own.roomVersion}): ${own.reason}` };

  // Step 2: the event against the room as it is now. A failure soft-fails
  // it: keep it in the DAG, but do not send it to clients or build on it.
  const now = checkSoftFail(event, currentState, rules);
  if (!now.allowed) return { outcome: 'soft-failed', why: `${now.rule}: ${now.reason}` };
  return { outcome: 'accepted' };
}
