/**
 * The auth rules for `m.room.member` (room versions, "Authorization rules",
 * "If type is m.room.member"), for every room version: joins (with the
 * creator's first join, public, invite, knock and restricted rooms),
 * invites (with third-party invites), leaves and kicks, bans, and knocks.
 *
 * @module
 */

import { isJsonObject, type JsonValue } from '../canonicaljson/value.js';
import type { Pdu } from '../hashing/schema.js';
import { domainOf } from '../identifiers/identifiers.js';
import type { RoomVersionRules } from '../roomversions/rules.js';
import { eventIdOfCreate } from './createid.js';
import { namedPowerLevel, roomCreator, userPowerLevel } from './powerlevels.js';
import { isPyTrue, own, PythonError, pyGet, pyTypeName, show } from './pyvalue.js';
import { reject } from './result.js';
import type { StateLookup } from './state.js';
import { thirdPartyInviteProblem } from './thirdparty.js';

/**
 * The `membership` of a user's member event in the state, or `undefined`
 * if there is none.
 *
 * @throws {@link PythonError} if the member event has no `membership`
 *   (Synapse raises reading it).
 */
export function membershipOf(state: StateLookup, userId: string): JsonValue | undefined {
  const member = state.get('m.room.member', userId);
  if (member === undefined) return undefined;
  const content = isJsonObject(member.content) ? member.content : {};
  if (!Object.hasOwn(content, 'membership')) throw new PythonError(`The member event of ${userId} has no membership`);
  return content.membership;
}

/**
 * Whether the `m.federate` of the room's create event lets a user of
 * another server than the creator's take part (anything but `true`, when
 * present, forbids it).
 */
export function canFederate(state: StateLookup): boolean {
  const create = state.get('m.room.create', '');
  if (create === undefined) return false;
  const content = create.content;
  return !Object.hasOwn(content, 'm.federate') || isPyTrue(content['m.federate']);
}

/** The first previous event's ID, when the event has exactly one. */
function onlyPrevEvent(event: Pdu): JsonValue | undefined {
  const prev = event.prev_events;
  if (!Array.isArray(prev) || prev.length !== 1) return undefined;
  const ref = prev[0];
  return Array.isArray(ref) ? ref[0] : ref;
}

/**
 * Checks a member event against the state.
 *
 * @param event - the `m.room.member` event.
 * @param state - the event's auth events (or the state to check against).
 * @param rules - the room version's rules.
 * @throws {@link Rejection} under rule `membership`, `federate` or
 *   `third_party_invite`; {@link PythonError} where content cannot be read.
 */
