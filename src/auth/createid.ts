/**
 * The event ID of a room's create event, computed once per create event
 * that cannot change: the rules need it for every join and every v12
 * event, and from v3 it is a hash of the whole event.
 *
 * @module
 */

import { isFrozenTree, type JsonObject } from '../canonicaljson/value.js';
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
 * The event ID of `create` under `rules`: kept while the object lives if
 * it cannot change (frozen whole, as a received PDU's event is); worked out
 * again for any other (a value may have changed since: its ID is that of
 * what it is now).
 *
 * @throws {@link InvalidInputError} `M_BAD_JSON` if it is not an event of
 *   the room version.
 */
export function eventIdOfCreate(create: Pdu, rules: RoomVersionRules): string {
  if (!isFrozenTree(create)) return eventId(withoutUnsigned(create), rules);
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
