/**
 * fast-check generators of Matrix rooms for the differential tests: a room
 * is a create event and a sequence of events on top of it, each with
 * realistic `auth_events` (the spec's auth event selection, server-server
 * API "Auth events selection", applied to the room's current state).
 *
 * A room is generated in two parts:
 *
 * - {@link roomScript} is a fast-check arbitrary of plain data (which kind
 *   of event each step sends, who sends it, its content): shrinkable and
 *   reproducible from a seed.
 * - {@link playRoom} interprets a script deterministically into events. Each
 *   step becomes one *candidate* event built on the current state. Steps
 *   meant to change the room (`apply`) are built so that the auth rules
 *   should accept them (the creator acts, joins follow the join rule...) and
 *   are then applied to the state; the other steps (`probe`) are random
 *   events that are only checked. A step may also add a *corrupted* copy of
 *   its candidate (auth events missing, duplicated, unexpected, from another
 *   room, rejected...).
 *
 * Nothing here implements the auth rules: the answers come from the oracle.
 * The generator only knows enough to keep the room plausible, and it is not
 * exact (an applied event may still be rejected): that does not matter for
 * the tests, which only compare answers.
 *
 * Events have real event IDs (v1–v2: an `event_id` of the sender's server;
 * v3+: the reference hash) and content hashes, but no signatures: the auth
 * rules do not look at them. The third-party invite `signed` blocks are
 * really signed (Ed25519, {@link signJson}), since the auth rules verify
 * them. Events are built by hand rather than with `buildEvent`, which signs
 * and holds identifiers to the spec's grammars: the generator must be able to
 * write the odd state keys and user IDs the auth rules have to judge.
 *
 * @module
 */

import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { authTypesForEvent } from '../../src/auth/selection.js';
import { JsonFloat, type JsonObject, type JsonValue } from '../../src/canonicaljson/index.js';
import { contentHash, eventId, referenceHash } from '../../src/hashing/index.js';
import { getRoomVersion, type RoomVersionRules } from '../../src/roomversions/index.js';
import { encodeBase64, SigningKey, signJson } from '../../src/signing/index.js';

/** The room versions of the spec. */
export const ROOM_VERSIONS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12'] as const;

/** The room creator: every generated room is created by this user. */
export const CREATOR = '@alice:a.example';

/**
 * The users who act in the rooms: the creator's server (`a.example`) and two
 * others, so that `m.federate` and the v1–v2 redaction domain rule matter.
 */
export const USERS = [
  CREATOR,
  '@bob:a.example',
  '@carol:b.example',
  '@dan:b.example',
  '@erin:c.example',
  '@frank:c.example',
];

/**
 * Senders of odd forms: no server name (Synapse's `get_domain_from_id`
 * raises), a port (the server name is `a.example:8448`, not the creator's
 * `a.example`), upper case, no sigil.
 */
const ODD_SENDERS = ['@nocolon', '@port:a.example:8448', '@Upper:A.EXAMPLE', 'nosigil:a.example'];

/** Users only named in power levels' `users` maps ("many users"). */
const MANY_USERS = Array.from({ length: 40 }, (_, i) => `@user${i}:many.example`);

/**
 * Keys of power levels' `users` that are not valid user IDs (the power
 * levels auth rule rejects them in every version; Synapse checks them with
 * `UserID.from_string`: a leading `@` and a `:`).
 */
const NOT_USER_IDS = ['notauser', '@nocolon', 'alice:a.example', ''];

/** An event of a generated room and its ID. */
export interface RoomEvent {
  readonly event: JsonObject;
  readonly id: string;
}

/** One `check_auth` request (CONFORMANCE.md), without `op`. */
export interface AuthCase {
  readonly room_version: string;
  readonly event: JsonObject;
  readonly auth_events: JsonObject[];
  readonly rejected_auth_events?: string[];
  /** What the generator meant (not sent): kind, apply/probe, corruption. */
  readonly label: string;
}

// Third-party invite keys: fixed seeds, so that corpora are reproducible.

function seededKey(name: string): SigningKey {
  return new SigningKey(createHash('sha256').update(name).digest());
}

/** The identity server keys a third-party invite event may name. */
const TPI_KEYS = [seededKey('tpi key 1'), seededKey('tpi key 2')];
const TPI_PUBLIC_KEYS = TPI_KEYS.map((k) => encodeBase64(k.publicKey));
/** A key no third-party invite names: signatures with it are bad. */
const STRANGER_KEY = seededKey('tpi stranger');
const ID_SERVER = 'id.example';
const VALIDITY_URL = 'https://id.example/_matrix/identity/v2/pubkey/isvalid';

// Small helpers.

const domainOf = (id: string): string => id.slice(id.indexOf(':') + 1);
const pick = <T>(list: readonly T[], n: number): T => list[n % list.length] as T;
const stateKeyOf = (type: string, stateKey: string): string => `${type}\u0000${stateKey}`;

// The scripts: plain data, generated by fast-check.

/** How a step's candidate event may be corrupted (auth rules 2.x, 3). */
export type Corruption =
  /** An auth event the selection picks is left out of `auth_events`. */
  | 'drop'
  /** Two auth events of the same type and state key (an older one too). */
  | 'dup'
  /** An auth event the selection does not pick (a join rules event on a message...). */
  | 'extra'
  /** An auth event of another room in place of one of ours (Synapse checks `room_id`). */
  | 'foreign'
  /** One of the auth events was itself rejected. */
  | 'rejected'
  /** An older state event in place of the current one (valid per rule 2). */
  | 'stale'
  /** v12: the create event listed in `auth_events` (it is implied by the room ID). */
  | 'create_listed'
  /** An auth event the event names is not supplied: the request is refused. */
  | 'unsupplied'
  /** Supplied events the event does not name (one marked rejected): no effect. */
  | 'extra_supplied';

/** What a step sends. Numbers are choices, taken modulo the options. */
export type StepBody =
  | { readonly kind: 'message'; readonly type: string; readonly body: string }
  | { readonly kind: 'state'; readonly type: string; readonly stateKey: number; readonly content: JsonObject }
  | {
      readonly kind: 'member';
      /** For applied steps: which change (invite, join, leave, kick, ban, unban, knock). */
      readonly action: number;
      readonly membership: JsonValue | undefined;
      readonly self: boolean;
      readonly extra: JsonObject;
    }
  | {
      /** A user from outside the room knocks or joins, maybe authorised by someone (v8 restricted joins). */
      readonly kind: 'outsider';
      readonly knock: boolean;
      readonly authoriser: 'member' | 'creator' | 'outsider' | 'none' | 'number';
    }
  | {
      readonly kind: 'creator_join';
      readonly prev: 'create' | 'create_and_last' | 'last';
      readonly stateKey: number;
    }
  | {
      readonly kind: 'power_levels';
      /** Probes send this. */
      readonly content: JsonObject;
      /** Applied steps send this, with the creator's own level added. */
      readonly applied: JsonObject;
    }
  | { readonly kind: 'join_rules'; readonly content: JsonObject }
  | { readonly kind: 'third_party_invite'; readonly keys: TpiKeys; readonly token: number }
  | { readonly kind: 'tpi_invite'; readonly variant: TpiVariant; readonly token: number }
  | { readonly kind: 'aliases'; readonly stateKey: 'own' | 'other' | 'empty' | 'none' }
  | {
      readonly kind: 'redaction';
      readonly redacts: 'event' | 'missing' | 'unknown' | 'number';
      readonly idDomain: 'sender' | 'other';
    }
  | { readonly kind: 'create'; readonly variant: CreateVariant }
  | {
      /** An event from a sender of an odd form (no server name, a port, no sigil). */
      readonly kind: 'odd_sender';
      readonly type: 'm.room.message' | 'm.room.aliases' | 'm.room.topic' | 'm.room.member';
      readonly sender: number;
    };

/** Which keys an `m.room.third_party_invite` event names. */
export type TpiKeys = 'public_key' | 'public_keys' | 'both' | 'garbage_first' | 'short_first' | 'none';

