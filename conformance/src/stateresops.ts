/**
 * The `resolve_state` conformance operation: state resolution of the
 * request's state sets over the request's events.
 *
 * The request must hold every event the state sets and their auth chains
 * reference, of one room (PROTOCOL.md: `events` holds them): a request
 * that does not is `M_INVALID_PARAM`, checked here before anything is
 * resolved, as the oracle checks it, whatever the algorithm would have
 * loaded.
 *
 * @module
 */

import { InvalidInputError, type JsonObject, type JsonValue } from 'matrix-serverlib/canonicaljson';
import type { Pdu } from 'matrix-serverlib/events';
import { eventId } from 'matrix-serverlib/hashing';
import type { RoomVersionRules } from 'matrix-serverlib/roomversions';
import { resolveStateSync, type StateIds, StateResolutionError } from 'matrix-serverlib/stateres';
import { eventListField, listField, type Request, roomVersionField, stringListField } from './request.js';

/** The IDs an event's auth events are: those it cites, and from v12 the create event its room ID names. */
function authIds(event: Pdu, rules: RoomVersionRules): string[] {
  const ids = event.auth_events.map((ref) => (typeof ref === 'string' ? ref : ref[0]));
  const isCreate = event.type === 'm.room.create' && event.state_key === '';
  if (rules.eventFormat.roomIdIsCreateEventHash && !isCreate) ids.push(`$${(event.room_id as string).slice(1)}`);
  return ids;
}

/** The room of an event: from v12 a create event's is its own ID with `!`. */
function roomOf(id: string, event: Pdu, rules: RoomVersionRules): JsonValue | undefined {
  const isCreate = event.type === 'm.room.create' && event.state_key === '';
  return rules.eventFormat.roomIdIsCreateEventHash && isCreate ? `!${id.slice(1)}` : event.room_id;
}

const invalid = (message: string) => new InvalidInputError('M_INVALID_PARAM', message);

/** The request's state sets: lists of IDs of supplied state events, one a type and state key. */
function stateSets(req: Request, events: ReadonlyMap<string, Pdu>): StateIds[] {
  return listField(req, 'state_sets').map((set, i) => {
    if (!Array.isArray(set) || !set.every((id) => typeof id === 'string')) {
      throw invalid(`Element ${i} of "state_sets" must be a list of event IDs`);
    }
    const state = new Map<string, Map<string, string>>();
    for (const id of set) {
      const event = events.get(id);
      if (event === undefined) throw invalid(`The state event ${id} is not among the events`);
      if (event.state_key === undefined) throw invalid(`The event ${id} is not a state event`);
      const byKey = state.get(event.type) ?? new Map<string, string>();
      if (byKey.has(event.state_key)) throw invalid(`State set ${i} has two events for one type and state key`);
      state.set(event.type, byKey.set(event.state_key, id));
    }
    return state;
  });
}

/** Checks that the events are of one room, and hold the auth chains of the state sets' events. */
function checkEvents(sets: readonly StateIds[], events: ReadonlyMap<string, Pdu>, rules: RoomVersionRules): void {
  const rooms = new Set([...events].map(([id, e]) => roomOf(id, e, rules)));
  if (rooms.size > 1) throw invalid('The events are of more than one room');
  const stack = sets.flatMap((state) => [...state.values()].flatMap((byKey) => [...byKey.values()]));
  const seen = new Set(stack);
  while (stack.length > 0) {
    for (const auth of authIds(events.get(stack.pop() as string) as Pdu, rules)) {
      if (seen.has(auth)) continue;
      if (!events.has(auth)) throw invalid(`The auth event ${auth} is not among the events`);
      seen.add(auth);
      stack.push(auth);
    }
  }
}

/**
 * `resolve_state`: the request's events (each held to the room version's
 * JSON rules and event format by `schema`, by the ID its version computes;
 * the last of two with one ID kept), its state sets and its optional
 * `rejected` IDs, resolved by the room version's algorithm.
 */
export function resolveStateOp(req: Request, schema: (event: JsonObject, rules: RoomVersionRules) => Pdu): JsonObject {
  const rules = roomVersionField(req);
  const events = new Map<string, Pdu>();
  for (const e of eventListField(req, 'events', rules)) {
    const pdu = schema(e, rules);
    events.set(eventId(pdu, rules), pdu);
  }
  const sets = stateSets(req, events);
  const rejected = new Set(stringListField(req, 'rejected'));
  checkEvents(sets, events, rules);
  let state: Map<string, Map<string, string>>;
  try {
    state = resolveStateSync(rules, sets, events, { rejected });
  } catch (e) {
    if (e instanceof StateResolutionError) throw new InvalidInputError(e.errcode, e.message, { cause: e });
    throw e;
  }
  // Object.fromEntries makes own members of every key, "__proto__" too.
  return { state: Object.fromEntries([...state].map(([type, byKey]) => [type, Object.fromEntries(byKey)])) };
}
