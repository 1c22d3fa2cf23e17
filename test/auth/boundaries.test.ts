/**
 * Every comparison of the auth rules at its boundary (issue 16): a level at
 * the required level − 1, at it, and + 1, for each action of each room
 * version. Generated rooms rarely put a user exactly at a boundary, so a
 * rule that let `required − 1` through, or refused `required`, would pass
 * the generated differential runs; here each such slip flips a verdict.
 *
 * The expected verdict of each case is the spec's comparison ("Room
 * Versions", authorization rules: "greater than or equal to", "less
 * than", "higher than"), computed from the levels the case sets, never
 * from our output; the whole corpus is also put to the Synapse oracle,
 * which must give the same verdicts.
 */
import { describe, expect, it } from 'vitest';
import { type AuthRule, checkEventAuth } from '../../src/auth/index.js';
import type { JsonObject, JsonValue } from '../../src/canonicaljson/index.js';
import { getRoomVersion } from '../../src/roomversions/index.js';
import { partialPdu } from '../helpers.js';
import { askSynapse } from '../interop/oracle.js';
import { Room } from './room.js';

const ALL = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12'];
const from = (first: number) => ALL.filter((v) => Number(v) >= first);

const A = '@alice:a.org';
const B = '@bob:b.org';
const C = '@carol:c.org';
const D = '@dave:d.org';

/** The largest level an event can hold: Canonical JSON's largest integer, 2^53 − 1. */
const MAX = Number.MAX_SAFE_INTEGER;

/** The level every boundary is put at. */
const R = 50;
/** Below, at and above a required level. */
const AROUND = [R - 1, R, R + 1];

interface Case {
  readonly name: string;
  readonly version: string;
  readonly allowed: boolean;
  /** The rule that rejects it, when it is rejected. */
  readonly rule: AuthRule;
  /** What the rejection's reason says: which comparison failed. */
  readonly reason: RegExp;
  readonly request: JsonObject;
}

const CASES: Case[] = [];

/** `users` with alice at 100 before v12; from v12 the creator may not appear there. */
function users(v: string, others: JsonObject): JsonObject {
  return v === '12' ? others : { [A]: 100, ...others };
}

/** Alice's room (she created it and joined) with `levels` as its power levels and a public join rule. */
function room(v: string, levels: JsonObject, create: JsonObject = {}): Room {
  const r = new Room(v, A, create);
  r.member(A, 'join');
  r.add('m.room.power_levels', '', A, levels);
  r.add('m.room.join_rules', '', A, { join_rule: 'public' });
  return r;
}

function add(
  name: string,
  versions: readonly string[],
  [rule, reason]: readonly [AuthRule, RegExp],
  build: (v: string) => [JsonObject, boolean],
) {
  for (const v of versions) {
    const [request, allowed] = build(v);
    CASES.push({ name: `v${v} ${name}`, version: v, allowed, rule, reason, request });
  }
}

/** The rules and reasons of the rejections, by the comparison that failed. */
const SEND = ['power_level', /below the level needed to send/] as const;
const THIRD_PARTY = ['power_level', /below the invite level/] as const;
const MEMBERSHIP = {
  invite: ['membership', /below the invite level/],
  kick: ['membership', /may not kick .*: power level too low/],
  ban: ['membership', /below the ban level$/],
  banTarget: ['membership', /may not ban .*: power level not above theirs/],
  unban: ['membership', /below the ban level, needed to unban/],
  restricted: ['membership', /lacks the invite level/],
} as const;
const REDACTION = ['redaction', /may not redact events of other servers/] as const;
/**
 * A change to `level` (named as the reason names it: `ban`,
 * `events["m.room.topic"]`) above the sender's level, or (`equal`) a
 * change to another user's level equal to or above it.
 */
function changeOf(level: string, equal = false): readonly [AuthRule, RegExp] {
  const name = level.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const how = equal ? '(: above|, equal to)' : ': above';
  return ['power_levels', new RegExp(`may not change ${name}${how} their own level`)];
}