/** How a third-party invite's `signed` block is made. */
export type TpiVariant =
  | 'good'
  | 'good_other_key'
  | 'stranger_key'
  | 'mxid_mismatch'
  | 'unknown_token'
  | 'not_ed25519'
  | 'bad_then_good'
  | 'good_then_bad'
  | 'no_mxid'
  | 'no_signatures'
  | 'no_token'
  | 'signed_not_object'
  | 'not_object';

/** A deliberately odd create event (auth rule 1). */
export type CreateVariant =
  | 'ok'
  | 'prev_events'
  | 'room_id_domain'
  | 'room_version_unknown'
  | 'room_version_other'
  | 'room_version_number'
  | 'no_creator'
  | 'creator_number'
  | 'additional_creators_ok'
  | 'additional_creators_not_list'
  | 'additional_creators_number'
  | 'additional_creators_invalid'
  | 'additional_creators_empty_localpart'
  | 'additional_creators_long'
  | 'federate_false'
  | 'state_key_nonempty'
  | 'not_state';

/** One step of a room: an event to send, applied to the room or only checked. */
export interface Step {
  readonly apply: boolean;
  /** Who sends it (probes: any user; applied steps choose among eligible users). */
  readonly sender: number;
  /** Whom a membership change targets, or which event a redaction redacts. */
  readonly target: number;
  readonly body: StepBody;
  readonly corruption: Corruption | null;
  /** Picks within a corruption (which auth event...). */
  readonly corruptionPick: number;
}

/** A generated room: its version, its create event's content, its steps. */
export interface RoomScript {
  readonly version: string;
  /** `m.federate` in the create event (`undefined`: absent). */
  readonly federate: JsonValue | undefined;
  /** v12: the create event's `additional_creators`. */
  readonly additionalCreators: readonly string[];
  /** Whether the create event names its room version in `content.room_version`. */
  readonly roomVersionField: boolean;
  /** The join rule the room starts with. */
  readonly joinRule: string;
  /** The invite level of the first power levels (also the level to authorise restricted joins). */
  readonly inviteLevel: number;
  /** Users the creator invites at the start (who then join if they may). */
  readonly members: readonly string[];
  /**
   * More levels of the first power levels event. In v1–v9 they may be
   * strings, read with Python's `int()` wherever Synapse needs them; in
   * v1–v5 floats too.
   */
  readonly setupLevels: JsonObject;
  readonly steps: readonly Step[];
}

/**
 * Strings Python's `int()` reads as power levels (v1–v9): surrounding
 * Unicode whitespace, a sign, single underscores between digits, any
 * Unicode decimal digits (Arabic-Indic, fullwidth), leading zeros.
 */
const READABLE_LEVELS: JsonValue[] = [
  ' +0100 ',
  '50',
  '0',
  '-5',
  '+7',
  ' 7 ',
  '-0',
  '00',
  '1_0',
  '0_0',
  '\t50\n',
  '\u00a050',
  '\u300075\u2003',
  '\u0661\u0660',
  '\uff11\uff12',
  '\u0665_\u0660',
];

/** Strings `int()` refuses (Synapse then raises: the event is rejected). */
const UNREADABLE_LEVELS: JsonValue[] = [
  '50.9',
  'abc',
  '',
  ' ',
  '0x10',
  '1__0',
  '_10',
  '10_',
  '+-1',
  '5 0',
  '1e2',
  '\u200b50',
  '\u00b2',
];

/**
 * A power level value as rooms of the version hold them.
 *
 * Spec: v1–v9 power levels may be strings Synapse reads with Python's `int()`
 * (`" +0100 "` is 100, `"1_0"` is 10, `"50.9"` fails), and v1–v5 events may
 * hold floats (`int(50.9)` is 50) and integers of any size; v10 (MSC3667)
 * requires integers in power levels events, though nothing stops an auth
 * event of an older shape being handed over.
 *
 * @param rules - the room version.
 * @param dirty - also values that no version accepts (booleans, null, arrays,
 *   unreadable strings), and huge levels.
 */
export function powerLevelValue(rules: RoomVersionRules, dirty: boolean): fc.Arbitrary<JsonValue> {
  const options: fc.WeightedArbitrary<JsonValue>[] = [
    { arbitrary: fc.constantFrom<JsonValue>(0, 10, 50, 99, 100, -1), weight: 8 },
    { arbitrary: fc.integer({ min: -10, max: 100 }), weight: 4 },
  ];
  if (!rules.auth.integerPowerLevels) {
    options.push({ arbitrary: fc.constantFrom<JsonValue>(...READABLE_LEVELS), weight: 3 });
  }
  if (rules.json.numbers === 'legacy') {
    const odd: JsonValue[] = [new JsonFloat(50.9), new JsonFloat(100), new JsonFloat(-0.5), 2n ** 70n];
    options.push({ arbitrary: fc.constantFrom<JsonValue>(...odd), weight: 2 });
  }
  if (dirty) {
    options.push(
      { arbitrary: fc.constantFrom<JsonValue>(101, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER), weight: 2 },
      { arbitrary: fc.constantFrom<JsonValue>(true, false, null, [], {}), weight: 2 },
      { arbitrary: fc.constantFrom<JsonValue>(...UNREADABLE_LEVELS, '50', ' +0100 '), weight: 2 },
    );
    if (rules.json.numbers === 'legacy')
      options.push({ arbitrary: fc.constant<JsonValue>(new JsonFloat(1e20)), weight: 1 });
  }
  return fc.oneof(...options);
}

/**
 * Power levels content for probes: any of the keys, values of
 * {@link powerLevelValue}, `users` maps of up to 40 users, `events` and
 * `notifications` maps. Half are dirty: odd values, keys of `users` that are
 * not user IDs, maps that are not objects.
 */
export function probePowerLevels(rules: RoomVersionRules): fc.Arbitrary<JsonObject> {
  const content = (dirty: boolean) => {
    const level = powerLevelValue(rules, dirty);
    const userKey = fc.oneof(
      { arbitrary: fc.constantFrom(...USERS), weight: 6 },
      { arbitrary: fc.constantFrom(...MANY_USERS), weight: 3 },
      ...(dirty ? [{ arbitrary: fc.constantFrom(...NOT_USER_IDS), weight: 1 }] : []),
    );
    const eventType = fc.constantFrom(
      'm.room.message',
      'm.room.power_levels',
      'm.room.name',
      'm.room.topic',
      'm.room.redaction',
      'com.example.state',
      'm.room.join_rules',
    );
    const map = (keys: fc.Arbitrary<string>, maxKeys: number) =>
      fc.oneof(
        { arbitrary: fc.dictionary(keys, level, { maxKeys, noNullPrototype: true }), weight: 10 },
        ...(dirty ? [{ arbitrary: fc.constantFrom<JsonValue>([], 'x'), weight: 1 }] : []),
      );
    return fc.record(
      {
        users: map(userKey, 40),
        users_default: level,
        events_default: level,
        state_default: level,
        ban: level,
        kick: level,
        redact: level,
        invite: level,
        events: map(eventType, 4),
        notifications: map(fc.constantFrom('room', 'other'), 2),
      },
      { requiredKeys: [] },
    ) as fc.Arbitrary<JsonObject>;
  };
  return fc.oneof(content(false), content(true));
}

/** The odd levels of a room's first power levels event (see {@link RoomScript.setupLevels}). */
function setupLevels(rules: RoomVersionRules): fc.Arbitrary<JsonObject> {
  const options: JsonValue[] = [50, 0];
  // Only strings int() reads: with an unreadable level (which a first power
  // levels event may hold) the room could never change its power levels.
  // (Not " +0100 ": nobody but the creator gets 100, see appliedPowerLevels.)
  if (!rules.auth.integerPowerLevels) options.push(...READABLE_LEVELS.filter((v) => v !== ' +0100 '));
  if (rules.json.numbers === 'legacy') options.push(new JsonFloat(50.9), new JsonFloat(-0.0));
  const level = fc.constantFrom(...options);
  const users = fc.dictionary(fc.constantFrom('@bob:a.example', '@carol:b.example'), level, {
    maxKeys: 2,
    noNullPrototype: true,
  });
  return fc.oneof(
    { arbitrary: fc.constant<JsonObject>({}), weight: 2 },
    {
      arbitrary: fc.record(
        { kick: level, redact: level, ban: level, users_default: level, users },
        { requiredKeys: [] },
      ),
      weight: 1,
    },
  ) as fc.Arbitrary<JsonObject>;
}

