/**
 * History visibility (spec: client-server API, "Room History Visibility"):
 * whether an event may be shown to a user, or sent to another server.
 *
 * Both checks read the room state *before* the event (the state "at" an
 * event in the federation API) and derive from it what Synapse, the
 * reference, reads: the state *after* the event (the state before, plus the
 * event itself if it is a state event), and for a state event the content of
 * the event it replaces (the one at the same type and state key in the
 * state before). `unsigned.prev_content` on the event is never read.
 *
 * No room version changes these rules: the room version only says what an
 * event looks like.
 *
 * @module
 */

import { isJsonObject, type JsonObject, type JsonValue } from '../canonicaljson/value.js';
import { InvalidInputError } from '../errors.js';
import type { Pdu } from '../hashing/schema.js';
import { assertEventSchema } from '../hashing/schema.js';
import { serverNameOf } from '../identifiers/identifiers.js';
import type { RoomVersionRules } from '../roomversions/rules.js';
import { own } from './pyvalue.js';
import type { StateLookup, StateMap } from './state.js';

/**
 * The four history visibility settings, from the least to the most
 * restrictive.
 */
export type HistoryVisibility = 'world_readable' | 'shared' | 'invited' | 'joined';

/** The settings in order, least restrictive first. */
const VISIBILITY_ORDER: readonly HistoryVisibility[] = ['world_readable', 'shared', 'invited', 'joined'];

/** Memberships from the most to the least joined, as Synapse ranks them. */
const MEMBERSHIP_ORDER: readonly string[] = ['join', 'invite', 'knock', 'leave', 'ban'];

const HISTORY_VISIBILITY = 'm.room.history_visibility';
const MEMBER = 'm.room.member';

/**
 * The rule that decided:
 * - `world_readable`: shown, the history visibility at the event is
 *   `world_readable` (for users, of a history visibility event: before or
 *   after it);
 * - `shared`: shown, the history visibility is `shared` and the user joined
 *   after the event (for servers: `shared`, absent, or a string that is not
 *   `invited` or `joined`);
 * - `joined`: shown, the user (for servers: one of the server's users) was
 *   joined at the event;
 * - `invited`: shown, the history visibility is `invited` and the user (one
 *   of the server's users) was invited at the event;
 * - `own_leave`: shown, the user's own leave (or kick, or rejected invite)
 *   following a join or an invite;
 * - `denied`: not shown, none of the rules above allows it;
 * - `malformed`: not shown, Synapse cannot read the event or state it needs
 *   (a member event without `membership`, a `history_visibility` that is not
 *   a string, a member state key without `@`): it raises, and the request
 *   that asked fails.
 */
export type VisibilityRule = 'world_readable' | 'shared' | 'joined' | 'invited' | 'own_leave' | 'denied' | 'malformed';

/** Whether an event may be shown, the rule that decided, and why. */
export interface VisibilityResult {
  /** Whether the event may be shown (to the user, or to the server). */
  readonly visible: boolean;
  /** The rule that decided. */
  readonly rule: VisibilityRule;
  /** A sentence for a person. */
  readonly reason: string;
}

function result(visible: boolean, rule: VisibilityRule, reason: string): VisibilityResult {
  return { visible, rule, reason };
}

/** The content of a state event, which must be an object. */
function contentOf(event: JsonObject): JsonObject {
  const content = own(event, 'content');
  if (!isJsonObject(content)) {
    throw new InvalidInputError('M_BAD_JSON', `The ${String(event.type)} state event's content is not an object`);
  }
  return content;
}

function isVisibility(value: JsonValue | undefined): value is HistoryVisibility {
  return typeof value === 'string' && (VISIBILITY_ORDER as readonly string[]).includes(value);
}

function describeValue(value: JsonValue | undefined): string {
  return value === undefined ? 'absent' : typeof value === 'string' ? JSON.stringify(value) : 'not a string';
}

/** The state key of a state event, or `undefined` for other events. */
function stateKeyOf(event: JsonObject): string | undefined {
  const key = own(event, 'state_key');
  return typeof key === 'string' ? key : undefined;
}

/** The state event at `type` and `stateKey` after `event`. */
function stateAfter(event: JsonObject, state: StateLookup, type: string, stateKey: string): JsonObject | undefined {
  return event.type === type && stateKeyOf(event) === stateKey ? event : state.get(type, stateKey);
}

/** The state event that `event` replaces, if it is a state event and replaces one. */
function replaced(event: JsonObject, state: StateLookup): JsonObject | undefined {
  const key = stateKeyOf(event);
  return key === undefined || typeof event.type !== 'string' ? undefined : state.get(event.type, key);
}

/**
 * The history visibility a room state says, as it applies to users: the
 * `history_visibility` of its `m.room.history_visibility` event (state key
 * `""`), or `shared` if there is none or its value is not one of the four
 * (spec: "if the value is not understood, the visibility is assumed to be
 * `shared`").
 *
 * @param state - the room state.
 * @returns the setting.
 * @throws {@link InvalidInputError} `M_BAD_JSON` if the history visibility
 *   event's content is not an object.
 */
