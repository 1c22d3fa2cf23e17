/**
 * The auth rules for `m.room.power_levels` (room versions, "Authorization
 * rules", "If type is m.room.power_levels"): what the new content may hold,
 * and which changes to the current levels the sender may make.
 *
 * @module
 */

import { isJsonObject, type JsonValue } from '../canonicaljson/value.js';
import type { Pdu } from '../hashing/schema.js';
import { serverNameOf } from '../identifiers/identifiers.js';
import type { RoomVersionRules } from '../roomversions/rules.js';
import { type PowerLevel, userPowerLevel } from './powerlevels.js';
import {
  PythonError,
  pyContains,
  pyGet,
  pyGetItem,
  pyInt,
  pyList,
  pyMembership,
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
function checkContent(event: Pdu, state: StateLookup, rules: RoomVersionRules): void {
  const content = event.content;
  const users = pyGet(content, 'users', {});
  if (!isJsonObject(users)) throw new PythonError(`'${pyTypeName(users)}' object has no attribute 'items'`);
  for (const [userId, level] of Object.entries(users)) {
    if (!userId.startsWith('@') || serverNameOf(userId) === undefined) {
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
    // Synapse intersects set(additional_creators) with set(users): a hashed
    // lookup per creator, as users' own keys give it.
    if (pyTruthy(additional)) {
      if (pySet(additional).some((c) => pyContains(users, c))) {
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

/**
 * The levels of one generation of the content (the content itself, or one
 * of its maps): a key's level, or `undefined` if it has none, read as
 * Synapse reads it (`int(loc[key]) if key in loc else None`).
 */
function levelsIn(container: JsonValue | undefined): (key: JsonValue) => PowerLevel | undefined {
  const has = pyMembership(container);
  return (key) => (has(key) ? pyInt(pyGetItem(container, key)) : undefined);
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
export function checkPowerLevels(event: Pdu, state: StateLookup, rules: RoomVersionRules): void {
  checkContent(event, state, rules);
  // Synapse reads the state key here; a power levels event without one
  // raises.
  if (typeof event.state_key !== 'string') throw new PythonError('A power levels event needs a state key');
  const current = state.get(event.type, event.state_key);
  if (current === undefined) return;
  const sender = event.sender;
  const senderLevel = userPowerLevel(state, sender, rules);
  const oldContent = current.content;
  const newContent = event.content;

  // Every key to check is collected before any is checked, as Synapse
  // collects levels_to_check: a map that cannot be listed raises first.
  const toCheck: [keys: readonly JsonValue[], map: string | undefined][] = [[SCALAR_LEVELS, undefined]];
  const maps = rules.auth.limitNotificationsPowerLevels ? MAP_LEVELS : ['events', 'users'];
  for (const map of maps) {
    // Keys of either generation, as Python's set(list(old) + list(new)).
    toCheck.push([pySet([...pyList(pyGet(oldContent, map, {})), ...pyList(pyGet(newContent, map, {}))]), map]);
  }

  for (const [keys, map] of toCheck) {
    // Each generation's levels are read through one lookup for all the
    // keys, so that lists are indexed once (see pyMembership).
    const oldLevels = levelsIn(map === undefined ? oldContent : pyGet(oldContent, map, {}));
    const newLevels = levelsIn(map === undefined ? newContent : pyGet(newContent, map, {}));
    for (const key of keys) {
      const oldLevel = oldLevels(key);
      const newLevel = newLevels(key);
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
}
