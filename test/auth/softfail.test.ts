/**
 * Named cases for the soft-fail check (spec: server-server API, "Soft
 * failure": an event its auth events allow is checked again against the
 * room's current state, and soft-failed if that state does not allow it).
 * Each case is an event that its own auth events allow (checked with
 * `check_auth`), after which the room's state changes; the event is then
 * judged against the current state (`soft_fail`). The expected verdict, and
 * for rejections the rule, are worked out by hand from the spec's
 * authorization rules (quoted in each case) and Synapse's
 * `_check_for_soft_fail` (synapse/handlers/federation_event.py: the
 * `auth_types_for_event` of the event taken from the current state, then
 * `check_state_dependent_auth_rules`). Every case goes through our library
 * (`checkSoftFail`), our runner and the Synapse oracle, which must all agree
 * with the hand-written verdict.
 */
import { describe, expect, it } from 'vitest';
import { answerLine } from '../../conformance/src/runner.js';
import { checkSoftFail } from '../../src/auth/check.js';
import { type AuthRule, StateMap } from '../../src/auth/index.js';
import type { JsonObject } from '../../src/canonicaljson/index.js';
import type { Pdu } from '../../src/events/index.js';
import { encodeBase64, SigningKey, signJson } from '../../src/signing/index.js';
import { askSynapse } from '../interop/oracle.js';
import { Room } from './room.js';

const ALL = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12'];

const A = '@alice:a.org';
const B = '@bob:b.org';
const C = '@carol:c.org';

/** Alice's entry in `users`: none from v12 (creators may not appear there, and outrank every level). */
const admin = (v: string): JsonObject => (v === '12' ? {} : { [A]: 100 });

/** A room where alice (the creator) has joined, with power levels and a join rule. */
function basic(v: string, levels: JsonObject = {}, joinRule = 'public', createContent: JsonObject = {}): Room {
  const room = new Room(v, A, createContent);
  room.member(A, 'join');
  const { users, ...rest } = levels;
  room.add('m.room.power_levels', '', A, { users: { ...admin(v), ...((users as JsonObject) ?? {}) }, ...rest });
  room.add('m.room.join_rules', '', A, { join_rule: joinRule });
  return room;
}

/** Alice replaces the power levels (unchecked, as state resolution may hand them over). */
function setLevels(room: Room, v: string, levels: JsonObject): void {
  const { users, ...rest } = levels;
  room.add('m.room.power_levels', '', A, { users: { ...admin(v), ...((users as JsonObject) ?? {}) }, ...rest });
}

const idKey = new SigningKey(new Uint8Array(32).fill(7));
const idPublicKey = encodeBase64(idKey.publicKey);

/** Alice's invite of bob made from a third-party invite with token "tok", signed by the identity server's key. */
function thirdPartyInvite(room: Room): Pdu {
  const signed = signJson({ mxid: B, token: 'tok', sender: A }, 'id.org', 'ed25519:0', idKey);
  return room.make('m.room.member', B, A, {
    membership: 'invite',
    third_party_invite: { display_name: 'b...', signed },
  }).event;
}

type Verdict = { allowed: true } | { allowed: false; rule: AuthRule };

/** Bob (50) sets the topic; then `change` happens before the topic is checked against the current state. */
function topicThen(v: string, change: (room: Room) => void): { room: Room; event: Pdu } {
  const room = basic(v, { users: { [B]: 50 } });
  room.member(B, 'join');
  const event = room.make('m.room.topic', '', B, { topic: 'mine' }).event;
  change(room);
  return { room, event };
}

/**
 * Bob (50) kicks carol (10) with the kick level at 0, then is demoted to
 * `level` before the kick is checked against the current state.
 */
function kickAfterDemotion(v: string, level: number): { room: Room; event: Pdu } {
  const room = basic(v, { users: { [B]: 50, [C]: 10 }, kick: 0 });
  room.member(B, 'join');
  room.member(C, 'join');
  const event = room.make('m.room.member', C, B, { membership: 'leave' }).event;
  setLevels(room, v, { users: { [B]: level, [C]: 10 }, kick: 0 });
  return { room, event };
}

