/**
 * The guide "Checking whether an event is allowed" (docs/checking-events-are-allowed.md),
 * as code the test suite runs: the auth steps of receiving a PDU, after its
 * format, signatures and hashes have been checked. `npm run example --
 * check-event-allowed` shows an event accepted, one rejected and one
 * soft-failed.
 */

import { authTypesForEvent, checkEventAuth, checkSoftFail, type StateLookup, StateMap } from 'matrix-serverlib/auth';
import type { JsonObject } from 'matrix-serverlib/canonicaljson';
import { buildEvent, type Pdu } from 'matrix-serverlib/events';
import { serverNameOf } from 'matrix-serverlib/identifiers';
import { getRoomVersion, type RoomVersionRules } from 'matrix-serverlib/roomversions';
import { SigningKey } from 'matrix-serverlib/signing';

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

/**
 * A room of version 10 built event by event, each citing the auth events
 * the spec's selection picks from the state before it: enough of a room
 * server to show {@link authorise} at work.
 */
export class DemoRoom {
  readonly rules = getRoomVersion('10');
  readonly state = new StateMap();
  /** Every event by ID: where a server finds the auth events an event cites. */
  readonly events = new Map<string, Pdu>();
  readonly #key = SigningKey.generate();
  readonly #ids = new Map<Pdu, string>();
  #prev: string[] = [];

  /** Builds and signs an event on top of the room, without adding it. */
  make(sender: string, type: string, content: JsonObject, stateKey?: string): { id: string; event: Pdu } {
    const proto: JsonObject = {
      type,
      sender,
      content,
      room_id: '!demo:a.example',
      depth: this.events.size + 1,
      prev_events: this.#prev,
      auth_events: [],
      ...(stateKey === undefined ? {} : { state_key: stateKey }),
    };
    proto.auth_events = authTypesForEvent(proto, this.rules).flatMap(([t, k]) => {
      const cited = this.state.get(t, k);
      return cited === undefined ? [] : [this.idOf(cited)];
    });
    const { event, eventId } = buildEvent(proto, this.rules, {
      serverName: serverNameOf(sender) ?? 'a.example',
      keyId: 'ed25519:1',
      key: this.#key,
    });
    return { id: eventId, event };
  }

  /** Makes an event and adds it to the room, and to its state if it is a state event. */
  add(sender: string, type: string, content: JsonObject, stateKey?: string): Pdu {
    const { id, event } = this.make(sender, type, content, stateKey);
    this.events.set(id, event);
    this.#ids.set(event, id);
    if (stateKey !== undefined) this.state.set(type, stateKey, event);
    this.#prev = [id];
    return event;
  }

  /** The auth events an event cites, by ID. */
  cited(event: Pdu): Map<string, Pdu> {
    const ids = event.auth_events as string[];
    return new Map(ids.flatMap((id) => (this.events.has(id) ? [[id, this.events.get(id) as Pdu]] : [])));
  }

  /** The ID of an event of the room. */
  idOf(event: Pdu): string {
    const id = this.#ids.get(event);
    if (id === undefined) throw new Error('not an event of this room');
    return id;
  }
}

/** Shows the three fates of an event. */
export function main(): void {
  const alice = '@alice:a.example';
  const bob = '@bob:b.example';
  const room = new DemoRoom();
  room.add(alice, 'm.room.create', { creator: alice, room_version: '10' }, '');
  room.add(alice, 'm.room.member', { membership: 'join' }, alice);
  room.add(alice, 'm.room.join_rules', { join_rule: 'public' }, '');
  const show = (what: string, event: Pdu) =>
    console.log(`${what}: ${JSON.stringify(authorise(event, room.cited(event), new Set(), room.state, room.rules))}`);

  show("Alice's message", room.make(alice, 'm.room.message', { body: 'hello', msgtype: 'm.text' }).event);
  show("Bob's message before he joins", room.make(bob, 'm.room.message', { body: 'hi', msgtype: 'm.text' }).event);
  room.add(bob, 'm.room.member', { membership: 'join' }, bob);
  const late = room.make(bob, 'm.room.message', { body: 'sent before the ban', msgtype: 'm.text' }).event;
  room.add(alice, 'm.room.member', { membership: 'ban' }, bob);
  show("Bob's message that arrives after his ban", late);
}
