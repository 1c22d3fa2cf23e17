/**
 * The whole auth check of an event against its own auth events, and the
 * soft-fail check against the room's current state (spec: server-server
 * API, "Checks performed on receipt of a PDU", steps 4–6 and "Soft
 * failure").
 *
 * @module
 */

import type { JsonValue } from '../canonicaljson/value.js';
import { InvalidInputError } from '../errors.js';
import { eventId } from '../hashing/ids.js';
import type { Pdu } from '../hashing/schema.js';
import { createEventIdOfRoom, roomIdOfCreateEventId } from '../identifiers/identifiers.js';
import type { RoomVersionRules } from '../roomversions/rules.js';
import { checkCreate } from './create.js';
import { eventIdOfCreate, withoutUnsigned } from './createid.js';
import { show } from './pyvalue.js';
import { ALLOWED, type AuthResult, reject } from './result.js';
import { checkAuthRules, judge } from './rules.js';
import { authTypesForEvent } from './selection.js';
import { type StateLookup, StateMap } from './state.js';

/** Options for {@link checkEventAuth}. */
export interface EventAuthOptions {
  /**
   * IDs of supplied auth events that were themselves rejected: an event
   * that cites one is rejected.
   */
  readonly rejected?: ReadonlySet<string>;
}

/** The event IDs an event cites in `auth_events` (v1–v2: `[id, hashes]` pairs). */
function citedAuthEvents(event: Pdu): string[] {
  return event.auth_events.map((ref) => (typeof ref === 'string' ? ref : ref[0]));
}

/** The room an auth event belongs to: from v12 the create event's is its own hash. */
function roomOf(authEvent: Pdu, rules: RoomVersionRules): JsonValue | undefined {
  if (rules.eventFormat.roomIdIsCreateEventHash && authEvent.type === 'm.room.create' && authEvent.state_key === '') {
    return roomIdOfCreateEventId(eventIdOfCreate(authEvent, rules));
  }
  return authEvent.room_id;
}

/**
 * Indexes events by event ID, computed from each event (from v3 its
 * reference hash); a `Map` is taken as it is, its keys trusted as the IDs.
 * State resolution's in-memory loader indexes its events so too.
 */
export function byId(
  authEvents: Iterable<Pdu> | ReadonlyMap<string, Pdu>,
  rules: RoomVersionRules,
): ReadonlyMap<string, Pdu> {
  if (authEvents instanceof Map) return authEvents as ReadonlyMap<string, Pdu>;
  const index = new Map<string, Pdu>();
  for (const e of authEvents as Iterable<Pdu>) {
    index.set(e.type === 'm.room.create' ? eventIdOfCreate(e, rules) : eventId(withoutUnsigned(e), rules), e);
  }
  return index;
}

/**
 * The checks on an event's auth events that need no room state (spec: room
 * versions, "Authorization rules", rule 2 and from v12 rule 3): each cited
 * auth event is in the same room, not rejected, of a type and state key the
 * auth event selection allows, and no two share a type and state key; and
 * there is a create event (from v12, the one the room ID names, which is
 * never cited). Returns the auth events as a state map.
 */
function checkAuthEventList(
  event: Pdu,
  authEvents: readonly (readonly [string, Pdu])[],
  rules: RoomVersionRules,
  rejected: ReadonlySet<string> | undefined,
): StateMap {
  // Pairs as JSON, so that no type and state key can pass for another pair.
  const pair = (type: string, stateKey: string) => JSON.stringify([type, stateKey]);
  const allowed = new Set(authTypesForEvent(event, rules, { nonStringKeys: 'ignore' }).map(([t, k]) => pair(t, k)));
  if (rules.eventFormat.roomIdIsCreateEventHash) allowed.add(pair('m.room.create', ''));
  const state = new StateMap();
  for (const [id, e] of authEvents) {
    if (roomOf(e, rules) !== event.room_id) reject('auth_events', `The auth event ${id} is from another room`);
    const type = e.type;
    const stateKey = e.state_key;
    if (typeof stateKey === 'string' && state.get(type, stateKey) !== undefined) {
      reject('auth_events', `Two auth events for (${type}, ${show(stateKey)})`);
    }
    if (typeof stateKey !== 'string' || !allowed.has(pair(type, stateKey))) {
      reject('auth_events', `The auth event ${id} is a ${type} the event does not need`);
    }
    if (rejected?.has(id)) reject('auth_events', `The auth event ${id} was rejected`);
    state.set(type, stateKey, e);
  }
  if (state.get('m.room.create', '') === undefined)
    reject('auth_events', 'There is no create event among the auth events');
  return state;
}