interface Case {
  readonly name: string;
  readonly versions: readonly string[];
  readonly expected: Verdict;
  /**
   * Builds the room, makes the candidate event (its auth events selected
   * from the state of that moment), then changes the room's state; returns
   * the room (now at its current state) and the event, and the current
   * state if it is not the room's.
   */
  readonly build: (v: string) => { room: Room; event: Pdu; currentState?: Pdu[] };
}

const CASES: Case[] = [
  // Rule: "If the sender's current membership state is not join, reject."
  {
    name: 'sender banned after sending a message: "If the sender’s current membership state is not join, reject"',
    versions: ALL,
    expected: { allowed: false, rule: 'sender_not_joined' },
    build: (v) => {
      const room = basic(v);
      room.member(B, 'join');
      const event = room.make('m.room.message', undefined, B, { body: 'before the ban' }).event;
      room.member(B, 'ban', A);
      return { room, event };
    },
  },
  {
    name: 'sender banned after sending state (a topic at their level)',
    versions: ALL,
    expected: { allowed: false, rule: 'sender_not_joined' },
    build: (v) => topicThen(v, (room) => room.member(B, 'ban', A)),
  },
  // Rule: "If the event type’s required power level is greater than the sender’s power level, reject."
  {
    name: 'sender demoted: their level lowered from 50 to 0, below state_default 50 for m.room.topic',
    versions: ALL,
    expected: { allowed: false, rule: 'power_level' },
    build: (v) => topicThen(v, (room) => setLevels(room, v, { users: { [B]: 0 } })),
  },
  {
    name: 'sender demoted: events["m.room.topic"] raised to 75, above their 50',
    versions: ALL,
    expected: { allowed: false, rule: 'power_level' },
    build: (v) => topicThen(v, (room) => setLevels(room, v, { users: { [B]: 50 }, events: { 'm.room.topic': 75 } })),
  },
  {
    name: 'message sender demoted: events_default raised from 0 to 10, above their 0',
    versions: ALL,
    expected: { allowed: false, rule: 'power_level' },
    build: (v) => {
      const room = basic(v, { events_default: 0 });
      room.member(B, 'join');
      const event = room.make('m.room.message', undefined, B, { body: 'hi' }).event;
      setLevels(room, v, { events_default: 10 });
      return { room, event };
    },
  },
  {
    name: 'sender not demoted: a power levels change that keeps them at 50 still allows their topic',
    versions: ALL,
    expected: { allowed: true },
    build: (v) =>
      topicThen(v, (room) => setLevels(room, v, { users: { [B]: 50, [C]: 50 }, events: { 'm.room.name': 100 } })),
  },
  {
    // MSC4289: creators have infinite power; a power levels change cannot demote them.
    name: 'v12: an additional creator cannot be demoted: events["m.room.topic"] raised to 100 still allows their topic',
    versions: ['12'],
    expected: { allowed: true },
    build: (v) => {
      const room = basic(v, {}, 'public', { additional_creators: [B] });
      room.member(B, 'join');
      const event = room.make('m.room.topic', '', B, { topic: 'mine' }).event;
      setLevels(room, v, { events: { 'm.room.topic': 100 }, state_default: 100 });
      return { room, event };
    },
  },
  // Rule (join): "If the join_rule is invite or knock then allow if membership state is invite or join."
  {
    name: 'join rule changed from public to invite before the join arrives: bob is not invited',
    versions: ALL,
    expected: { allowed: false, rule: 'membership' },
    build: (v) => {
      const room = basic(v);
      const event = room.make('m.room.member', B, B, { membership: 'join' }).event;
      room.add('m.room.join_rules', '', A, { join_rule: 'invite' });
      return { room, event };
    },
  },
  {
    name: 'join rule changed from public to invite, but bob was invited meanwhile: allowed',
    versions: ALL,
    expected: { allowed: true },
    build: (v) => {
      const room = basic(v);
      const event = room.make('m.room.member', B, B, { membership: 'join' }).event;
      room.add('m.room.join_rules', '', A, { join_rule: 'invite' });
      room.member(B, 'invite', A);
      return { room, event };
    },
  },
  // Rule (invite with third_party_invite): "If there is no m.room.third_party_invite event in the
  // current room state with state_key matching token, reject"; "If any signature in signed matches
  // any public key in the m.room.third_party_invite event, allow", else reject.
  {
    name: 'third-party invite revoked (m.room.third_party_invite replaced with empty content): no public key signed it',
    versions: ALL,
    expected: { allowed: false, rule: 'third_party_invite' },
    build: (v) => {
      const room = basic(v, {}, 'invite');
      room.add('m.room.third_party_invite', 'tok', A, { display_name: 'b...', public_key: idPublicKey });
      const event = thirdPartyInvite(room);
      room.add('m.room.third_party_invite', 'tok', A, {});
      return { room, event };
    },
  },
  {
    name: 'third-party invite replaced by another sender: "If sender does not match sender of the m.room.third_party_invite, reject"',
    versions: ALL,
    expected: { allowed: false, rule: 'third_party_invite' },
    build: (v) => {
      const room = basic(v, { users: { [C]: 50 } }, 'invite');
      room.member(C, 'invite', A);
      room.member(C, 'join');
      room.add('m.room.third_party_invite', 'tok', A, { display_name: 'b...', public_key: idPublicKey });
      const event = thirdPartyInvite(room);
      room.add('m.room.third_party_invite', 'tok', C, { display_name: 'b...', public_key: idPublicKey });
      return { room, event };
    },
  },
  {
    name: 'third-party invite re-issued with the key moved to public_keys: still signed by one of its keys',
    versions: ALL,
    expected: { allowed: true },
    build: (v) => {
      const room = basic(v, {}, 'invite');
      room.add('m.room.third_party_invite', 'tok', A, { display_name: 'b...', public_key: idPublicKey });
      const event = thirdPartyInvite(room);
      room.add('m.room.third_party_invite', 'tok', A, {
        display_name: 'b...',
        public_keys: [{ public_key: idPublicKey }],
      });
      return { room, event };
    },
  },
  // Rule (leave, kick): "If the sender’s power level is greater than or equal to the kick level, and
  // the target user’s power level is less than the sender’s power level, allow", else reject.
  {
    name: 'kick by someone demoted below the target (kick level 0: only the comparison with the target decides)',
    versions: ALL,
    expected: { allowed: false, rule: 'membership' },
    build: (v) => kickAfterDemotion(v, 5),
  },
  {
    name: 'kick by someone demoted to the target’s level: "less than", not "less than or equal"',
    versions: ALL,
    expected: { allowed: false, rule: 'membership' },
    build: (v) => kickAfterDemotion(v, 10),
  },
  {
    name: 'kick by someone demoted but still above the target: allowed',
    versions: ALL,
    expected: { allowed: true },
    build: (v) => kickAfterDemotion(v, 11),
  },
  // Allowed: the current state has changed, but still permits the event.
  {
    name: 'current state still permits: topic, another join and a power levels change since the message',
    versions: ALL,
    expected: { allowed: true },
    build: (v) => {
      const room = basic(v);
      room.member(B, 'join');
      const event = room.make('m.room.message', undefined, B, { body: 'hi' }).event;
      room.add('m.room.topic', '', A, { topic: 'new' });
      room.member(C, 'join');
      setLevels(room, v, { users: { [B]: 50 }, events_default: 50 });
      return { room, event };
    },
  },
  {
    name: 'current state still permits: the sender was banned, unbanned and joined again',
    versions: ALL,
    expected: { allowed: true },
    build: (v) => {
      const room = basic(v);
      room.member(B, 'join');
      const event = room.make('m.room.message', undefined, B, { body: 'hi' }).event;
      room.member(B, 'ban', A);
      room.member(B, 'leave', A);
      room.member(B, 'join');
      return { room, event };
    },
  },
  {
    // Synapse: check_state_dependent_auth_rules raises "missing a create event in
    // auth_events" when the selection from the current state holds none.
    name: 'a current state without the create event: nothing to judge against',
    versions: ALL,
    expected: { allowed: false, rule: 'auth_events' },
    build: (v) => {
      const room = basic(v);
      room.member(B, 'join');
      const event = room.make('m.room.message', undefined, B, { body: 'hi' }).event;
      const create = room.state.get('m.room.create', '');
      return { room, event, currentState: room.currentState().filter((e) => e !== create) };
    },
  },
];