/**
 * Power levels content for an applied step, sent by the creator: every level
 * at most 99 (so that the creator, at 100, keeps power over everyone and can
 * change everything: spec auth rule 10.4–10.5), integers or, in v1–v9,
 * strings `int()` reads. The creator's own entry is added by the player.
 */
export function appliedPowerLevels(rules: RoomVersionRules): fc.Arbitrary<JsonObject> {
  const level = fc.oneof(
    { arbitrary: fc.constantFrom<JsonValue>(0, 10, 25, 50, 75, 99), weight: 6 },
    {
      arbitrary: rules.auth.integerPowerLevels
        ? fc.constant<JsonValue>(50)
        : fc.constantFrom<JsonValue>('50', ' 25 ', '+0'),
      weight: 1,
    },
  );
  const users = fc.dictionary(fc.constantFrom(...USERS.slice(1), ...MANY_USERS.slice(0, 10)), level, {
    maxKeys: 8,
    noNullPrototype: true,
  });
  return fc.record(
    {
      users,
      users_default: fc.constantFrom<JsonValue>(0, 0, 10),
      events_default: fc.constantFrom<JsonValue>(0, 0, 10, 50),
      state_default: level,
      ban: level,
      kick: level,
      redact: level,
      invite: level,
      events: fc.dictionary(
        fc.constantFrom('m.room.name', 'm.room.topic', 'm.room.message', 'm.room.redaction'),
        level,
        {
          maxKeys: 3,
          noNullPrototype: true,
        },
      ),
      notifications: fc.record({ room: level }),
    },
    { requiredKeys: ['users'] },
  ) as fc.Arbitrary<JsonObject>;
}

/**
 * Join rules content: the rules of every version (spec: `public`, `invite`,
 * v7 `knock`, v8 `restricted`, v10 `knock_restricted`), `private` (in the
 * spec's enum, never allowed to join by the auth rules), garbage, and no
 * `join_rule` at all (Synapse then assumes `invite`).
 */
export function joinRulesContent(): fc.Arbitrary<JsonObject> {
  const rule = fc.oneof(
    {
      arbitrary: fc.constantFrom<JsonValue>('public', 'invite', 'knock', 'restricted', 'knock_restricted'),
      weight: 10,
    },
    { arbitrary: fc.constantFrom<JsonValue>('private', 'garbage', 'PUBLIC', 5, null), weight: 2 },
  );
  const allow = fc.constant<JsonValue>([{ type: 'm.room_membership', room_id: '!other:a.example' }]);
  return fc.record({ join_rule: rule, allow }, { requiredKeys: [] }) as fc.Arbitrary<JsonObject>;
}

const userChoice = fc.nat({ max: 1000 });

function stepBody(rules: RoomVersionRules): fc.Arbitrary<StepBody> {
  const body = <T extends StepBody>(a: fc.Arbitrary<T>, weight: number) => ({ arbitrary: a, weight });
  const memberships = fc.oneof(
    { arbitrary: fc.constantFrom<JsonValue | undefined>('join', 'invite', 'leave', 'ban', 'knock'), weight: 12 },
    { arbitrary: fc.constantFrom<JsonValue | undefined>('foo', 5, undefined), weight: 1 },
  );
  const memberExtra = fc.record(
    {
      reason: fc.constant<JsonValue>('because'),
      displayname: fc.constant<JsonValue>('Someone'),
      join_authorised_via_users_server: fc.oneof(
        { arbitrary: fc.constantFrom<JsonValue>(...USERS), weight: 5 },
        { arbitrary: fc.constantFrom<JsonValue>(5, '@nobody:z.example'), weight: 1 },
      ),
    },
    { requiredKeys: [] },
  ) as fc.Arbitrary<JsonObject>;
  return fc.oneof(
    body(
      fc.record({
        kind: fc.constant('message' as const),
        type: fc.constantFrom('m.room.message', 'm.room.message', 'com.example.event', 'm.room.encrypted'),
        body: fc.constantFrom('hi', 'hello'),
      }),
      5,
    ),
    body(
      fc.record({
        kind: fc.constant('state' as const),
        type: fc.constantFrom('m.room.topic', 'm.room.name', 'com.example.state', 'm.room.history_visibility'),
        stateKey: fc.nat({ max: 1000 }),
        content: fc.constant<JsonObject>({ topic: 'x', name: 'y' }),
      }),
      4,
    ),
    body(
      fc.record({
        kind: fc.constant('member' as const),
        action: fc.nat({ max: 1000 }),
        membership: memberships,
        self: fc.boolean(),
        extra: memberExtra,
      }),
      14,
    ),
    body(
      fc.record({
        kind: fc.constant('outsider' as const),
        knock: fc.boolean(),
        authoriser: fc.constantFrom(
          'member' as const,
          'member' as const,
          'creator' as const,
          'outsider' as const,
          'none' as const,
          'number' as const,
        ),
      }),
      3,
    ),
    body(
      fc.record({
        kind: fc.constant('creator_join' as const),
        prev: fc.constantFrom('create' as const, 'create' as const, 'create_and_last' as const, 'last' as const),
        stateKey: userChoice,
      }),
      1,
    ),
    body(
      fc.record({
        kind: fc.constant('power_levels' as const),
        content: probePowerLevels(rules),
        applied: appliedPowerLevels(rules),
      }),
      5,
    ),
    body(fc.record({ kind: fc.constant('join_rules' as const), content: joinRulesContent() }), 3),
    body(
      fc.record({
        kind: fc.constant('third_party_invite' as const),
        keys: fc.constantFrom<TpiKeys>(
          'public_key',
          'public_keys',
          'both',
          'both',
          'garbage_first',
          'short_first',
          'none',
        ),
        token: fc.nat({ max: 3 }),
      }),
      2,
    ),
    body(
      fc.record({
        kind: fc.constant('tpi_invite' as const),
        variant: fc.oneof(
          { arbitrary: fc.constantFrom<TpiVariant>('good', 'good_other_key'), weight: 6 },
          {
            arbitrary: fc.constantFrom<TpiVariant>(
              'stranger_key',
              'mxid_mismatch',
              'unknown_token',
              'not_ed25519',
              'bad_then_good',
              'good_then_bad',
              'no_mxid',
              'no_signatures',
              'no_token',
              'signed_not_object',
              'not_object',
            ),
            weight: 6,
          },
        ),
        token: fc.nat({ max: 3 }),
      }),
      3,
    ),
    body(
      fc.record({
        kind: fc.constant('aliases' as const),
        stateKey: fc.constantFrom('own' as const, 'own' as const, 'other' as const, 'empty' as const, 'none' as const),
      }),
      2,
    ),
    body(
      fc.record({
        kind: fc.constant('redaction' as const),
        redacts: fc.constantFrom(
          'event' as const,
          'event' as const,
          'missing' as const,
          'unknown' as const,
          'number' as const,
        ),
        idDomain: fc.constantFrom('sender' as const, 'sender' as const, 'other' as const),
      }),
      3,
    ),
    body(
      fc.record({
        kind: fc.constant('odd_sender' as const),
        type: fc.constantFrom(
          'm.room.message' as const,
          'm.room.aliases' as const,
          'm.room.topic' as const,
          'm.room.member' as const,
        ),
        sender: fc.nat({ max: 1000 }),
      }),
      1,
    ),
    body(
      fc.record({
        kind: fc.constant('create' as const),
        variant: fc.constantFrom<CreateVariant>(
          'ok',
          'prev_events',
          'room_id_domain',
          'room_version_unknown',
          'room_version_other',
          'room_version_number',
          'no_creator',
          'creator_number',
          'additional_creators_ok',
          'additional_creators_not_list',
          'additional_creators_number',
          'additional_creators_invalid',
          'additional_creators_empty_localpart',
          'additional_creators_long',
          'federate_false',
          'state_key_nonempty',
          'not_state',
        ),
      }),
      2,
    ),
  );
}

