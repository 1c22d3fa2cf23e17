/**
 * The auth rules for `m.room.power_levels` (room versions, "Authorization
 * rules", "If type is m.room.power_levels"): what the new content may hold,
 * and which changes to the current levels the sender may make.
 *
 * @module
 */

import { isJsonObject, type JsonObject, type JsonValue } from '../canonicaljson/value.js';
import type { RoomVersionRules } from '../roomversions/rules.js';
import { type PowerLevel, userPowerLevel } from './powerlevels.js';
import {
  PythonError,
  pyContains,
  pyGet,
  pyGetItem,
  pyIn,
  pyInt,
  pyList,
  pySet,
  pyTruthy,
  pyTypeName,
  show,
} from './pyvalue.js';
import { reject } from './result.js';
import type { StateLookup } from './state.js';

/** The levels that are single integers. */
const SCALAR_LEVELS = ['users_default', 'events_default', 'state_default', 'ban', 'redact', 'kick', 'invite'];
/** The levels that are maps of integers. */
const MAP_LEVELS = ['events', 'notifications', 'users'];

/** Python's `type(v) is int`: a JSON integer, not a bool or float. */
function isInt(v: JsonValue | undefined): boolean {
  return (typeof v === 'number' && Number.isInteger(v)) || typeof v === 'bigint';
}

/**
 * What the new content itself must satisfy: every key of `users` a user ID
 * (`@`, then a `:` somewhere) and every value readable as an integer; from
 * v12 no creator among the `users`; from v10 every level an integer.
 */
function checkContent(event: JsonObject, state: StateLookup, rules: RoomVersionRules): void {
  const content = event.content as JsonObject;
  const users = pyGet(content, 'users', {});
  if (!isJsonObject(users)) throw new PythonError(`'${pyTypeName(users)}' object has no attribute 'items'`);
  for (const [userId, level] of Object.entries(users)) {
    if (!userId.startsWith('@') || !userId.slice(1).includes(':')) {
      reject('power_levels', `${show(userId)} in users is not a user ID`);
    }
    try {
      pyInt(level);
    } catch {
      reject('power_levels', `The level of ${userId} is not an integer`);
    }
  }
  if (rules.auth.privilegedCreators) {
    const create = state.get('m.room.create', '');
    if (create === undefined) reject('power_levels', 'The create event is missing from the auth events');
    if (typeof create.sender === 'string' && Object.hasOwn(users, create.sender)) {
      reject('power_levels', 'The room creator must not appear in users');
    }
    const additional = pyGet(create.content, 'additional_creators', []);
    if (pyTruthy(additional)) {
      const listed = Object.keys(users);
      if (pySet(additional).some((c) => pyIn(c, listed))) {
        reject('power_levels', 'An additional creator must not appear in users');
      }
    }
  }
  if (rules.auth.integerPowerLevels) {
    for (const key of SCALAR_LEVELS) {
      if (Object.hasOwn(content, key) && !isInt(content[key])) {
        reject('power_levels', `${key} must be an integer in room version ${rules.id}`);
      }
    }
    for (const key of MAP_LEVELS) {
      if (!Object.hasOwn(content, key)) continue;
      const map = content[key];
      if (!isJsonObject(map) || !Object.values(map).every(isInt)) {
        reject('power_levels', `${key} must map to integers in room version ${rules.id}`);
      }
    }
  }
}

/** A level of one generation of the content, or `undefined` if it has none. */
function levelIn(container: JsonValue | undefined, key: JsonValue): PowerLevel | undefined {
  return pyContains(container, key) ? pyInt(pyGetItem(container, key)) : undefined;
}

/**
 * Checks a power levels event: its content ({@link checkContent}), then,
 * if the state already has power levels for its state key, every level
 * that changes (the scalar levels, each user, each event type, and from v6
 * each notification level): no level above the sender's own may be added,
 * removed or changed, and no other user whose level equals the sender's may
 * be changed.
 *
 * @throws {@link Rejection} under rule `power_levels`; {@link PythonError}
 *   where content cannot be read.
 */
export function checkPowerLevels(event: JsonObject, state: StateLookup, rules: RoomVersionRules): void {
  checkContent(event, state, rules);
  // Synapse reads the state key here; a power levels event without one
  // raises.
  if (typeof event.state_key !== 'string') throw new PythonError('A power levels event needs a state key');
  const current = state.get(event.type as string, event.state_key);
  if (current === undefined) return;
  const sender = event.sender as string;
  const senderLevel = userPowerLevel(state, sender, rules);
  const oldContent = current.content as JsonObject;
  const newContent = event.content as JsonObject;

  const toCheck: [key: JsonValue, map: string | undefined][] = SCALAR_LEVELS.map((k) => [k, undefined]);
  const maps = rules.auth.limitNotificationsPowerLevels ? MAP_LEVELS : ['events', 'users'];
  for (const map of maps) {
    // Keys of either generation, as Python's set(list(old) + list(new)).
    const keys = pySet([...pyList(pyGet(oldContent, map, {})), ...pyList(pyGet(newContent, map, {}))]);
    for (const key of keys) toCheck.push([key, map]);
  }

  for (const [key, map] of toCheck) {
    const oldLevels = map === undefined ? oldContent : pyGet(oldContent, map, {});
    const newLevels = map === undefined ? newContent : pyGet(newContent, map, {});
    const oldLevel = levelIn(oldLevels, key);
    const newLevel = levelIn(newLevels, key);
    if (oldLevel !== undefined && newLevel !== undefined && oldLevel === newLevel) continue;
    const name = map === undefined ? String(key) : `${map}[${show(key)}]`;
    if (map === 'users' && key !== sender && oldLevel === senderLevel) {
      reject('power_levels', `${sender} may not change ${name}, equal to their own level`);
    }
    if ((oldLevel !== undefined && oldLevel > senderLevel) || (newLevel !== undefined && newLevel > senderLevel)) {
      reject('power_levels', `${sender} may not change ${name}: above their own level`);
    }
  }
}