export function checkMembership(event: Pdu, state: StateLookup, rules: RoomVersionRules): void {
  const content = event.content;
  if (!Object.hasOwn(content, 'membership')) throw new PythonError("KeyError: 'membership'");
  const membership = content.membership;
  const sender = event.sender;
  const target = event.state_key as string;
  const create = state.get('m.room.create', '');

  // The creator's own first join, straight after the create event.
  if (membership === 'join' && create !== undefined) {
    const prev = onlyPrevEvent(event);
    if (prev !== undefined && prev === eventIdOfCreate(create, rules) && roomCreator(create, rules) === target) return;
  }
  if (create === undefined) reject('membership', 'The create event is missing from the auth events');
  if (domainOf(create.sender, 'sender') !== domainOf(target, 'state_key') && !canFederate(state)) {
    reject('federate', 'The room does not federate (m.federate is false)');
  }

  const callerMembership = membershipOf(state, sender);
  const callerJoined = callerMembership === 'join';
  const callerInvited = callerMembership === 'invite';
  const callerKnocked = rules.auth.knocking && callerMembership === 'knock';
  const targetMembership = membershipOf(state, target);
  const targetJoined = targetMembership === 'join';
  const targetBanned = targetMembership === 'ban';
  const joinRules = state.get('m.room.join_rules', '');
  const joinRule = joinRules === undefined ? 'invite' : pyGet(joinRules.content, 'join_rule', 'invite');

  // Synapse works out these levels before any membership rule, so a level
  // that cannot be read rejects every membership change.
  const senderLevel = userPowerLevel(state, sender, rules);
  const targetLevel = userPowerLevel(state, target, rules);
  const inviteLevel = namedPowerLevel(state, 'invite');
  const banLevel = namedPowerLevel(state, 'ban');

  if (membership === 'invite' && Object.hasOwn(content, 'third_party_invite')) {
    const problem = thirdPartyInviteProblem(event, state);
    if (problem !== undefined) reject('third_party_invite', `The third-party invite is not valid: ${problem}`);
    if (targetBanned) reject('third_party_invite', `${target} is banned from the room`);
    return;
  }

  // Apart from joining and knocking, only members change memberships; those
  // invited or knocking may still withdraw (leave) themselves.
  if (membership !== 'join' && membership !== 'knock') {
    if ((callerInvited || callerKnocked) && membership === 'leave' && target === sender) return;
    if (!callerJoined) reject('membership', `${sender} is not in the room`);
  }

  if (membership === 'invite') {
    if (targetBanned) reject('membership', `${target} is banned from the room`);
    if (targetJoined) reject('membership', `${target} is already in the room`);
    if (senderLevel < inviteLevel) reject('membership', `${sender}'s power level is below the invite level`);
  } else if (membership === 'join') {
    checkJoin(event, state, { callerJoined, callerInvited, targetBanned, joinRule, inviteLevel }, rules);
  } else if (membership === 'leave') {
    // Unbanning needs the ban level, and then (as any leave of another
    // user) the kick level and a level above the target's.
    if (targetBanned && senderLevel < banLevel) {
      reject('membership', `${sender}'s power level is below the ban level, needed to unban`);
    } else if (target !== sender) {
      const kickLevel = namedPowerLevel(state, 'kick');
      if (senderLevel < kickLevel || senderLevel <= targetLevel) {
        reject('membership', `${sender} may not kick ${target}: power level too low`);
      }
    }
  } else if (membership === 'ban') {
    if (senderLevel < banLevel) reject('membership', `${sender}'s power level is below the ban level`);
    if (senderLevel <= targetLevel)
      reject('membership', `${sender} may not ban ${target}: power level not above theirs`);
  } else if (rules.auth.knocking && membership === 'knock') {
    const knockable = joinRule === 'knock' || (rules.auth.knockRestrictedJoins && joinRule === 'knock_restricted');
    if (!knockable) reject('membership', `The join rule ${show(joinRule)} does not allow knocking`);
    if (target !== sender) reject('membership', 'Users may only knock for themselves');
    if (targetJoined) reject('membership', `${target} is already in the room`);
    if (callerInvited) reject('membership', `${sender} is already invited`);
    if (targetBanned) reject('membership', `${target} is banned from the room`);
  } else {
    reject('membership', `Unknown membership ${show(membership)} in room version ${rules.id}`);
  }
}

interface JoinContext {
  readonly callerJoined: boolean;
  readonly callerInvited: boolean;
  readonly targetBanned: boolean;
  readonly joinRule: JsonValue | undefined;
  readonly inviteLevel: number | bigint;
}

/** The join rules: public, invite (and knock), restricted from v8, knock_restricted from v10. */
function checkJoin(event: Pdu, state: StateLookup, c: JoinContext, rules: RoomVersionRules): void {
  const sender = event.sender;
  if (sender !== event.state_key) reject('membership', 'Users may only join for themselves');
  if (c.targetBanned) reject('membership', `${sender} is banned from the room`);
  const joinRule = c.joinRule;
  if (joinRule === 'public') return;
  const restricted =
    (rules.auth.restrictedJoins && joinRule === 'restricted') ||
    (rules.auth.knockRestrictedJoins && joinRule === 'knock_restricted');
  if (restricted) {
    // Members and invitees join as in an invite-only room; anyone else needs
    // a member of the room with the invite level to vouch for the join.
    if (c.callerJoined || c.callerInvited) return;
    const content = event.content;
    const via = own(content, 'join_authorised_via_users_server');
    if (via === undefined || via === null) {
      reject('membership', 'A restricted join needs join_authorised_via_users_server');
    }
    if (Array.isArray(via) || isJsonObject(via)) throw new PythonError(`unhashable type: '${pyTypeName(via)}'`);
    if (typeof via !== 'string' || membershipOf(state, via) !== 'join') {
      reject('membership', `The authorising user ${show(via)} is not in the room`);
    }
    if (userPowerLevel(state, via, rules) < c.inviteLevel) {
      reject('membership', `The authorising user ${via} lacks the invite level`);
    }
    return;
  }
  const inviteOnly =
    joinRule === 'invite' ||
    (rules.auth.knocking && joinRule === 'knock') ||
    (rules.auth.knockRestrictedJoins && joinRule === 'knock_restricted');
  if (inviteOnly) {
    if (!(c.callerJoined || c.callerInvited)) reject('membership', `${sender} is not invited to the room`);
    return;
  }
  reject('membership', `The join rule ${show(joinRule)} does not let ${sender} join`);
}