// Sending: "If the event type's required power level is greater than the
// sender's power level, reject", the required level being `events[type]`,
// else `state_default` (state events) or `events_default`.
for (const level of AROUND) {
  const sends: [string, string | undefined, JsonObject][] = [
    ['a message, events_default', undefined, { events_default: R }],
    ['a message, its events entry', undefined, { events: { 'm.room.message': R } }],
    ['a state event, state_default', '', { state_default: R }],
    ['a state event, its events entry below state_default', '', { state_default: 100, events: { 'm.room.topic': R } }],
    // No state_default: the spec's default, 50 (= R).
    ['a state event, the default state_default', '', {}],
  ];
  for (const [what, stateKey, levels] of sends) {
    const type = stateKey === undefined ? 'm.room.message' : 'm.room.topic';
    add(`send ${what} = ${R}: sender at ${level}`, ALL, SEND, (v) => {
      const r = room(v, { users: users(v, { [B]: level }), ...levels });
      r.member(B, 'join');
      return [r.request(r.make(type, stateKey, B, { body: 'x' }).event), level >= R];
    });
  }
  // The sender's level from users_default when `users` has no entry.
  add(`send a message, events_default = ${R}: sender at users_default ${level}`, ALL, SEND, (v) => {
    const r = room(v, { users: users(v, {}), users_default: level, events_default: R });
    r.member(B, 'join');
    return [r.request(r.make('m.room.message', undefined, B, { body: 'x' }).event), level >= R];
  });
  // "If type is m.room.third_party_invite: allow if and only if sender's
  // current power level is greater than or equal to the invite level"
  // (state_default 100 shows the send level is not what counts).
  add(`third-party invite, invite = ${R}: sender at ${level}`, ALL, THIRD_PARTY, (v) => {
    const r = room(v, { users: users(v, { [B]: level }), invite: R, state_default: 100 });
    r.member(B, 'join');
    const event = r.make('m.room.third_party_invite', 'tok', B, { display_name: 'c...', public_key: 'AAAA' });
    return [r.request(event.event), level >= R];
  });
}

// The defaults of the named levels, for a sender one below, at and above
// each (spec: invite 0; kick, ban, redact 50).
const DEFAULTS = { invite: 0, kick: 50, ban: 50 };

// Membership changes by bob (joined) on carol.
for (const [name, required] of [
  ['invite', R],
  ['default invite', DEFAULTS.invite],
  ['kick', R],
  ['default kick', DEFAULTS.kick],
  ['ban', R],
  ['default ban', DEFAULTS.ban],
] as const) {
  const action = name.replace('default ', '') as keyof typeof DEFAULTS;
  for (const level of [required - 1, required, required + 1]) {
    add(`${name} = ${required}: sender at ${level}`, ALL, MEMBERSHIP[action], (v) => {
      const levels: JsonObject = { users: users(v, { [B]: level, [C]: -10 }) };
      if (!name.startsWith('default')) levels[action] = required;
      const r = room(v, levels);
      r.member(B, 'join');
      if (action !== 'invite') r.member(C, 'join');
      // "If the sender's power level is greater than or equal to the invite
      // level, allow"; a kick or ban also needs the target's level below the
      // sender's, which carol's -10 is.
      const membership = action === 'kick' ? 'leave' : action;
      return [r.request(r.make('m.room.member', C, B, { membership }).event), level >= required];
    });
  }
}

// Kicks and bans: "the target user's power level is less than the sender's
// power level" (the sender well above the kick and ban levels).
for (const action of ['kick', 'ban'] as const) {
  for (const target of [59, 60, 61]) {
    add(
      `${action}: sender at 60, target at ${target}`,
      ALL,
      MEMBERSHIP[action === 'ban' ? 'banTarget' : 'kick'],
      (v) => {
        const r = room(v, { users: users(v, { [B]: 60, [C]: target }), kick: R, ban: R });
        r.member(B, 'join');
        r.member(C, 'join');
        const membership = action === 'kick' ? 'leave' : 'ban';
        return [r.request(r.make('m.room.member', C, B, { membership }).event), target < 60];
      },
    );
  }
}

// Unbans: "If the target user's current membership state is ban, and the
// sender's power level is less than the ban level, reject", then as any
// leave of another user, the kick level and a level above the target's.
for (const level of AROUND) {
  for (const [which, levels] of [
    ['ban', { ban: R, kick: 0 }],
    ['kick', { ban: 0, kick: R }],
  ] as const) {
    add(`unban, ${which} = ${R}: sender at ${level}`, ALL, MEMBERSHIP[which === 'ban' ? 'unban' : 'kick'], (v) => {
      const r = room(v, { users: users(v, { [B]: level }), ...levels });
      r.member(B, 'join');
      r.member(C, 'ban', A);
      return [r.request(r.make('m.room.member', C, B, { membership: 'leave' }).event), level >= R];
    });
  }
}
for (const target of [59, 60, 61]) {
  add(`unban: sender at 60, target at ${target}`, ALL, MEMBERSHIP.kick, (v) => {
    const r = room(v, { users: users(v, { [B]: 60, [C]: target }), ban: R, kick: R });
    r.member(B, 'join');
    r.member(C, 'ban', A);
    return [r.request(r.make('m.room.member', C, B, { membership: 'leave' }).event), target < 60];
  });
}