const corruption: fc.Arbitrary<Corruption | null> = fc.oneof(
  { arbitrary: fc.constant(null), weight: 7 },
  {
    arbitrary: fc.constantFrom<Corruption>(
      'drop',
      'drop',
      'dup',
      'extra',
      'foreign',
      'rejected',
      'stale',
      'create_listed',
      'unsupplied',
      'extra_supplied',
    ),
    weight: 3,
  },
);

/**
 * A room of the version: create event options and `steps` steps, about a
 * third of them applied to the room.
 *
 * `m.federate` is usually absent, sometimes `false`, and rarely another
 * value: Synapse treats anything but `true` as unfederatable (it compares
 * with `is True`), where the spec only names `false`.
 */
export function roomScript(version: string, steps: { min: number; max: number }): fc.Arbitrary<RoomScript> {
  const rules = getRoomVersion(version);
  const step: fc.Arbitrary<Step> = fc.record({
    apply: fc.oneof({ arbitrary: fc.constant(true), weight: 2 }, { arbitrary: fc.constant(false), weight: 3 }),
    sender: userChoice,
    target: userChoice,
    body: stepBody(rules),
    corruption,
    corruptionPick: fc.nat({ max: 1000 }),
  });
  return fc.record({
    version: fc.constant(version),
    federate: fc.oneof(
      { arbitrary: fc.constant(undefined), weight: 20 },
      { arbitrary: fc.constantFrom<JsonValue>(false, true), weight: 3 },
      { arbitrary: fc.constantFrom<JsonValue>('false', 0, null, 'true'), weight: 1 },
    ),
    additionalCreators: rules.auth.privilegedCreators
      ? fc.oneof(
          { arbitrary: fc.constant<string[]>([]), weight: 2 },
          { arbitrary: fc.subarray(['@carol:b.example', '@bob:a.example'], { minLength: 1 }), weight: 1 },
        )
      : fc.constant<string[]>([]),
    roomVersionField: fc.boolean(),
    joinRule: fc.constantFrom(
      'public',
      'public',
      'public',
      'invite',
      'invite',
      'knock',
      'restricted',
      'knock_restricted',
    ),
    inviteLevel: fc.constantFrom(0, 0, 50),
    setupLevels: setupLevels(rules),
    members: fc.subarray(USERS.slice(1)),
    steps: fc.array(step, { minLength: steps.min, maxLength: steps.max }),
  });
}

// Playing a script: building the events.

/** What {@link Room.build} makes an event of. */
export interface BuildFields {
  readonly type: string;
  readonly sender: string;
  readonly state_key?: string;
  readonly content: JsonObject;
  /** Top-level `redacts` (v1–v10). */
  readonly redacts?: JsonValue;
  /** Default: the room's last event. */
  readonly prev?: readonly RoomEvent[];
  /** Default: the selection from the current state. */
  readonly auth?: readonly RoomEvent[];
  /** v1–v2: the server of the event ID (default: the sender's). */
  readonly idDomain?: string;
  /** v12: an explicit `auth_events` entry for the create event. */
  readonly listCreate?: boolean;
  /** Another `room_id` (`null`: none, as v12 create events have). */
  readonly roomId?: string | null;
}

/**
 * A room being played: the create event, the events applied so far, the
 * current state and every earlier state event (for stale and duplicate auth
 * events).
 */
export class Room {
  readonly rules: RoomVersionRules;
  readonly roomId: string;
  readonly create: RoomEvent;
  /** v12 (MSC4289): the create event's sender and `additional_creators`. */
  readonly creators: readonly string[];
  /** Whether servers other than the creator's may take part (`m.federate`). */
  readonly federates: boolean;
  /** Every applied event, oldest first (the create event first). */
  readonly events: RoomEvent[] = [];
  private readonly current = new Map<string, RoomEvent>();
  private readonly past = new Map<string, RoomEvent[]>();
  private serial = 0;
  private readonly tag: string;

  /**
   * @param rules - the room version.
   * @param tag - unique among the rooms of a corpus: it goes into v1–v11
   *   room IDs and v1–v2 event IDs, and the create event's timestamp.
   * @param createContent - the create event's content.
   */
  constructor(rules: RoomVersionRules, tag: string, createContent: JsonObject) {
    this.rules = rules;
    this.tag = tag;
    const v12 = rules.eventFormat.roomIdIsCreateEventHash;
    const fields: BuildFields = {
      type: 'm.room.create',
      sender: CREATOR,
      state_key: '',
      content: createContent,
      prev: [],
      auth: [],
    };
    const placeholder = v12 ? undefined : `!${tag}:${domainOf(CREATOR)}`;
    this.create = this.assemble(fields, placeholder);
    // v12 (MSC4291): the room ID is the create event's ID with "!" for "$".
    this.roomId = v12 ? `!${this.create.id.slice(1)}` : (placeholder as string);
    const additional = createContent.additional_creators;
    this.creators = [CREATOR, ...(Array.isArray(additional) ? additional.filter((u) => typeof u === 'string') : [])];
    this.federates = createContent['m.federate'] === undefined || createContent['m.federate'] === true;
    this.apply(this.create);
  }

  /** The current state event of a type and state key. */
  state(type: string, stateKey: string): RoomEvent | undefined {
    return this.current.get(stateKeyOf(type, stateKey));
  }

  /** A user's current membership, if any. */
  membership(user: string): JsonValue | undefined {
    const content = this.state('m.room.member', user)?.event.content as JsonObject | undefined;
    return content?.membership;
  }

  /** The current join rule (`undefined` without a join rules event). */
  joinRule(): JsonValue | undefined {
    const content = this.state('m.room.join_rules', '')?.event.content as JsonObject | undefined;
    // A join rules event without `join_rule` counts as `invite` in Synapse;
    // one with `join_rule: null` matches no rule at all.
    if (content === undefined) return undefined;
    return 'join_rule' in content ? content.join_rule : 'invite';
  }

  /** Every current state event. */
  currentState(): RoomEvent[] {
    return [...this.current.values()];
  }

  /** Earlier (replaced) state events of a type and state key, oldest first. */
  replaced(type: string, stateKey: string): RoomEvent[] {
    return this.past.get(stateKeyOf(type, stateKey)) ?? [];
  }

  /** The last applied event. */
  last(): RoomEvent {
    return this.events.at(-1) as RoomEvent;
  }

  /** Whether the server of a user may take part (`m.federate`). */
  allowed(user: string): boolean {
    return this.federates || domainOf(user) === domainOf(CREATOR);
  }

  /**
   * The auth events the spec's selection picks for an event from the
   * current state (server-server API, "Auth events selection": the create
   * event but from v12, the power levels, the sender's membership; for
   * member events the target's membership, the join rules, a third-party
   * invite, a restricted join's authorising user). Events the selection
   * cannot even be computed for (no membership...) get the create event,
   * power levels and sender membership.
   */
  selectAuthEvents(fields: Pick<BuildFields, 'type' | 'sender' | 'state_key' | 'content'>): RoomEvent[] {
    let keys: (readonly [string, string])[];
    try {
      keys = authTypesForEvent(fields as unknown as JsonObject, this.rules);
    } catch {
      keys = [
        ...(this.rules.eventFormat.roomIdIsCreateEventHash ? [] : [['m.room.create', ''] as const]),
        ['m.room.power_levels', ''] as const,
        ['m.room.member', fields.sender] as const,
      ];
    }
    return keys.map(([t, k]) => this.state(t, k)).filter((e): e is RoomEvent => e !== undefined);
  }