export function historyVisibility(state: StateLookup): HistoryVisibility {
  return settingOf(state.get(HISTORY_VISIBILITY, ''));
}

/** The setting a history visibility event gives users (`shared` for none). */
function settingOf(event: JsonObject | undefined): HistoryVisibility {
  const value = event === undefined ? undefined : own(contentOf(event), 'history_visibility');
  return isVisibility(value) ? value : 'shared';
}

/** A membership as Synapse ranks it: one of the five, or `leave`. */
function rankedMembership(content: JsonObject | undefined): string {
  const value = content === undefined ? undefined : own(content, 'membership');
  return typeof value === 'string' && MEMBERSHIP_ORDER.includes(value) ? value : 'leave';
}

/**
 * Whether a user may see an event (spec: client-server API, "Room History
 * Visibility", "Server behaviour"), as Synapse decides it for `/sync`,
 * `/messages`, `/context` and the other endpoints that return events:
 *
 * 1. `world_readable`: shown.
 * 2. The user's membership at the event is `join`: shown.
 * 3. `shared`, and the user joined after the event (`joinedAfter`): shown.
 * 4. `invited`, and the user's membership at the event is `invite`: shown.
 * 5. Otherwise not shown.
 *
 * The history visibility and membership are those after the event. For an
 * `m.room.history_visibility` event, steps 1 and 3 take the less
 * restrictive of the setting before and after it (an absent or unknown
 * setting before counts as `shared`); step 4 takes the setting after it.
 * For the user's own `m.room.member` event, the membership is the more
 * joined of the one before and after it (join, invite, knock, leave, ban;
 * anything else counts as `leave`), and a leave following a join or an
 * invite is always shown.
 *
 * Not included (Synapse policies that are not history visibility):
 * soft-failed events, retention policies, erased senders, ignored users,
 * hiding `m.room.dummy`, `m.room.aliases` and call invites in public rooms,
 * outliers.
 *
 * @param event - the event.
 * @param state - the room state before the event (a {@link StateMap}, or
 *   any store that can look up a state event).
 * @param userId - the user who would see it.
 * @param joinedAfter - whether the user is joined now or joined at some
 *   point after the event (Synapse's "not peeking").
 * @param rules - the room version's rules (they say what an event looks
 *   like; no version changes the visibility rules).
 * @returns whether the event may be shown, the rule that decided and why.
 * @throws {@link InvalidInputError} `M_BAD_JSON` if the event is not an
 *   event of the room version, or a state event the check reads has content
 *   that is not an object.
 */
export function visibleToUser(
  event: Pdu,
  state: StateLookup,
  userId: string,
  joinedAfter: boolean,
  rules: RoomVersionRules,
): VisibilityResult {
  assertEventSchema(event, rules);
  const content = contentOf(event);
  const visibility = settingOf(stateAfter(event, state, HISTORY_VISIBILITY, ''));

  // Steps 1 and 3 first, as Synapse takes them, with a history visibility
  // event on the boundary.
  let lax = visibility;
  if (event.type === HISTORY_VISIBILITY) {
    const previous = settingOf(replaced(event, state));
    if (VISIBILITY_ORDER.indexOf(previous) < VISIBILITY_ORDER.indexOf(visibility)) lax = previous;
  }
  const boundary = lax === visibility ? '' : ` (before this event; ${visibility} after it)`;
  if (lax === 'shared' && joinedAfter) {
    return result(true, 'shared', `History is shared${boundary} and the user joined after the event`);
  }
  if (lax === 'world_readable') return result(true, 'world_readable', `History is world_readable${boundary}`);

  // Steps 2, 4 and 5: the user's membership at the event.
  let membership: JsonValue | undefined;
  if (event.type === MEMBER) {
    const stateKey = stateKeyOf(event);
    if (stateKey === undefined) {
      return result(
        false,
        'malformed',
        'An m.room.member event that is not a state event: Synapse raises reading its state_key',
      );
    }
    if (stateKey === userId) {
      const before = replaced(event, state);
      const now = rankedMembership(content);
      const previous = rankedMembership(before === undefined ? undefined : contentOf(before));
      if (now === 'leave' && (previous === 'join' || previous === 'invite')) {
        return result(true, 'own_leave', `The user's own leave, after their ${previous}`);
      }
      membership = MEMBERSHIP_ORDER.indexOf(previous) < MEMBERSHIP_ORDER.indexOf(now) ? previous : now;
    }
  }
  if (membership === undefined) {
    const memberEvent = state.get(MEMBER, userId);
    if (memberEvent !== undefined) {
      const memberContent = contentOf(memberEvent);
      if (!Object.hasOwn(memberContent, 'membership')) {
        return result(false, 'malformed', "The user's member event has no membership: Synapse raises reading it");
      }
      membership = memberContent.membership;
    }
  }
  if (membership === 'join') return result(true, 'joined', 'The user was joined at the event');
  const was = membership === undefined ? 'not in the room' : `${describeValue(membership)}, not join`;
  if (visibility === 'joined') {
    return result(false, 'denied', `History is joined and the user's membership at the event was ${was}`);
  }
  if (visibility === 'invited') {
    if (membership === 'invite')
      return result(true, 'invited', 'History is invited and the user was invited at the event');
    return result(false, 'denied', `History is invited and the user's membership at the event was ${was}`);
  }
  if (visibility === 'shared' && !joinedAfter) {
    return result(false, 'denied', `History is shared, the user did not join after the event and was ${was} at it`);
  }
  // Not reached: steps 1 and 3 have shown these already.
  return result(true, visibility, `History is ${visibility}`);
}

