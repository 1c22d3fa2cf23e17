/**
 * The auth rules that judge an event against room state (room versions,
 * "Authorization rules", from "If the create event content has the field
 * m.federate set to false" on): used against the event's own auth events,
 * and against the current state for soft failure.
 *
 * @module
 */

import { InvalidInputError } from '../errors.js';
import type { Pdu } from '../hashing/schema.js';
import { domainOf } from '../identifiers/identifiers.js';
import type { RoomVersionRules } from '../roomversions/rules.js';
import { checkCreate } from './create.js';
import { checkPowerLevels } from './levelchanges.js';
import { canFederate, checkMembership, membershipOf } from './membership.js';
import { namedPowerLevel, sendPowerLevel, userPowerLevel } from './powerlevels.js';
import { ALLOWED, type AuthResult, Rejection, reject } from './result.js';
import type { StateLookup } from './state.js';

/**
 * Runs `check` and turns the rule that stopped it into an
 * {@link AuthResult}: content Synapse cannot read (it raises) rejects the
 * event too, under `malformed_content`.
 */
export function judge(rules: RoomVersionRules, check: () => void): AuthResult {
  try {
    check();
    return ALLOWED;
  } catch (e) {
    if (e instanceof Rejection) return { allowed: false, rule: e.rule, roomVersion: rules.id, reason: e.message };
    if (e instanceof InvalidInputError) {
      return {
        allowed: false,
        rule: 'malformed_content',
        roomVersion: rules.id,
        reason: `Content the rules must read is malformed: ${e.message}`,
      };
    }
    throw e;
  }
}

/**
 * A state key that is a user ID belongs to that user: nobody else may send
 * it (spec: "If the event has a state_key that starts with an @ and does not
 * match the sender, reject").
 */
function checkStateKeyOwner(event: Pdu): void {
  const key = event.state_key;
  if (typeof key === 'string' && key.startsWith('@') && key !== event.sender) {
    reject('state_key', `Only ${key} may send state with that state key`);
  }
}

/**
 * v1–v2 (`redactionDomainCheck`): without the redact level, a redaction is
 * allowed only of events from the sender's own server (the domains of the
 * two event IDs); from v3 the check moves to the moment the redacted event
 * is known (Synapse rechecks then), so the auth rules allow it.
 */
function checkRedaction(event: Pdu, state: StateLookup, rules: RoomVersionRules): void {
  const sender = event.sender;
  if (userPowerLevel(state, sender, rules) >= namedPowerLevel(state, 'redact')) return;
  if (!rules.auth.redactionDomainCheck) return;
  const redacterServer = domainOf(event.event_id, 'event_id');
  const redacts = event.redacts;
  // Synapse lets a redaction without a string `redacts` through here.
  if (typeof redacts !== 'string') return;
  if (redacterServer === domainOf(redacts, 'redacts')) return;
  reject('redaction', `${sender} may not redact events of other servers without the redact level`);
}

/**
 * The rules against a state, in the spec's order, throwing
 * {@link Rejection} at the first that rejects.
 */
function applyRules(event: Pdu, state: StateLookup, rules: RoomVersionRules): void {
  if (event.type === 'm.room.create') return;
  const create = state.get('m.room.create', '');
  if (create === undefined) reject('auth_events', 'There is no create event among the auth events');
  if (domainOf(create.sender, 'sender') !== domainOf(event.sender, 'sender') && !canFederate(state)) {
    reject('federate', 'The room does not federate (m.federate is false)');
  }
  if (event.type === 'm.room.aliases' && rules.auth.specialCaseAliases) {
    // v1–v5: a server may set its own aliases, whatever the power levels.
    if (event.state_key === undefined) reject('aliases', 'm.room.aliases must be a state event');
    if (event.state_key === '') reject('aliases', 'm.room.aliases must have a non-empty state key');
    if (event.state_key !== domainOf(event.sender, 'sender')) {
      reject('aliases', "m.room.aliases' state key must be the sender's server");
    }
    return;
  }
  if (event.type === 'm.room.member') {
    checkMembership(event, state, rules);
    return;
  }
  const sender = event.sender;
  if (membershipOf(state, sender) !== 'join') reject('sender_not_joined', `${sender} is not in the room`);
  if (event.type === 'm.room.third_party_invite') {
    // A third-party invite needs the invite level, not the send level.
    if (userPowerLevel(state, sender, rules) < namedPowerLevel(state, 'invite')) {
      reject('power_level', `${sender}'s power level is below the invite level`);
    }
    return;
  }
  const isState = event.state_key !== undefined;
  if (userPowerLevel(state, sender, rules) < sendPowerLevel(state, event.type, isState)) {
    reject('power_level', `${sender}'s power level is below the level needed to send ${event.type}`);
  }
  checkStateKeyOwner(event);
  if (event.type === 'm.room.power_levels') checkPowerLevels(event, state, rules);
  if (event.type === 'm.room.redaction') checkRedaction(event, state, rules);
}

/**
 * Checks the auth rules that depend on room state: whether `event` is
 * allowed given `state`. Against the event's own auth events this is the
 * second half of {@link checkEventAuth}; against the room's current state it
 * is the soft-fail check ({@link checkSoftFail}). A create event is judged
 * by its own rules (it needs no state).
 *
 * @param event - the event, of a valid schema for its room version (see
 *   `assertEventSchema`).
 * @param state - the state to judge it against: at least the create event,
 *   and the power levels, join rules, memberships and third-party invites
 *   the rules read.
 * @param rules - the room version's rules.
 * @returns allowed, or rejected with the rule and why. Never throws for
 *   content, however malformed.
 */
export function checkAuthRules(event: Pdu, state: StateLookup, rules: RoomVersionRules): AuthResult {
  return judge(rules, () => {
    if (event.type === 'm.room.create') checkCreate(event, rules);
    else applyRules(event, state, rules);
  });
}
