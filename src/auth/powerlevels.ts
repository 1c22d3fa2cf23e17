/**
 * Power levels (spec: client-server API, `m.room.power_levels`; room
 * versions' auth rules): a user's level, the level an action or event type
 * needs, and the room's creators, who from v12 outrank every level.
 *
 * Levels are read as Synapse reads them, so that rooms with malformed power
 * levels are judged the same way: before v10 a level may be a string that
 * Python's `int()` accepts (`" +0100 "`), or a float (truncated); a level
 * that cannot be read makes the check that needs it fail (an
 * `InvalidInputError`, `M_BAD_JSON`).
 *
 * @module
 */

import { isJsonObject, type JsonObject, type JsonValue } from '../canonicaljson/value.js';
import type { Pdu } from '../hashing/schema.js';
import type { RoomVersionRules } from '../roomversions/rules.js';
import { own, PythonError, pyGet, pyIn, pyInt, pySet, readingContent } from './pyvalue.js';
import type { StateLookup } from './state.js';

/**
 * A power level: an integer of any size, as Python's `int()` gives it (so
 * Synapse reads levels): a `number` when it is a safe integer, a `bigint`
 * otherwise, so that equal levels are `===` and the relational operators
 * compare any two exactly.
 */
export type PowerLevel = number | bigint;

/**
 * The level of a room creator from v12 (MSC4289: creators have infinite
 * power). Synapse uses 2^53, above every level an event can hold (Canonical
 * JSON integers stop at 2^53 - 1), and so do we, so that a creator compares
 * equal to itself.
 */
export const CREATOR_POWER_LEVEL: PowerLevel = 2n ** 53n;

/** The defaults of the power levels content's single levels. */
export interface DefaultLevels {
  /** Needed to ban (and unban): 50. */
  readonly ban: number;
  /** Needed to kick: 50. */
  readonly kick: number;
  /** Needed to redact others' events: 50. */
  readonly redact: number;
  /** Needed to invite: 0. */
  readonly invite: number;
  /** Needed for state events not in `events`: 50. */
  readonly state_default: number;
  /** Needed for other events not in `events`: 0. */
  readonly events_default: number;
  /** The level of users not in `users`: 0. */
  readonly users_default: number;
}

/** The defaults the spec gives for levels absent from the power levels event. */
export const DEFAULT_LEVELS: DefaultLevels = Object.freeze({
  ban: 50,
  kick: 50,
  redact: 50,
  invite: 0,
  state_default: 50,
  events_default: 0,
  users_default: 0,
});

/**
 * The level of the room's creator while the room has no power levels event
 * (spec: "Room Versions", auth rules: "If there is no m.room.power_levels
 * event in the room, the room creator has power level 100").
 */
export const CREATOR_LEVEL_WITHOUT_POWER_LEVELS = 100;

/** A named level of the power levels content: an action or a default. */
export type NamedLevel = 'ban' | 'kick' | 'redact' | 'invite';

function contentOf(event: JsonObject | undefined): JsonObject | undefined {
  return event !== undefined && isJsonObject(event.content) ? event.content : undefined;
}

/**
 * Whether `userId` is a creator of the room: the create event's sender, and
 * from v12 (`privilegedCreators`) anyone in its `additional_creators`.
 *
 * @param create - the room's `m.room.create` event.
 * @param userId - the user.
 * @param rules - the room version's rules.
 * @throws {@link InvalidInputError} `M_BAD_JSON` if `additional_creators` cannot be read as a
 *   set (not a list, or holding lists or objects).
 */
export function isCreator(create: Pdu, userId: string, rules: RoomVersionRules): boolean {
  return readingContent(() => creatorIs(create, userId, rules));
}

function creatorIs(create: Pdu, userId: string, rules: RoomVersionRules): boolean {
  if (create.sender === userId) return true;
  if (!rules.auth.privilegedCreators) return false;
  const additional = pyGet(contentOf(create) ?? {}, 'additional_creators', []);
  return pyIn(userId, pySet(additional));
}

/**
 * The user the room version treats as the creator when there are no power
 * levels: the create event's `creator` (v1–v10) or its sender (v11 on).
 *
 * @throws {@link InvalidInputError} `M_BAD_JSON` if a v1–v10 create event has no `creator`.
 */