  /** Builds an event on the current state (not applied). */
  build(fields: BuildFields): RoomEvent {
    return this.assemble(fields, fields.roomId === undefined ? this.roomId : (fields.roomId ?? undefined));
  }

  private assemble(fields: BuildFields, roomId: string | undefined): RoomEvent {
    const rules = this.rules;
    const opaque = rules.eventFormat.eventIdFormat === 'opaque';
    const ref = (e: RoomEvent): JsonValue =>
      opaque ? [e.id, { sha256: encodeBase64(referenceHash(e.event, rules)) }] : e.id;
    const prev = fields.prev ?? [this.last()];
    const auth = [...(fields.auth ?? this.selectAuthEvents(fields))];
    // v12: the create event is implied by the room ID, never listed (spec
    // v12 auth rule 2.2: it is not among the selected auth events).
    const listed = auth.filter((e) => !(rules.eventFormat.roomIdIsCreateEventHash && e === this.create));
    if (fields.listCreate) listed.push(this.create);
    this.serial += 1;
    const depth = prev.reduce((d, e) => Math.max(d, (e.event.depth as number) + 1), 1);
    const event: JsonObject = {
      auth_events: listed.map(ref),
      content: fields.content,
      depth,
      hashes: { sha256: '' },
      origin_server_ts: 1_700_000_000_000 + this.serial,
      prev_events: prev.map(ref),
      sender: fields.sender,
      signatures: {},
      type: fields.type,
    };
    if (roomId !== undefined) event.room_id = roomId;
    if (fields.state_key !== undefined) event.state_key = fields.state_key;
    if (fields.redacts !== undefined) event.redacts = fields.redacts;
    if (opaque) event.event_id = `$${this.tag}e${this.serial}:${fields.idDomain ?? domainOf(fields.sender)}`;
    event.hashes = { sha256: encodeBase64(contentHash(event, rules)) };
    return { event, id: eventId(event, rules) };
  }

  /** Applies an event to the room: it becomes the last event, and state. */
  apply(e: RoomEvent): void {
    this.events.push(e);
    const stateKey = e.event.state_key;
    if (typeof stateKey !== 'string') return;
    const key = stateKeyOf(e.event.type as string, stateKey);
    const old = this.current.get(key);
    if (old !== undefined) this.past.set(key, [...(this.past.get(key) ?? []), old]);
    this.current.set(key, e);
  }
}

/** The `m.room.create` content of a script's room. */
function createContent(script: RoomScript, rules: RoomVersionRules): JsonObject {
  const content: JsonObject = {};
  // v1–v10 require `creator` (auth rule 1.4); v11 (MSC2175) dropped it.
  if (!rules.auth.implicitRoomCreator) content.creator = CREATOR;
  if (script.roomVersionField) content.room_version = rules.id;
  if (script.federate !== undefined) content['m.federate'] = script.federate;
  if (script.additionalCreators.length > 0) content.additional_creators = [...script.additionalCreators];
  return content;
}

/** The case's third-party invite signing: the `signed` block of an invite. */
function tpiSigned(variant: TpiVariant, mxid: string, token: string, keyIndex: number): JsonValue {
  const base: JsonObject = { mxid, token };
  const sign = (obj: JsonObject, server: string, keyId: string, key: SigningKey) => signJson(obj, server, keyId, key);
  const good = TPI_KEYS[keyIndex % TPI_KEYS.length] as SigningKey;
  switch (variant) {
    case 'good':
      return sign(base, ID_SERVER, 'ed25519:0', good);
    case 'good_other_key':
      return sign(base, ID_SERVER, 'ed25519:0', TPI_KEYS[(keyIndex + 1) % TPI_KEYS.length] as SigningKey);
    case 'unknown_token':
      return sign(base, ID_SERVER, 'ed25519:0', good);
    case 'stranger_key':
      return sign(base, ID_SERVER, 'ed25519:0', STRANGER_KEY);
    case 'mxid_mismatch':
      return sign({ mxid: '@someone:else.example', token }, ID_SERVER, 'ed25519:0', good);
    case 'not_ed25519': {
      const s = sign(base, ID_SERVER, 'ed25519:0', good);
      const sigs = (s.signatures as JsonObject)[ID_SERVER] as JsonObject;
      return { ...s, signatures: { [ID_SERVER]: { 'curve25519:0': sigs['ed25519:0'] as JsonValue } } };
    }
    case 'bad_then_good': {
      // Synapse tries only the first ed25519 signature (in key order) with
      // each public key: "aaa.example" sorts before "id.example".
      const s = sign(sign(base, ID_SERVER, 'ed25519:0', good), 'aaa.example', 'ed25519:0', STRANGER_KEY);
      return s;
    }
    case 'good_then_bad':
      return sign(sign(base, ID_SERVER, 'ed25519:0', good), 'zzz.example', 'ed25519:0', STRANGER_KEY);
    case 'no_mxid':
      return sign({ token }, ID_SERVER, 'ed25519:0', good);
    case 'no_token':
      return sign({ mxid }, ID_SERVER, 'ed25519:0', good);
    case 'no_signatures':
      return base;
    case 'signed_not_object':
      return 'signed';
    case 'not_object':
      return 'unused';
  }
}

/** Content of an `m.room.third_party_invite` event naming the given keys. */
function tpiContent(keys: TpiKeys): JsonObject {
  const [k1, k2] = TPI_PUBLIC_KEYS as [string, string];
  const content: JsonObject = { display_name: 'i...@example.com', key_validity_url: VALIDITY_URL };
  const list = (k: string) => [{ public_key: k, key_validity_url: VALIDITY_URL }];
  switch (keys) {
    case 'public_key':
      content.public_key = k1;
      break;
    case 'public_keys':
      content.public_keys = list(k2);
      break;
    case 'both':
      content.public_key = k1;
      content.public_keys = list(k2);
      break;
    case 'garbage_first':
      // Not base64: Synapse's decoder raises outside the loop's except.
      content.public_key = '!!not base64!';
      content.public_keys = list(k2);
      break;
    case 'short_first':
      content.public_key = encodeBase64(new Uint8Array(16));
      content.public_keys = list(k2);
      break;
    case 'none':
      break;
  }
  return content;
}

/** The create event content of a create-event probe (auth rule 1). */
function createProbe(room: Room, variant: CreateVariant): BuildFields {
  const rules = room.rules;
  const content: JsonObject = { ...(room.create.event.content as JsonObject) };
  // v12 create events have no room ID (MSC4291); before, the room ID's
  // server must be the sender's (auth rule 1.2).
  const roomId = rules.eventFormat.roomIdIsCreateEventHash
    ? null
    : variant === 'room_id_domain'
      ? room.roomId.replace(/:.*/, ':b.example')
      : room.roomId;
  const fields = { type: 'm.room.create', sender: CREATOR, state_key: '', prev: [] as RoomEvent[], auth: [], roomId };
  switch (variant) {
    case 'ok':
      break;
    case 'prev_events':
      return { ...fields, content, prev: [room.last()] };
    case 'room_id_domain':
      break; // the room ID above
    case 'room_version_unknown':
      content.room_version = '99';
      break;
    case 'room_version_other':
      content.room_version = rules.id === '1' ? '12' : '1';
      break;
    case 'room_version_number':
      content.room_version = 5;
      break;
    case 'no_creator':
      delete content.creator;
      break;
    case 'creator_number':
      content.creator = 5;
      break;
    case 'additional_creators_ok':
      content.additional_creators = ['@bob:a.example', '@erin:c.example'];
      break;
    case 'additional_creators_not_list':
      content.additional_creators = '@bob:a.example';
      break;
    case 'additional_creators_number':
      content.additional_creators = ['@bob:a.example', 5];
      break;
    case 'additional_creators_invalid':
      content.additional_creators = ['bob:a.example'];
      break;
    case 'additional_creators_empty_localpart':
      content.additional_creators = ['@:a.example', '@bob:bad_domain!'];
      break;
    case 'additional_creators_long':
      content.additional_creators = [`@${'b'.repeat(250)}:a.example`];
      break;
    case 'federate_false':
      content['m.federate'] = false;
      break;
    case 'state_key_nonempty':
      // Not the room's create event, but rule 1 is about the type: v12 wants
      // a room ID on any event but the create event (state key ""), and then
      // rejects one on an m.room.create.
      return { ...fields, content, state_key: 'x', roomId: room.roomId };
    case 'not_state': {
      const { state_key: _stateKey, ...rest } = fields;
      return { ...rest, content, roomId: room.roomId };
    }
  }
  return { ...fields, content };
}

