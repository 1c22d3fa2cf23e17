/**
 * The rules of each room version as one declarative table (spec: "Room
 * Versions", versions 1–12, with MSC4289, MSC4291 and MSC4297 for v12).
 *
 * Code elsewhere asks a rule by name (`rules.json.numbers`,
 * `rules.auth.knocking`) instead of comparing version numbers: room versions
 * are not ordered (an experimental version may take v11's rules and change
 * one), and an unknown version must fail closed rather than fall into an
 * `else` branch.
 *
 * @module
 */

import type { NumberRules } from '../canonicaljson/parse.js';
import { InvalidInputError } from '../errors.js';
import type { EventIdFormat } from '../identifiers/identifiers.js';

export type { EventIdFormat };

/** Which state resolution algorithm the version uses. */
export type StateResolutionAlgorithm = 'v1' | 'v2' | 'v2.1';

/** What survives redaction, beyond the keys every version keeps. */
export interface RedactionRules {
  /** `m.room.aliases` keeps `aliases` (v1–v5; dropped by MSC2432 in v6). */
  readonly keepAliases: boolean;
  /** `m.room.join_rules` keeps `allow` (v8, restricted joins). */
  readonly keepJoinRulesAllow: boolean;
  /** `m.room.member` keeps `join_authorised_via_users_server` (v9). */
  readonly keepJoinAuthorisedVia: boolean;
  /**
   * The v11 rules (MSC2176, MSC3821, MSC3989): `m.room.create` keeps its whole
   * content, `m.room.power_levels` keeps `invite`, `m.room.redaction` keeps
   * `redacts` in content, `m.room.member` keeps `third_party_invite.signed`,
   * and the top-level `origin`, `membership` and `prev_state` are no longer
   * kept.
   */
  readonly v11: boolean;
}

/** Authorization rule flags. */
export interface AuthRules {
  /** `m.room.aliases` has its own auth rule (v1–v5). */
  readonly specialCaseAliases: boolean;
  /** Power levels' `notifications` changes are checked (v6). */
  readonly limitNotificationsPowerLevels: boolean;
  /** The `knock` join rule and membership exist (v7). */
  readonly knocking: boolean;
  /** The `restricted` join rule exists (v8). */
  readonly restrictedJoins: boolean;
  /** The `knock_restricted` join rule exists (v10). */
  readonly knockRestrictedJoins: boolean;
  /** Power levels must be integers, not strings (v10). */
  readonly integerPowerLevels: boolean;
  /**
   * The room creator is the create event's `sender`, not its `creator`
   * content key (v11, MSC2175).
   */
  readonly implicitRoomCreator: boolean;
  /**
   * v1–v2 check that a redaction's sender is in the same domain as the
   * redacted event (or has the redact level) in the auth rules (v3 moved the
   * check out of them).
   */
  readonly redactionDomainCheck: boolean;
  /**
   * Creators (the create event's sender and `additional_creators`) have
   * infinite power and may not be listed in power levels' `users` (v12,
   * MSC4289).
   */
  readonly privilegedCreators: boolean;
}

/** Event format flags. */
export interface EventFormatRules {
  /** How event IDs are formed. */
  readonly eventIdFormat: EventIdFormat;
  /**
   * The room ID is `!` + the create event's reference hash, and the create
   * event has no `room_id` and is never listed in `auth_events` (v12,
   * MSC4291).
   */
  readonly roomIdIsCreateEventHash: boolean;
}

/** Signature requirements. */
export interface SignatureRules {
  /** The server in the event ID must also sign the event (v1–v2). */
  readonly eventIdServerSigns: boolean;
  /**
   * A key is only valid for events up to its `valid_until_ts` (v5); older
   * versions accept keys regardless.
   */
  readonly enforceKeyValidity: boolean;
}

/** Canonical JSON flags. */
export interface JsonRules {
  /**
   * Number rules: `strict` (v6, integers in the safe range only) or `legacy`
   * (v1–v5, any number, re-encoded as Synapse does).
   */
  readonly numbers: NumberRules;
}

/** All the rules of one room version. */
export interface RoomVersionRules {
  /** The version identifier, as found in the create event. */
  readonly id: string;
  /** `stable` for versions in the spec; `unstable` for experimental ones. */
  readonly stability: 'stable' | 'unstable';
  /** Event and room ID formats. */
  readonly eventFormat: EventFormatRules;
  /** What redaction keeps. */
  readonly redaction: RedactionRules;
  /** Authorization rule flags. */
  readonly auth: AuthRules;
  /** Which signatures are required and which keys are valid. */
  readonly signatures: SignatureRules;
  /** Canonical JSON number rules. */
  readonly json: JsonRules;
  /** The state resolution algorithm. */
  readonly stateResolution: StateResolutionAlgorithm;
}

/** A partial set of rules used to derive one version from another. */
export interface RoomVersionOverrides {
  /** Replaces {@link RoomVersionRules.stability}. */
  readonly stability?: 'stable' | 'unstable';
  /** Flags replacing those of {@link RoomVersionRules.eventFormat}. */
  readonly eventFormat?: Partial<EventFormatRules>;
  /** Flags replacing those of {@link RoomVersionRules.redaction}. */
  readonly redaction?: Partial<RedactionRules>;
  /** Flags replacing those of {@link RoomVersionRules.auth}. */
  readonly auth?: Partial<AuthRules>;
  /** Flags replacing those of {@link RoomVersionRules.signatures}. */
  readonly signatures?: Partial<SignatureRules>;
  /** Flags replacing those of {@link RoomVersionRules.json}. */
  readonly json?: Partial<JsonRules>;
  /** Replaces {@link RoomVersionRules.stateResolution}. */
  readonly stateResolution?: StateResolutionAlgorithm;
}