// Restricted joins (v8 on): "the user indicated by
// join_authorised_via_users_server ... has a power level greater than or
// equal to the invite level".
for (const level of AROUND) {
  add(`restricted join, invite = ${R}: authorising user at ${level}`, from(8), MEMBERSHIP.restricted, (v) => {
    const r = room(v, { users: users(v, { [C]: level }), invite: R });
    r.add('m.room.join_rules', '', A, { join_rule: 'restricted', allow: [] });
    r.member(C, 'join');
    const join = { membership: 'join', join_authorised_via_users_server: C };
    return [r.request(r.make('m.room.member', D, D, join).event), level >= R];
  });
}

// Redactions (v1–v2): "If the sender's power level is greater than or equal
// to the redact level, allow"; else only events of the sender's own server.
// From v3 the auth rules allow it at every level (the check moved to when
// the redacted event is known).
for (const [name, required, levels] of [
  ['redact', R, { redact: R }],
  ['default redact', 50, {}],
] as const) {
  for (const level of [required - 1, required, required + 1]) {
    add(`redaction of another server's event, ${name} = ${required}: sender at ${level}`, ALL, REDACTION, (v) => {
      const r = room(v, { users: users(v, { [B]: level }), ...levels });
      r.member(B, 'join');
      const target = '$victim:a.org';
      const redaction =
        Number(v) >= 11
          ? r.make('m.room.redaction', undefined, B, { redacts: target })
          : r.make('m.room.redaction', undefined, B, {}, { extra: { redacts: target } });
      return [r.request(redaction.event), Number(v) >= 3 || level >= required];
    });
  }
}

// Power level changes by bob, at 50 (spec: "If type is m.room.power_levels").
const SENDER = R;
/**
 * Bob's change from `before` to `after` (both power levels contents, with
 * alice's and bob's entries added, and `events` letting bob send power
 * levels whatever `state_default` is).
 */
function change(v: string, before: JsonObject, after: JsonObject): JsonObject {
  const withUs = (c: JsonObject) => ({
    ...c,
    users: users(v, { [B]: SENDER, ...((c.users as JsonObject) ?? {}) }),
    events: { 'm.room.power_levels': 0, ...((c.events as JsonObject) ?? {}) },
  });
  const r = room(v, withUs(before));
  r.member(B, 'join');
  return r.request(r.make('m.room.power_levels', '', B, withUs(after)).event);
}
/** A value's place in a content: a top-level key, or an entry of a map. */
function at(path: readonly string[], value: JsonValue | undefined): JsonObject {
  if (value === undefined) return {};
  const [key, entry] = path as [string, string | undefined];
  return entry === undefined ? { [key]: value } : { [key]: { [entry]: value } };
}
const SCALARS = ['users_default', 'events_default', 'state_default', 'ban', 'redact', 'kick', 'invite'];
for (const path of [...SCALARS.map((k) => [k]), ['events', 'm.room.topic'], ['notifications', 'room']]) {
  const name = path.join('.');
  const reason = changeOf(path.length === 1 ? name : `${path[0]}["${path[1]}"]`);
  // notifications are checked from v6 (limitNotificationsPowerLevels).
  const checked = (v: string) => path[0] !== 'notifications' || Number(v) >= 6;
  for (const level of AROUND) {
    // "If the new value is higher than the sender's current power level, reject."
    add(`power levels: ${name} from 10 to ${level}, sender at ${SENDER}`, ALL, reason, (v) => [
      change(v, at(path, 10), at(path, level)),
      !checked(v) || level <= SENDER,
    ]);
    // "If the current value is higher than the sender's current power level, reject."
    add(`power levels: ${name} from ${level} to 10, sender at ${SENDER}`, ALL, reason, (v) => [
      change(v, at(path, level), at(path, 10)),
      !checked(v) || level <= SENDER,
    ]);
    // Added and removed values are changes too.
    add(`power levels: ${name} added at ${level}, sender at ${SENDER}`, ALL, reason, (v) => [
      change(v, {}, at(path, level)),
      !checked(v) || level <= SENDER,
    ]);
    add(`power levels: ${name} at ${level} removed, sender at ${SENDER}`, ALL, reason, (v) => [
      change(v, at(path, level), {}),
      !checked(v) || level <= SENDER,
    ]);
  }
}
// `users`: another user's entry may be changed or removed only while it is
// below the sender's ("If the current value is greater than or equal to the
// sender's current power level, reject"), and set to at most the sender's.
for (const level of AROUND) {
  add(`power levels: carol from ${level} to 10, sender at ${SENDER}`, ALL, changeOf(`users["${C}"]`, true), (v) => [
    change(v, { users: { [C]: level } }, { users: { [C]: 10 } }),
    level < SENDER,
  ]);
  add(`power levels: carol at ${level} removed, sender at ${SENDER}`, ALL, changeOf(`users["${C}"]`, true), (v) => [
    change(v, { users: { [C]: level } }, {}),
    level < SENDER,
  ]);
  add(`power levels: carol from 10 to ${level}, sender at ${SENDER}`, ALL, changeOf(`users["${C}"]`), (v) => [
    change(v, { users: { [C]: 10 } }, { users: { [C]: level } }),
    level <= SENDER,
  ]);
  add(`power levels: carol added at ${level}, sender at ${SENDER}`, ALL, changeOf(`users["${C}"]`), (v) => [
    change(v, {}, { users: { [C]: level } }),
    level <= SENDER,
  ]);
  // The sender's own entry, equal to their level, is theirs to change
  // ("other than the sender's own entry"); up, only to their level.
  add(`power levels: bob (the sender, at ${SENDER}) sets himself to ${level}`, ALL, changeOf(`users["${B}"]`), (v) => [
    change(v, {}, { users: { [B]: level } }),
    level <= SENDER,
  ]);
}