/** A state key for a state probe: empty, the sender's, someone else's, or odd ones starting with "@". */
function stateKeyFor(sender: string, n: number): string {
  return pick(['', '', sender, '@bob:a.example', '@carol:b.example', '@', '@nocolon', `${sender}_x`, 'plain'], n);
}

/** A played room: the room as it ends, and the `check_auth` cases of its steps. */
export interface PlayedRoom {
  readonly room: Room;
  readonly cases: AuthCase[];
  /**
   * For each case, how many events the room had applied when the case's
   * event was built (`room.events.slice(0, n)` made the state it was built
   * on; an applied step's event is then `room.events[n]`).
   */
  readonly at: number[];
}

/**
 * Plays a script: returns the room and the `check_auth` cases of its steps.
 *
 * @param script - the room's script.
 * @param tag - unique per room of a corpus.
 * @param foreign - another room of the same version, for `foreign` corruptions.
 */
export function playRoom(script: RoomScript, tag: string, foreign?: Room): PlayedRoom {
  const rules = getRoomVersion(script.version);
  const room = new Room(rules, tag, createContent(script, rules));
  const cases: AuthCase[] = [];
  const at: number[] = [];
  const v12 = rules.eventFormat.roomIdIsCreateEventHash;

  const emit = (e: RoomEvent, supplied: readonly RoomEvent[], label: string, rejected?: string[]) => {
    // v12: every event but the create event itself (m.room.create with state
    // key "") names the create event through its room ID.
    const isCreate = e.event.type === 'm.room.create' && e.event.state_key === '';
    const all = v12 && !isCreate ? [room.create, ...supplied] : [...supplied];
    const unique = [...new Map(all.map((x) => [x.id, x])).values()];
    at.push(room.events.length);
    cases.push({
      room_version: rules.id,
      event: e.event,
      auth_events: unique.map((x) => x.event),
      ...(rejected === undefined ? {} : { rejected_auth_events: rejected }),
      label,
    });
  };
  const authOf = (fields: BuildFields) => fields.auth ?? room.selectAuthEvents(fields);

  // The room's first events, as Synapse's createRoom sends them: the
  // creator's join (allowed as the only event after the create: auth rule
  // 5.2.1), then power levels and join rules.
  const send = (fields: BuildFields, label: string) => {
    const e = room.build(fields);
    emit(e, authOf(fields), label);
    room.apply(e);
  };
  send({ type: 'm.room.member', sender: CREATOR, state_key: CREATOR, content: { membership: 'join' } }, 'setup/join');
  const creatorLevel = rules.auth.privilegedCreators ? {} : { [CREATOR]: 100 };
  send(
    {
      type: 'm.room.power_levels',
      sender: CREATOR,
      state_key: '',
      content: {
        users_default: 0,
        events_default: 0,
        state_default: 50,
        invite: script.inviteLevel,
        ...script.setupLevels,
        users: { ...creatorLevel, ...((script.setupLevels.users as JsonObject | undefined) ?? {}) },
      },
    },
    'setup/power_levels',
  );
  send(
    { type: 'm.room.join_rules', sender: CREATOR, state_key: '', content: { join_rule: script.joinRule } },
    'setup/join_rules',
  );
  // The first members: invited by the creator, then joining if the join rule lets them.
  for (const user of script.members) {
    if (!room.allowed(user)) continue;
    send(
      { type: 'm.room.member', sender: CREATOR, state_key: user, content: { membership: 'invite' } },
      'setup/invite',
    );
    const join = joinFor(room, user);
    if (join !== undefined) send({ type: 'm.room.member', sender: user, state_key: user, content: join }, 'setup/join');
  }

  for (const step of script.steps) {
    const planned = step.apply ? plan(room, step) : undefined;
    const fields = planned ?? probe(room, step);
    if (fields === undefined) continue;
    const label = `${step.body.kind}/${planned ? 'apply' : 'probe'}`;
    const e = room.build(fields);
    const auth = authOf(fields);
    emit(e, auth, label);
    if (step.corruption !== null && fields.type !== 'm.room.create') {
      corrupt(room, fields, auth, step, foreign, (c, supplied, rejected) =>
        emit(c, supplied, `${label}/${step.corruption}`, rejected),
      );
    }
    if (planned !== undefined) room.apply(e);
  }
  return { room, cases, at };
}

/**
 * The content of a join of `user` that the auth rules should allow (spec
 * auth rule 5.2: not banned, and the join rule `public`; or invited or
 * joined under `invite`, `knock` (v7) and `knock_restricted` (v10); or
 * `restricted` (v8) and `knock_restricted` with the creator authorising),
 * or `undefined` if there is none.
 */
function joinFor(room: Room, user: string): JsonObject | undefined {
  const auth = room.rules.auth;
  const current = room.joinRule();
  const rule = current === undefined ? 'invite' : current;
  const membership = room.membership(user);
  if (membership === 'ban' || !room.allowed(user)) return undefined;
  const member = membership === 'invite' || membership === 'join';
  const knockRestricted = rule === 'knock_restricted' && auth.knockRestrictedJoins;
  const restricted = (rule === 'restricted' && auth.restrictedJoins) || knockRestricted;
  const viaInvite = rule === 'invite' || (rule === 'knock' && auth.knocking) || knockRestricted;
  if (rule === 'public' || (viaInvite && member)) return { membership: 'join' };
  if (restricted)
    return member ? { membership: 'join' } : { membership: 'join', join_authorised_via_users_server: CREATOR };
  return undefined;
}

/**
 * The membership changes of applied steps, weighted so that rooms fill up:
 * the creator invites, kicks, bans and unbans; users join, leave and knock.
 */
const MEMBER_ACTIONS = [
  'invite',
  'invite',
  'invite',
  'join',
  'join',
  'join',
  'join',
  'leave',
  'kick',
  'ban',
  'unban',
  'knock',
  'knock',
] as const;

/**
 * An applied step: an event the auth rules should accept, or `undefined`
 * when the step has nothing sensible to do in the current state (it is then
 * sent as a probe).
 */
