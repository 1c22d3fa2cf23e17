/**
 * Auth event selection (spec: server-server API, "Auth events selection"):
 * which state events (type and state key) an event's `auth_events` may be.
 *
 * @module
 */

import { compareCodePoints } from '../canonicaljson/keyorder.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../canonicaljson/value.js';
import { InvalidInputError } from '../errors.js';
import type { RoomVersionRules } from '../roomversions/rules.js';

/** A state event's type and state key. */
export type StateKey = readonly [type: string, stateKey: string];

/** Options for {@link authTypesForEvent}. */
export interface SelectionOptions {
  /**
   * What to do with a third-party invite token or an authorising user that
   * is not a string: `refuse` (the default) throws, since no state event can
   * have it as its state key; `ignore` leaves it out, as Synapse does when it
   * checks an event's auth events (it selects a key no event matches, and the
   * membership rules reject the event only if they need that event). A list
   * or object is refused either way (Synapse raises on it).
   */
  readonly nonStringKeys?: 'refuse' | 'ignore';
}

/**
 * The state events an event's auth events may be, sorted by type and state
 * key (code point order):
 * - none for the create event;
 * - the create event (not from v12, where the room ID implies it),
 *   the power levels, and the sender's membership;
 * - for membership events: the target's membership, the join rules (for
 *   joins, invites and knocks), the third-party invite whose token an invite
 *   carries, and from v8 the membership of the user authorising a restricted
 *   join.
 *
 * @param event - the event (its `type`, `sender`, `state_key`, `content`).
 * @param rules - the room version's rules.
 * @param options - how to treat state keys that are not strings.
 * @throws {@link InvalidInputError} `M_BAD_JSON` if a member event has no
 *   membership or no string state key, or a third-party invite has no string
 *   `signed.token`, or the sender or authorising user is not a string.
 */
export function authTypesForEvent(
  event: JsonObject,
  rules: RoomVersionRules,
  options: SelectionOptions = {},
): StateKey[] {
  if (event.type === 'm.room.create') return [];
  const types = new Map<string, StateKey>();
  const add = (type: string, stateKey: string | undefined) => {
    if (stateKey !== undefined) types.set(`${type}\u0000${stateKey}`, [type, stateKey]);
  };
  const ignore = options.nonStringKeys === 'ignore';
  const stringAt = (value: JsonValue | undefined, what: string): string | undefined => {
    if (typeof value === 'string') return value;
    if (ignore && value !== undefined && !Array.isArray(value) && !isJsonObject(value)) return undefined;
    throw new InvalidInputError('M_BAD_JSON', `${what} must be a string`);
  };
  if (!rules.eventFormat.roomIdIsCreateEventHash) add('m.room.create', '');
  add('m.room.power_levels', '');
  add('m.room.member', stringAt(event.sender, 'sender'));
  if (event.type === 'm.room.member') {
    const content = isJsonObject(event.content) ? event.content : {};
    // Synapse needs a membership but compares it without checking its type.
    const membership = content.membership;
    if (membership === undefined) throw new InvalidInputError('M_BAD_JSON', 'content.membership is missing');
    if (membership === 'join' || membership === 'invite' || membership === 'knock') add('m.room.join_rules', '');
    add('m.room.member', stringAt(event.state_key, 'state_key'));
    if (membership === 'invite' && content.third_party_invite !== undefined) {
      const invite = content.third_party_invite;
      const signed = isJsonObject(invite) ? invite.signed : undefined;
      add(
        'm.room.third_party_invite',
        stringAt(isJsonObject(signed) ? signed.token : undefined, 'third_party_invite.signed.token'),
      );
    }
    if (rules.auth.restrictedJoins && membership === 'join' && content.join_authorised_via_users_server !== undefined) {
      add('m.room.member', stringAt(content.join_authorised_via_users_server, 'join_authorised_via_users_server'));
    }
  }
  return [...types.values()].sort((a, b) => compareCodePoints(a[0], b[0]) || compareCodePoints(a[1], b[1]));
}