// v12 (MSC4289): the creators, the create event's sender and its
// additional_creators, have infinite power: above any level an event can hold.
for (const [name, sender, target, allowed] of [
  ['the creator kicks a user at 2^53 − 1', A, C, true],
  ['an additional creator kicks a user at 2^53 − 1', D, C, true],
  ['a user at 2^53 − 1 kicks the creator', C, A, false],
  ['a user at 2^53 − 1 kicks an additional creator', C, D, false],
] as const) {
  add(`creators: ${name}`, ['12'], MEMBERSHIP.kick, (v) => {
    const r = room(v, { users: { [C]: MAX } }, { additional_creators: [D] });
    r.member(C, 'join');
    r.member(D, 'join');
    return [r.request(r.make('m.room.member', target, sender, { membership: 'leave' }).event), allowed];
  });
}
for (const [name, sender, allowed] of [
  ['the creator', A, true],
  ['an additional creator', D, true],
  ['a user at 2^53 − 1', C, false],
] as const) {
  // From 2^53 − 1 to 0: "the current value is higher than the sender's" for
  // everyone but a creator.
  add(`creators: ${name} lowers ban from 2^53 − 1`, ['12'], changeOf('ban'), (v) => {
    const r = room(v, { users: { [C]: MAX - 1 }, ban: MAX }, { additional_creators: [D] });
    r.member(C, 'join');
    r.member(D, 'join');
    const lowered = { users: { [C]: sender === C ? MAX - 1 : 0 }, ban: 0 };
    return [r.request(r.make('m.room.power_levels', '', sender, lowered).event), allowed];
  });
}

describe('auth rules at every boundary', () => {
  it.each(CASES)('$name', ({ request, version, allowed, rule, reason }) => {
    const result = checkEventAuth(
      partialPdu(request.event as JsonObject),
      (request.auth_events as JsonObject[]).map(partialPdu),
      getRoomVersion(version),
    );
    expect(result, JSON.stringify(result)).toEqual(
      allowed ? { allowed } : expect.objectContaining({ allowed, rule, reason: expect.stringMatching(reason) }),
    );
  });

  it('Synapse gives the same verdicts', async () => {
    const answers = await askSynapse(CASES.map((c) => JSON.stringify({ id: c.name, ...c.request })));
    const wrong = CASES.flatMap((c, i) => {
      const a = JSON.parse(answers[i] as string) as { ok: boolean; allowed?: boolean };
      return a.ok && a.allowed === c.allowed ? [] : [`${c.name}: ${answers[i]}`];
    });
    expect(wrong).toEqual([]);
  });
});