/**
 * Checks an event against its own auth events: all the auth rules that can
 * be judged from the event and the events it cites, for its room version.
 * A create event is judged by the create rules alone; any other event must
 * cite acceptable auth events (see the checks above), and then pass the
 * rules against them ({@link checkAuthRules}).
 *
 * This is the check that decides whether an event is rejected. Whether it
 * is also soft-failed is {@link checkSoftFail}'s question.
 *
 * @param event - the event, of a valid schema for its room version.
 * @param authEvents - the events it cites (from v12 with the room's create
 *   event, which it does not cite), as a list or by event ID. Extra events
 *   are ignored. The IDs of a list are computed from its events; the keys of
 *   a `Map` are trusted as the events' IDs, so they must be IDs the caller
 *   computed or verified (from v3 the reference hash), never ones a remote
 *   server claimed: otherwise another event could stand in for a cited one.
 *   The v12 create event is checked against the room ID either way.
 * @param rules - the room version's rules.
 * @param options - which auth events were rejected.
 * @returns allowed, or rejected with the rule and why.
 * @throws {@link InvalidInputError} `M_INVALID_PARAM` if a cited auth event
 *   is not supplied (the caller must fetch it first), `M_BAD_JSON` if a
 *   supplied event's ID cannot be computed.
 */
export function checkEventAuth(
  event: Pdu,
  authEvents: Iterable<Pdu> | ReadonlyMap<string, Pdu>,
  rules: RoomVersionRules,
  options: EventAuthOptions = {},
): AuthResult {
  const index = byId(authEvents, rules);
  const ids = citedAuthEvents(event);
  const isCreate = event.type === 'm.room.create';
  if (rules.eventFormat.roomIdIsCreateEventHash && !isCreate) ids.push(createEventIdOfRoom(event.room_id as string));
  const cited = ids.map((id) => {
    const e = index.get(id);
    if (e === undefined) throw new InvalidInputError('M_INVALID_PARAM', `The auth event ${id} was not supplied`);
    return [id, e] as const;
  });
  // Every cited event must be supplied, even by a create event, whose rules
  // do not read them.
  if (isCreate) return judge(rules, () => checkCreate(event, rules));
  let state: StateMap | undefined;
  const first = judge(rules, () => {
    state = checkAuthEventList(event, cited, rules, options.rejected);
  });
  if (!first.allowed || state === undefined) return first;
  return checkAuthRules(event, state, rules);
}

/**
 * The soft-fail check (spec: server-server API, "Soft failure"): whether
 * an event that passed {@link checkEventAuth} is also allowed by the room's
 * current state. An event that is not is stored but not sent to clients or
 * used as a forward extremity. The state events the auth event selection
 * names are taken from `currentState`, and the rules are applied to them.
 *
 * @param event - the event.
 * @param currentState - the room's current state.
 * @param rules - the room version's rules.
 * @returns allowed, or rejected with the rule and why (the event should be
 *   soft-failed). Never throws for an event or content, however malformed:
 *   they are rejected.
 */
export function checkSoftFail(event: Pdu, currentState: StateLookup, rules: RoomVersionRules): AuthResult {
  if (event.type === 'm.room.create') return ALLOWED;
  let state: StateMap | undefined;
  const selected = judge(rules, () => {
    const types = authTypesForEvent(event, rules, { nonStringKeys: 'ignore' });
    state = new StateMap();
    const create = currentState.get('m.room.create', '');
    if (create !== undefined) state.set('m.room.create', '', create);
    for (const [type, stateKey] of types) {
      const e = currentState.get(type, stateKey);
      if (e !== undefined) state.set(type, stateKey, e);
    }
  });
  if (!selected.allowed || state === undefined) return selected;
  return checkAuthRules(event, state, rules);
}
