/**
 * The outcome of an auth check: a value, never an exception.
 *
 * @module
 */

/**
 * The rule that rejected an event, named after the spec's authorization
 * rules (room versions, "Authorization rules"):
 * - `auth_events`: the event's auth events are not acceptable (duplicates,
 *   a type the selection algorithm does not allow, another room, rejected,
 *   no create event);
 * - `create`: the rules for `m.room.create`;
 * - `federate`: `m.federate` is false and the sender (or target) is from
 *   another server than the creator;
 * - `aliases`: `m.room.aliases` in v1–v5;
 * - `membership`: the rules for `m.room.member` (join, invite, leave, ban,
 *   knock, restricted joins);
 * - `third_party_invite`: an invite made from a third-party invite;
 * - `sender_not_joined`: the sender is not in the room;
 * - `power_level`: the sender's power level is below the level the event
 *   needs;
 * - `state_key`: a state key that is a user ID other than the sender's;
 * - `power_levels`: the rules for changes to `m.room.power_levels`;
 * - `redaction`: the v1–v2 redaction rule;
 * - `malformed_content`: content the rules must read cannot be read as the
 *   rules need (Synapse raises where it reads it, and the event is not
 *   accepted).
 */
export type AuthRule =
  | 'auth_events'
  | 'create'
  | 'federate'
  | 'aliases'
  | 'membership'
  | 'third_party_invite'
  | 'sender_not_joined'
  | 'power_level'
  | 'state_key'
  | 'power_levels'
  | 'redaction'
  | 'malformed_content';

/** An event the rules allow. */
export interface AuthAllowed {
  /** Allowed. */
  readonly allowed: true;
}

/** An event the rules reject, with the rule and why. */
export interface AuthRejected {
  /** Rejected. */
  readonly allowed: false;
  /** The rule that rejected it. */
  readonly rule: AuthRule;
  /** The room version whose rules were applied. */
  readonly roomVersion: string;
  /** A sentence for a person. */
  readonly reason: string;
}

/** The outcome of an auth check. */
export type AuthResult = AuthAllowed | AuthRejected;

/** The one allowed result. */
export const ALLOWED: AuthAllowed = Object.freeze({ allowed: true });

/**
 * Thrown inside the rules to stop at the first rule that rejects; the
 * public checks turn it into an {@link AuthRejected}. Never escapes them.
 */
export class Rejection extends Error {
  readonly rule: AuthRule;

  constructor(rule: AuthRule, reason: string) {
    super(reason);
    this.rule = rule;
  }
}

/** Rejects under `rule`. */
export function reject(rule: AuthRule, reason: string): never {
  throw new Rejection(rule, reason);
}