export function roomCreator(create: Pdu, rules: RoomVersionRules): JsonValue | undefined {
  return readingContent(() => creatorOf(create, rules));
}

function creatorOf(create: Pdu, rules: RoomVersionRules): JsonValue | undefined {
  if (rules.auth.implicitRoomCreator) return create.sender;
  const content = contentOf(create) ?? {};
  if (!Object.hasOwn(content, 'creator')) throw new PythonError("KeyError: 'creator'");
  return content.creator;
}

/**
 * A user's power level given the room state (at least the create event and
 * the power levels event, if there is one):
 * - from v12, a creator's level is {@link CREATOR_POWER_LEVEL};
 * - with a power levels event, the user's entry in `users`, else
 *   `users_default`, else 0;
 * - without one, 100 for the creator and 0 for everyone else.
 *
 * @param state - the state (or auth events) to read.
 * @param userId - the user.
 * @param rules - the room version's rules.
 * @throws {@link InvalidInputError} `M_BAD_JSON` if the state has no create event, or the
 *   level cannot be read as Python's `int()` reads it.
 */
export function userPowerLevel(state: StateLookup, userId: string, rules: RoomVersionRules): PowerLevel {
  return readingContent(() => levelOfUser(state, userId, rules));
}

function levelOfUser(state: StateLookup, userId: string, rules: RoomVersionRules): PowerLevel {
  const create = state.get('m.room.create', '');
  if (create === undefined) throw new PythonError('A create event is needed to work out power levels');
  if (rules.auth.privilegedCreators && creatorIs(create, userId, rules)) return CREATOR_POWER_LEVEL;
  const levels = contentOf(state.get('m.room.power_levels', ''));
  if (levels === undefined) {
    return creatorOf(create, rules) === userId ? CREATOR_LEVEL_WITHOUT_POWER_LEVELS : DEFAULT_LEVELS.users_default;
  }
  let level = pyGet(pyGet(levels, 'users', {}), userId, undefined);
  if (level === undefined || level === null) level = own(levels, 'users_default');
  return level === undefined || level === null ? DEFAULT_LEVELS.users_default : pyInt(level);
}

/**
 * The level an action needs (`ban`, `kick`, `redact`, `invite`): the power
 * levels event's value, or the spec's default when it has none (or holds
 * `null`).
 *
 * @throws {@link InvalidInputError} `M_BAD_JSON` if the value cannot be read as an integer.
 */
export function namedPowerLevel(state: StateLookup, name: NamedLevel): PowerLevel {
  return readingContent(() => namedLevel(state, name));
}

function namedLevel(state: StateLookup, name: NamedLevel): PowerLevel {
  const levels = contentOf(state.get('m.room.power_levels', ''));
  const level = levels === undefined ? undefined : own(levels, name);
  return level === undefined || level === null ? DEFAULT_LEVELS[name] : pyInt(level);
}

/**
 * The level needed to send an event of `type`: its entry in `events`, else
 * `state_default` (50) for state events and `events_default` (0) for
 * others; with no power levels event, those defaults, as Synapse's
 * `get_send_level` has it (the client-server spec says 0 for state events
 * when there is no power levels event; the rooms Synapse judges follow 50).
 *
 * @param state - the state to read.
 * @param type - the event type.
 * @param isState - whether the event has a state key.
 * @throws {@link InvalidInputError} `M_BAD_JSON` if `events` is not an object or the level
 *   cannot be read (an explicit `null` default included, as in Synapse).
 */
export function sendPowerLevel(state: StateLookup, type: string, isState: boolean): PowerLevel {
  return readingContent(() => sendLevel(state, type, isState));
}

function sendLevel(state: StateLookup, type: string, isState: boolean): PowerLevel {
  const levels = contentOf(state.get('m.room.power_levels', '')) ?? {};
  let level = pyGet(pyGet(levels, 'events', {}), type, undefined);
  if (level === undefined || level === null) {
    level = isState
      ? pyGet(levels, 'state_default', DEFAULT_LEVELS.state_default)
      : pyGet(levels, 'events_default', DEFAULT_LEVELS.events_default);
  }
  return pyInt(level);
}
