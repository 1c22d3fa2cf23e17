/**
 * The event ID of a room's create event, computed once per event object:
 * the rules need it for every join and every v12 event, and from v3 it is a
 * hash of the whole event.
 *
 * @module
 */

import type { JsonObject } from '../canonicaljson/value.js';
import { eventId } from '../hashing/ids.js';
import type { Pdu } from '../hashing/schema.js';
import type { RoomVersionRules } from '../roomversions/rules.js';

/**
 * An event without `unsigned`: no auth rule and no event ID reads it, and a
 * received event's is rebuilt, so its shape does not matter here.
 */
export function withoutUnsigned(event: JsonObject): JsonObject {
  const { unsigned: _, ...rest } = event;
  return rest;
}

const ids = new WeakMap<JsonObject, Map<string, string>>();

/**
 * The event ID of `create` under `rules`, cached while the object lives.
 * Events are treated as immutable once checked, as everywhere in this
 * library.
 *
 * @throws {@link InvalidInputError} `M_BAD_JSON` if it is not an event of
 *   the room version.
 */
export function eventIdOfCreate(create: Pdu, rules: RoomVersionRules): string {
  let byVersion = ids.get(create);
  if (byVersion === undefined) {
    byVersion = new Map();
    ids.set(create, byVersion);
  }
  let id = byVersion.get(rules.id);
  if (id === undefined) {
    id = eventId(withoutUnsigned(create), rules);
    byVersion.set(rules.id, id);
  }
  return id;
}
