/**
 * Event IDs (spec: room versions 1, 3 and 4, "Event IDs") and v12 room IDs
 * (MSC4291, room version 12 "Room IDs").
 *
 * @module
 */

import type { JsonObject } from '../canonicaljson/value.js';
import { InvalidInputError } from '../errors.js';
import type { RoomVersionRules } from '../roomversions/rules.js';
import { encodeBase64, encodeBase64Url } from '../signing/base64.js';
import { referenceHash } from './hashes.js';
import { assertEventSchema } from './schema.js';

/**
 * The ID of an event.
 *
 * - v1–v2: the `event_id` the event carries (chosen by its sender).
 * - v3: `$` + standard unpadded Base64 of the reference hash.
 * - v4 and later: `$` + URL-safe unpadded Base64 of the reference hash.
 *
 * @param event - the event.
 * @param rules - the room version's rules.
 * @throws {@link InvalidInputError} `M_BAD_JSON` if the event lacks the keys
 *   and types every event of the version has (a v1–v2 event its string
 *   `event_id`), or cannot be encoded as Canonical JSON.
 */
export function eventId(event: JsonObject, rules: RoomVersionRules): string {
  switch (rules.eventFormat.eventIdFormat) {
    case 'opaque':
      assertEventSchema(event, rules);
      // The schema requires a string event_id in these versions.
      return event.event_id as string;
    case 'base64':
      return `$${encodeBase64(referenceHash(event, rules))}`;
    case 'url-safe-base64':
      return `$${encodeBase64Url(referenceHash(event, rules))}`;
  }
}

/**
 * The room ID of the room a create event creates.
 *
 * From v12 (MSC4291) it is `!` + URL-safe unpadded Base64 of the create
 * event's reference hash, so that nobody can create a second room with the
 * same ID; before, it is the `room_id` the create event carries.
 *
 * @param createEvent - the `m.room.create` event.
 * @param rules - the room version's rules.
 * @throws {@link InvalidInputError} `M_BAD_JSON` if the event is not a
 *   create event (its `type` is not `m.room.create` or it has a non-empty
 *   `state_key`), if a v12 create event has a `room_id`, or if an earlier
 *   version's create event has none.
 */
export function roomIdOfCreateEvent(createEvent: JsonObject, rules: RoomVersionRules): string {
  if (createEvent.type !== 'm.room.create' || createEvent.state_key !== '') {
    throw new InvalidInputError('M_BAD_JSON', 'Not a create event: type must be m.room.create with state_key ""');
  }
  if (rules.eventFormat.roomIdIsCreateEventHash) {
    if (createEvent.room_id !== undefined) {
      throw new InvalidInputError('M_BAD_JSON', `Create events of room version ${rules.id} must not have a room_id`);
    }
    return `!${encodeBase64Url(referenceHash(createEvent, rules))}`;
  }
  if (typeof createEvent.room_id !== 'string') {
    throw new InvalidInputError('M_BAD_JSON', `Create events of room version ${rules.id} must carry a string room_id`);
  }
  return createEvent.room_id;
}