interface Line {
  readonly name: string;
  readonly version: string;
  readonly expected: Verdict;
  readonly room: Room;
  readonly event: Pdu;
  readonly currentState: StateMap;
  /** `check_auth` against the event's own auth events. */
  readonly checkAuth: string;
  /** `soft_fail` against the current state. */
  readonly softFail: string;
}

const LINES: Line[] = CASES.flatMap((c) =>
  c.versions.map((v) => {
    const { room, event, currentState = room.currentState() } = c.build(v);
    return {
      name: `v${v} ${c.name}`,
      version: v,
      expected: c.expected,
      room,
      event,
      currentState: new StateMap(currentState),
      checkAuth: JSON.stringify(room.request(event)),
      softFail: JSON.stringify({ ...room.softFailRequest(event), current_state: currentState }),
    };
  }),
);

interface Answer {
  ok: boolean;
  allowed?: boolean;
  reason?: string;
  error?: unknown;
}

describe('soft failure: named cases', () => {
  it('covers each kind of case in several room versions', () => {
    expect(LINES.length).toBeGreaterThanOrEqual(150);
    const versions = new Set(LINES.map((l) => l.version));
    for (const v of ['1', '8', '10', '12']) expect(versions.has(v)).toBe(true);
    expect(LINES.filter((l) => l.expected.allowed).length).toBeGreaterThan(40);
    expect(LINES.filter((l) => !l.expected.allowed).length).toBeGreaterThan(80);
  });

  it.each(LINES)('$name: allowed by its own auth events', ({ checkAuth }) => {
    const answer = JSON.parse(answerLine(checkAuth)) as Answer;
    expect(answer.ok, JSON.stringify(answer.error)).toBe(true);
    expect(answer.allowed, answer.reason).toBe(true);
  });

  it.each(LINES)('$name: soft-fail verdict and rule', ({ room, event, currentState, expected, softFail }) => {
    const result = checkSoftFail(event, currentState, room.rules);
    expect(result).toMatchObject(expected);
    const answer = JSON.parse(answerLine(softFail)) as Answer;
    expect(answer.ok, JSON.stringify(answer.error)).toBe(true);
    expect(answer.allowed, answer.reason).toBe(expected.allowed);
    if (!expected.allowed) expect(answer.reason).toMatch(new RegExp(`^${expected.rule}: `));
  });

  it('Synapse gives the same verdicts, and allows each event by its own auth events', async () => {
    const answers = await askSynapse(LINES.flatMap((l) => [l.checkAuth, l.softFail]));
    const wrong = LINES.flatMap((l, i) => {
      const auth = JSON.parse(answers[2 * i] as string) as Answer;
      const soft = JSON.parse(answers[2 * i + 1] as string) as Answer;
      const bad: string[] = [];
      if (!(auth.ok && auth.allowed === true)) bad.push(`${l.name}: check_auth ${answers[2 * i]}`);
      if (!(soft.ok && soft.allowed === l.expected.allowed)) bad.push(`${l.name}: soft_fail ${answers[2 * i + 1]}`);
      return bad;
    });
    expect(wrong).toEqual([]);
  });
});