/**
 * Whether another server may see an event, as Synapse decides it for
 * `/backfill`, `/get_missing_events`, `/event` and the other federation
 * endpoints that return events (the spec leaves this to servers):
 *
 * - shown if the history visibility after the event is anything but
 *   `invited` or `joined` (`world_readable`, `shared`, absent, or an
 *   unknown string);
 * - otherwise shown if one of the server's users (state keys of
 *   `m.room.member` events whose part after the first `:` is `serverName`)
 *   is joined after the event, or, for `invited`, invited.
 *
 * Unlike for users, a history visibility event is judged by the setting it
 * makes, and a member event by the membership it makes. Not shown
 * (`malformed`) where Synapse raises: a `history_visibility` that is not a
 * string; for any setting but `world_readable` and `shared` (Synapse reads
 * the memberships then, even for an unknown string), a membership of the
 * server's that is absent or not a string; and for `invited` and `joined`,
 * one of the server's state keys that does not start with `@` (Synapse
 * raises if it reaches it before a membership that grants access, in an
 * order it does not define; this check does not depend on the order).
 *
 * Not included: erased senders, rooms with partial state, outliers.
 *
 * @param event - the event.
 * @param state - the room state before the event.
 * @param serverName - the server that would see it.
 * @param rules - the room version's rules (they say what an event looks
 *   like; no version changes the visibility rules).
 * @returns whether the event may be sent, the rule that decided and why.
 * @throws {@link InvalidInputError} `M_BAD_JSON` if the event is not an
 *   event of the room version, or a state event the check reads has content
 *   that is not an object.
 */
export function visibleToServer(
  event: Pdu,
  state: StateMap,
  serverName: string,
  rules: RoomVersionRules,
): VisibilityResult {
  assertEventSchema(event, rules);
  const visibilityEvent = stateAfter(event, state, HISTORY_VISIBILITY, '');
  let visibility: JsonValue | undefined = 'shared';
  if (visibilityEvent !== undefined) {
    const content = contentOf(visibilityEvent);
    visibility = Object.hasOwn(content, 'history_visibility') ? content.history_visibility : 'shared';
  }
  if (typeof visibility !== 'string') {
    return result(false, 'malformed', 'history_visibility is not a string: Synapse raises reading it');
  }
  if (visibility === 'world_readable') return result(true, 'world_readable', 'History is world_readable');
  if (visibility === 'shared') return result(true, 'shared', 'History is shared');

  // The server's memberships after the event, read for any other setting.
  const members = new Map(state.ofType(MEMBER));
  const eventKey = stateKeyOf(event);
  if (event.type === MEMBER && eventKey !== undefined) members.set(eventKey, event);
  let joined: string | undefined;
  let invited: string | undefined;
  let unreadable: string | undefined;
  for (const [stateKey, memberEvent] of members) {
    if (serverNameOf(stateKey) !== serverName) continue;
    const membership = own(contentOf(memberEvent), 'membership');
    if (typeof membership !== 'string') {
      return result(
        false,
        'malformed',
        `The membership of ${stateKey} is ${describeValue(membership)}: Synapse raises reading it`,
      );
    }
    if (!stateKey.startsWith('@')) unreadable ??= stateKey;
    else if (membership === 'join') joined ??= stateKey;
    else if (membership === 'invite') invited ??= stateKey;
  }
  if (visibility !== 'invited' && visibility !== 'joined') {
    return result(true, 'shared', `History is ${JSON.stringify(visibility)}, which is not invited or joined: open`);
  }
  if (unreadable !== undefined) {
    return result(
      false,
      'malformed',
      `The member state key ${JSON.stringify(unreadable)} is not a user ID: Synapse raises reading it`,
    );
  }
  if (joined !== undefined)
    return result(true, 'joined', `History is ${visibility} and ${joined} was joined at the event`);
  if (visibility === 'invited' && invited !== undefined) {
    return result(true, 'invited', `History is invited and ${invited} was invited at the event`);
  }
  const which = visibility === 'invited' ? 'joined or invited' : 'joined';
  return result(false, 'denied', `History is ${visibility} and no user of ${serverName} was ${which} at the event`);
}