function derive(base: RoomVersionRules, id: string, o: RoomVersionOverrides): RoomVersionRules {
  return Object.freeze({
    id,
    stability: o.stability ?? base.stability,
    eventFormat: Object.freeze({ ...base.eventFormat, ...o.eventFormat }),
    redaction: Object.freeze({ ...base.redaction, ...o.redaction }),
    auth: Object.freeze({ ...base.auth, ...o.auth }),
    signatures: Object.freeze({ ...base.signatures, ...o.signatures }),
    json: Object.freeze({ ...base.json, ...o.json }),
    stateResolution: o.stateResolution ?? base.stateResolution,
  });
}

/** Room version 1: the original rules. */
const V1: RoomVersionRules = derive(
  {
    id: '1',
    stability: 'stable',
    eventFormat: { eventIdFormat: 'opaque', roomIdIsCreateEventHash: false },
    redaction: { keepAliases: true, keepJoinRulesAllow: false, keepJoinAuthorisedVia: false, v11: false },
    auth: {
      specialCaseAliases: true,
      limitNotificationsPowerLevels: false,
      knocking: false,
      restrictedJoins: false,
      knockRestrictedJoins: false,
      integerPowerLevels: false,
      implicitRoomCreator: false,
      redactionDomainCheck: true,
      privilegedCreators: false,
    },
    signatures: { eventIdServerSigns: true, enforceKeyValidity: false },
    json: { numbers: 'legacy' },
    stateResolution: 'v1',
  },
  '1',
  {},
);

// Each version is the previous one with what its spec page says changed.
const V2 = derive(V1, '2', { stateResolution: 'v2' });
const V3 = derive(V2, '3', {
  eventFormat: { eventIdFormat: 'base64' },
  signatures: { eventIdServerSigns: false },
  auth: { redactionDomainCheck: false },
});
const V4 = derive(V3, '4', { eventFormat: { eventIdFormat: 'url-safe-base64' } });
const V5 = derive(V4, '5', { signatures: { enforceKeyValidity: true } });
const V6 = derive(V5, '6', {
  redaction: { keepAliases: false },
  auth: { specialCaseAliases: false, limitNotificationsPowerLevels: true },
  json: { numbers: 'strict' },
});
const V7 = derive(V6, '7', { auth: { knocking: true } });
const V8 = derive(V7, '8', { redaction: { keepJoinRulesAllow: true }, auth: { restrictedJoins: true } });
const V9 = derive(V8, '9', { redaction: { keepJoinAuthorisedVia: true } });
const V10 = derive(V9, '10', { auth: { knockRestrictedJoins: true, integerPowerLevels: true } });
const V11 = derive(V10, '11', { redaction: { v11: true }, auth: { implicitRoomCreator: true } });
const V12 = derive(V11, '12', {
  eventFormat: { roomIdIsCreateEventHash: true },
  auth: { privilegedCreators: true },
  stateResolution: 'v2.1',
});

const registry = new Map<string, RoomVersionRules>(
  [V1, V2, V3, V4, V5, V6, V7, V8, V9, V10, V11, V12].map((v) => [v.id, v]),
);

/** The identifiers of the room versions in the spec, "1" to "12". */
export const SPEC_ROOM_VERSIONS: readonly string[] = Object.freeze([...registry.keys()]);

/**
 * Returns the rules of a room version.
 *
 * @param id - the version identifier, e.g. `"10"`.
 * @throws {@link InvalidInputError} `M_UNSUPPORTED_ROOM_VERSION` for a
 *   version that is neither in the spec nor registered.
 */
export function getRoomVersion(id: string): RoomVersionRules {
  const rules = registry.get(id);
  if (rules === undefined) {
    throw new InvalidInputError('M_UNSUPPORTED_ROOM_VERSION', `Room version ${JSON.stringify(id)} is not supported`);
  }
  return rules;
}

/**
 * Whether a room version is known (in the spec or registered). Never throws.
 *
 * @param id - the version identifier.
 */
export function isKnownRoomVersion(id: string): boolean {
  return registry.has(id);
}

/**
 * Registers an experimental room version derived from a known one, for
 * trying a proposal before it is in the spec. Registered versions are
 * `unstable` unless the overrides say otherwise.
 *
 * @param id - the new identifier, e.g. `"org.example.v12-test"`.
 * @param baseId - the version to start from.
 * @param overrides - the rules that differ.
 * @returns the new rules.
 * @throws {@link InvalidInputError} `M_INVALID_PARAM` if `id` is already
 *   known or is not 1–32 characters of `[a-z0-9.-]`, which the spec allows
 *   for room version identifiers; `M_UNSUPPORTED_ROOM_VERSION` for an
 *   unknown base.
 */
export function registerRoomVersion(
  id: string,
  baseId: string,
  overrides: RoomVersionOverrides = {},
): RoomVersionRules {
  if (!/^[a-z0-9.-]{1,32}$/.test(id)) {
    throw new InvalidInputError(
      'M_INVALID_PARAM',
      `Room version identifier ${JSON.stringify(id)} is not 1–32 of [a-z0-9.-]`,
    );
  }
  if (registry.has(id)) {
    throw new InvalidInputError('M_INVALID_PARAM', `Room version ${JSON.stringify(id)} is already defined`);
  }
  const rules = derive(getRoomVersion(baseId), id, { stability: 'unstable', ...overrides });
  registry.set(id, rules);
  return rules;
}