function plan(room: Room, step: Step): BuildFields | undefined {
  const rules = room.rules;
  const body = step.body;
  const creator = CREATOR;
  const member = (sender: string, target: string, content: JsonObject): BuildFields => ({
    type: 'm.room.member',
    sender,
    state_key: target,
    content,
  });
  const isCreator = (u: string) => room.creators.includes(u);
  const users = USERS.filter((u) => room.allowed(u));
  switch (body.kind) {
    case 'member': {
      const m = (u: string) => room.membership(u);
      const current = room.joinRule();
      const rule = current === undefined ? 'invite' : current;
      const choose = (list: string[]) => (list.length === 0 ? undefined : pick(list, step.target));
      switch (pick(MEMBER_ACTIONS, body.action)) {
        case 'invite': {
          const target = choose(users.filter((u) => m(u) !== 'join' && m(u) !== 'ban'));
          return target === undefined ? undefined : member(creator, target, { membership: 'invite' });
        }
        case 'join': {
          const target = choose(users.filter((u) => joinFor(room, u) !== undefined));
          return target === undefined ? undefined : member(target, target, joinFor(room, target) as JsonObject);
        }
        case 'leave': {
          const target = choose(
            users.filter((u) => !isCreator(u) && ['join', 'invite', 'knock'].includes(m(u) as string)),
          );
          return target === undefined ? undefined : member(target, target, { membership: 'leave' });
        }
        case 'kick': {
          const target = choose(
            users.filter((u) => !isCreator(u) && ['join', 'invite', 'knock'].includes(m(u) as string)),
          );
          return target === undefined ? undefined : member(creator, target, { membership: 'leave', reason: 'kicked' });
        }
        case 'ban': {
          const target = choose(users.filter((u) => !isCreator(u)));
          return target === undefined ? undefined : member(creator, target, { membership: 'ban' });
        }
        case 'unban': {
          const target = choose(users.filter((u) => m(u) === 'ban'));
          return target === undefined ? undefined : member(creator, target, { membership: 'leave' });
        }
        case 'knock': {
          const knockable =
            (rule === 'knock' && rules.auth.knocking) ||
            (rule === 'knock_restricted' && rules.auth.knockRestrictedJoins);
          if (!knockable) return undefined;
          const target = choose(users.filter((u) => !['join', 'invite', 'ban'].includes(m(u) as string)));
          return target === undefined ? undefined : member(target, target, { membership: 'knock' });
        }
      }
      return undefined;
    }
    case 'power_levels': {
      // Sent by the creator with every level below 100 (see appliedPowerLevels);
      // v12 creators may not be listed in `users` (auth rule 10.x, MSC4289).
      const content: JsonObject = { ...body.applied };
      const users: JsonObject = { ...(content.users as JsonObject) };
      content.users = users;
      for (const c of room.creators) delete users[c];
      if (!rules.auth.privilegedCreators)
        users[creator] = rules.auth.integerPowerLevels ? 100 : pick([100, ' +0100 ', '100'], step.target);
      return { type: 'm.room.power_levels', sender: creator, state_key: '', content };
    }
    case 'join_rules':
      return { type: 'm.room.join_rules', sender: creator, state_key: '', content: body.content };
    case 'third_party_invite':
      return {
        type: 'm.room.third_party_invite',
        sender: creator,
        state_key: `token${body.token}`,
        content: tpiContent(body.keys),
      };
    case 'tpi_invite': {
      const token = `token${body.token}`;
      const tpi = room.state('m.room.third_party_invite', token);
      if (tpi === undefined) return undefined;
      const target = pick(
        users.filter((u) => room.membership(u) !== 'ban' && room.membership(u) !== 'join'),
        step.target,
      );
      if (target === undefined) return undefined;
      const keys = tpi.event.content as JsonObject;
      // Keys Synapse cannot read stop it before it looks at the others (see
      // tpiContent): such invites are left to probes.
      if (keys.public_key === undefined && keys.public_keys === undefined) return undefined;
      if (keys.public_key !== undefined && keys.public_key !== TPI_PUBLIC_KEYS[0]) return undefined;
      const keyIndex = keys.public_keys === undefined ? 0 : 1;
      return member(tpi.event.sender as string, target, {
        membership: 'invite',
        third_party_invite: { display_name: 'i...@example.com', signed: tpiSigned('good', target, token, keyIndex) },
      });
    }
    case 'state':
      return { type: body.type, sender: creator, state_key: '', content: body.content };
    default:
      return undefined;
  }
}

/** A probe: a random event of the step's kind, sent by any user. */
function probe(room: Room, step: Step): BuildFields | undefined {
  const rules = room.rules;
  // Two thirds of probes come from members of the room, so that they get past
  // "the sender must be joined" (auth rule 6) to the rules after it; targets
  // are anyone.
  const joined = USERS.filter((u) => room.membership(u) === 'join');
  const anySender = step.sender % 3 === 0 || joined.length === 0 ? pick(USERS, step.sender) : pick(joined, step.sender);
  const sender = anySender;
  // Targets are anyone, now and then a user ID of an odd form.
  const other = step.target % 17 === 0 ? pick(ODD_SENDERS, step.target) : pick(USERS, step.target);
  const body = step.body;
  switch (body.kind) {
    case 'message':
      return { type: body.type, sender, content: { msgtype: 'm.text', body: body.body } };
    case 'state':
      return { type: body.type, sender, state_key: stateKeyFor(sender, body.stateKey), content: body.content };
    case 'member': {
      const content: JsonObject = { ...body.extra };
      if (body.membership !== undefined) content.membership = body.membership;
      // Joins and knocks of one's own mostly come from outside the room.
      const self = body.membership === 'join' || body.membership === 'knock' ? pick(USERS, step.sender) : sender;
      // A restricted join's authorising user must be joined, with the invite
      // level (auth rule 5.2.4 from v8): half the time, one who is joined.
      const authoriser = content.join_authorised_via_users_server;
      if (typeof authoriser === 'string' && USERS.includes(authoriser) && step.target % 2 === 0 && joined.length > 0) {
        content.join_authorised_via_users_server = pick(joined, step.target >> 1);
      }
      return { type: 'm.room.member', sender: body.self ? self : sender, state_key: body.self ? self : other, content };
    }
    case 'outsider': {
      const outsiders = USERS.filter((u) => !['join', 'invite', 'ban'].includes(room.membership(u) as string));
      const user = pick(outsiders.length > 0 ? outsiders : USERS, step.sender);
      if (body.knock) return { type: 'm.room.member', sender: user, state_key: user, content: { membership: 'knock' } };
      const members = joined.filter((u) => u !== CREATOR);
      const authoriser = {
        member: members.length > 0 ? pick(members, step.target) : CREATOR,
        creator: CREATOR,
        outsider: pick(outsiders.length > 0 ? outsiders : USERS, step.target),
        none: undefined,
        number: 5,
      }[body.authoriser];
      const content: JsonObject = { membership: 'join' };
      if (authoriser !== undefined) content.join_authorised_via_users_server = authoriser;
      return { type: 'm.room.member', sender: user, state_key: user, content };
    }
    case 'creator_join': {
      const target = body.stateKey % 2 === 0 ? CREATOR : pick(USERS, body.stateKey);
      const prev =
        body.prev === 'create'
          ? [room.create]
          : body.prev === 'create_and_last'
            ? [room.create, room.last()]
            : [room.last()];
      return { type: 'm.room.member', sender, state_key: target, content: { membership: 'join' }, prev };
    }
    case 'power_levels':
      return {
        type: 'm.room.power_levels',
        sender: step.sender % 2 === 0 ? CREATOR : sender,
        // Now and then not the room's power levels: Synapse compares it with
        // the state event of its own state key, and there is none.
        state_key: step.target % 13 === 0 ? 'x' : '',
        content: body.content,
      };
    case 'join_rules':
      return { type: 'm.room.join_rules', sender, state_key: '', content: body.content };
    case 'third_party_invite':
      return {
        type: 'm.room.third_party_invite',
        sender,
        state_key: `token${body.token}`,
        content: tpiContent(body.keys),
      };
    case 'tpi_invite': {
      const token = body.variant === 'unknown_token' ? 'token-unknown' : `token${body.token}`;
      const tpi = room.state('m.room.third_party_invite', token);
      // Mostly the third-party invite's sender, as the rules require (5.3.1.5).
      const from = step.sender % 4 === 0 || tpi === undefined ? sender : (tpi.event.sender as string);
      const keys = (tpi?.event.content ?? {}) as JsonObject;
      const keyIndex = keys.public_keys === undefined ? 0 : 1;
      const signed = tpiSigned(body.variant, other, token, keyIndex);
      const invite: JsonValue = body.variant === 'not_object' ? 'invite' : { display_name: 'i...@example.com', signed };
      return {
        type: 'm.room.member',
        sender: from,
        state_key: other,
        content: { membership: 'invite', third_party_invite: invite },
      };
    }
    case 'aliases': {
      const content = { aliases: [`#room:${domainOf(sender)}`] };
      const key = {
        own: domainOf(sender),
        other: domainOf(other) === domainOf(sender) ? 'z.example' : domainOf(other),
        empty: '',
      };
      if (body.stateKey === 'none') return { type: 'm.room.aliases', sender, content };
      return { type: 'm.room.aliases', sender, state_key: key[body.stateKey], content };
    }
    case 'redaction': {
      const target = pick(room.events, step.target);
      // Mostly users other than the creator, below the redact level, for the
      // v1–v2 rule on the event IDs' servers (auth rule 11 of v1).
      const members = joined.filter((u) => u !== CREATOR);
      const sender = step.sender % 4 !== 0 && members.length > 0 ? pick(members, step.sender) : anySender;
      const redacts: JsonValue | undefined = {
        event: target.id,
        missing: undefined,
        unknown: `$unknown:${domainOf(other)}`,
        number: 5,
      }[body.redacts];
      // v11 (MSC2174) moved `redacts` into the content.
      const inContent = rules.redaction.v11;
      const content: JsonObject = inContent && redacts !== undefined ? { redacts } : {};
      const idDomain =
        body.idDomain === 'other' ? (domainOf(sender) === 'b.example' ? 'c.example' : 'b.example') : undefined;
      return {
        type: 'm.room.redaction',
        sender,
        content,
        ...(inContent || redacts === undefined ? {} : { redacts }),
        ...(idDomain === undefined ? {} : { idDomain }),
      };
    }
    case 'create':
      return createProbe(room, body.variant);
    case 'odd_sender': {
      const odd = pick(ODD_SENDERS, body.sender);
      const domain = odd.includes(':') ? odd.slice(odd.indexOf(':') + 1) : '';
      switch (body.type) {
        case 'm.room.message':
          return { type: body.type, sender: odd, content: { msgtype: 'm.text', body: 'hi' } };
        case 'm.room.aliases':
          return { type: body.type, sender: odd, state_key: domain, content: { aliases: [] } };
        case 'm.room.topic':
          return { type: body.type, sender: odd, state_key: '', content: { topic: 't' } };
        case 'm.room.member':
          return { type: body.type, sender: odd, state_key: odd, content: { membership: 'join' } };
      }
    }
  }
}

/**
 * Adds a corrupted copy of a candidate event: its auth events changed as
 * the step's corruption says (spec auth rule 2, "considering the event's
 * auth_events": duplicates, entries the selection does not pick, rejected
 * entries, no create event, events of another room).  Does nothing when the corruption
 * does not apply.
 */
function corrupt(
  room: Room,
  fields: BuildFields,
  auth: readonly RoomEvent[],
  step: Step,
  foreign: Room | undefined,
  emit: (e: RoomEvent, supplied: readonly RoomEvent[], rejected?: string[]) => void,
): void {
  const v12 = room.rules.eventFormat.roomIdIsCreateEventHash;
  const n = step.corruptionPick;
  // What the event lists (v12: not the create event, which emit adds to the supplied ones).
  const listed = auth.filter((e) => e !== room.create);
  const rebuild = (newAuth: RoomEvent[], extra: Partial<BuildFields> = {}) =>
    room.build({ ...fields, auth: newAuth, ...extra });
  switch (step.corruption) {
    case 'drop': {
      if (auth.length === 0) return;
      const dropped = pick(auth, n);
      const rest = auth.filter((e) => e !== dropped);
      emit(rebuild(rest), rest);
      return;
    }
    case 'dup': {
      const target = pick(auth, n);
      if (target === undefined) return;
      const older = room.replaced(target.event.type as string, target.event.state_key as string).at(-1);
      const newAuth = [...auth, older ?? target];
      emit(rebuild(newAuth), newAuth);
      return;
    }
    case 'extra': {
      const selected = new Set(auth);
      const unexpected = room.currentState().filter((e) => !selected.has(e) && e !== room.create);
      if (unexpected.length === 0) return;
      const newAuth = [...auth, pick(unexpected, n)];
      emit(rebuild(newAuth), newAuth);
      return;
    }
    case 'foreign': {
      if (foreign === undefined || listed.length === 0) return;
      const replaced = pick(listed, n);
      const theirs =
        foreign.state(replaced.event.type as string, replaced.event.state_key as string) ??
        foreign.state('m.room.power_levels', '');
      if (theirs === undefined) return;
      const newAuth = auth.map((e) => (e === replaced ? theirs : e));
      emit(rebuild(newAuth), newAuth);
      return;
    }
    case 'rejected': {
      // v12: the create event too, which the event names through its room ID.
      const named = v12 ? [room.create, ...auth] : auth;
      if (named.length === 0) return;
      emit(room.build(fields), auth, [pick(named, n).id]);
      return;
    }
    case 'stale': {
      const staleable = auth.filter(
        (e) => room.replaced(e.event.type as string, e.event.state_key as string).length > 0,
      );
      if (staleable.length === 0) return;
      const target = pick(staleable, n);
      const history = room.replaced(target.event.type as string, target.event.state_key as string);
      const newAuth = auth.map((e) => (e === target ? pick(history, n) : e));
      emit(rebuild(newAuth), newAuth);
      return;
    }
    case 'create_listed': {
      if (!v12) return;
      emit(rebuild([...auth], { listCreate: true }), auth);
      return;
    }
    case 'unsupplied': {
      if (listed.length === 0) return;
      const missing = pick(listed, n);
      emit(
        room.build(fields),
        auth.filter((e) => e !== missing),
      );
      return;
    }
    case 'extra_supplied': {
      const selected = new Set(auth);
      const others = room.currentState().filter((e) => !selected.has(e) && e !== room.create);
      if (others.length === 0) return;
      const extra = pick(others, n);
      emit(room.build(fields), [...auth, extra], [extra.id]);
      return;
    }
    default:
      return;
  }
}

/**
 * A small public room of the version, created by the same user, whose
 * events stand in as "another room's" auth events.
 */
export function foreignRoom(version: string): Room {
  const rules = getRoomVersion(version);
  const content: JsonObject = rules.auth.implicitRoomCreator ? {} : { creator: CREATOR };
  const room = new Room(rules, 'foreign', content);
  const send = (fields: BuildFields) => room.apply(room.build(fields));
  send({ type: 'm.room.member', sender: CREATOR, state_key: CREATOR, content: { membership: 'join' } });
  send({
    type: 'm.room.power_levels',
    sender: CREATOR,
    state_key: '',
    content: {
      users: rules.auth.privilegedCreators ? { '@bob:a.example': 100 } : { [CREATOR]: 100, '@bob:a.example': 100 },
    },
  });
  send({ type: 'm.room.join_rules', sender: CREATOR, state_key: '', content: { join_rule: 'public' } });
  for (const u of USERS.slice(1))
    send({ type: 'm.room.member', sender: u, state_key: u, content: { membership: 'join' } });
  return room;
}

/**
 * `rooms` generated rooms of a version, played.
 *
 * @param version - the room version.
 * @param seed - the fast-check seed.
 * @param rooms - how many rooms.
 * @param steps - steps per room.
 */
export function playedRooms(
  version: string,
  seed: number,
  rooms: number,
  steps: { min: number; max: number },
): PlayedRoom[] {
  const foreign = foreignRoom(version);
  const scripts = fc.sample(roomScript(version, steps), { seed, numRuns: rooms });
  // Whatever the seed, every version gets rooms starting with each join rule
  // and an unfederatable room.
  const themed = scripts.map((script, i) => ({
    ...script,
    joinRule: pick(['public', 'invite', 'knock', 'restricted', 'knock_restricted', script.joinRule], i),
    // Synapse takes anything but `true` for unfederatable: a second room per
    // version has an odd `m.federate`.
    federate:
      i === 1 ? false : i === 2 ? pick<JsonValue>(['false', null, 0, 'true'], Number(version)) : script.federate,
  }));
  return themed.map((script, i) => playRoom(script, `r${seed}x${i}`, foreign));
}

/**
 * The `check_auth` cases of `rooms` generated rooms of a version (see
 * {@link playedRooms}).
 */
export function authCases(
  version: string,
  seed: number,
  rooms: number,
  steps: { min: number; max: number },
): AuthCase[] {
  return playedRooms(version, seed, rooms, steps).flatMap((r) => r.cases);
}
