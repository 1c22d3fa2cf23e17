/**
 * fast-check generators of forked rooms for the state resolution tests: a
 * room is set up (creator, moderators, members, join rule), then splits,
 * round after round, into two or three branches (a netsplit: each side
 * sends events on its own view of the state); the states at the branches'
 * ends are the state sets to resolve, and the next round starts from their
 * resolution.
 *
 * Branches send what fights over a room's state: concurrent power level
 * changes, bans and unbans, kicks (of moderators too), join rule flips,
 * joins, leaves, invites and knocks, topics and names, profile changes.
 * Each event cites the auth events the spec's selection picks from its
 * branch's state and is checked with our auth rules against them (the
 * generator's own model of what its server accepts, not an expected
 * value): accepted, it enters the branch's state; refused, it is dropped,
 * or now and then entered anyway (a state set as a lying server gives it).
 * Some entered events are also named rejected in the request.
 *
 * As in rooms.ts, a script is plain data fast-check generates and shrinks,
 * and {@link playForks} turns it into events deterministically. Events have
 * real IDs (v1–v2: an `event_id` of the sender's server; v3+: the reference
 * hash), content hashes, depths one more than their `prev_events`', and no
 * signatures (state resolution does not read them). Timestamps often tie,
 * so that event IDs break ties.
 *
 * @module
 */

import fc from 'fast-check';
import { checkEventAuth } from '../../src/auth/index.js';
import { authTypesForEvent } from '../../src/auth/selection.js';
import type { JsonObject, JsonValue } from '../../src/canonicaljson/index.js';
import { assertEventSchema, type Pdu } from '../../src/events/index.js';
import { contentHash, eventId, referenceHash } from '../../src/hashing/index.js';
import { getRoomVersion, type RoomVersionRules } from '../../src/roomversions/index.js';
import { encodeBase64 } from '../../src/signing/index.js';
import type { StateIds } from '../../src/stateres/index.js';
import { CREATOR, joinRulesContent, powerLevelValue, USERS } from './rooms.js';

/** What an action of a branch does. */
export type ActionKind =
  | 'power_levels'
  | 'ban'
  | 'unban'
  | 'kick'
  | 'join'
  | 'leave'
  | 'invite'
  | 'knock'
  | 'join_rules'
  | 'topic'
  | 'name'
  | 'profile';

/** One event a branch sends. Numbers are choices, taken modulo the options. */
export interface Action {
  readonly kind: ActionKind;
  readonly actor: number;
  readonly target: number;
  /** The power levels change, for `power_levels`. */
  readonly level: JsonValue;
  readonly levelKey: number;
  /** The join rules content, for `join_rules`. */
  readonly joinRules: JsonObject;
  /** Enter the event in the branch's state even if our rules refuse it. */
  readonly force: boolean;
  /** Name the event rejected in the request (it still enters the branch's state). */
  readonly reject: boolean;
  /** Milliseconds after the last event (0: a tie). */
  readonly delay: number;
}

/**
 * A round: the branches the room splits into, each a list of actions; then
 * what the sides heard of each other.
 */
export interface Round {
  readonly branches: readonly (readonly Action[])[];
  /**
   * State one branch takes from another, or from the state the round
   * started from, before the resolution (a server that heard of some of the
   * other side's events, or missed an update of its own side): each copies
   * the entry of one key where the two differ. Views like these, where a
   * later event stands without the one before it or an earlier one stands
   * under later events that cite its successor, make MSC4297's problems A
   * and B.
   */
  readonly gossip: readonly { readonly from: number; readonly to: number; readonly key: number }[];
  /** Whether the state the round started from is resolved too (a server that saw none of it). */
  readonly stale: boolean;
}

/** A generated forked room. */
export interface ForkScript {
  readonly version: string;
  /** Users the creator invites and who join at the start (then bob and carol are moderators). */
  readonly members: readonly string[];
  readonly joinRule: string;
  /** Power level changes the creator makes before the first split: a long power levels chain. */
  readonly history: number;
  readonly rounds: readonly Round[];
}

const pick = <T>(list: readonly T[], n: number): T => list[n % list.length] as T;
const domainOf = (id: string): string => id.slice(id.indexOf(':') + 1);
const MODERATORS = ['@bob:a.example', '@carol:b.example'];

/** Weighted kinds: memberships and power levels fight most. */
const KINDS: readonly ActionKind[] = [
  'power_levels',
  'power_levels',
  'power_levels',
  'ban',
  'ban',
  'unban',
  'kick',
  'kick',
  'join',
  'join',
  'leave',
  'invite',
  'knock',
  'join_rules',
  'join_rules',
  'topic',
  'topic',
  'name',
  'profile',
];

function action(rules: RoomVersionRules): fc.Arbitrary<Action> {
  return fc.record({
    kind: fc.constantFrom(...KINDS),
    actor: fc.nat({ max: 1000 }),
    target: fc.nat({ max: 1000 }),
    level: powerLevelValue(rules, false),
    levelKey: fc.nat({ max: 1000 }),
    joinRules: joinRulesContent(),
    force: fc.oneof({ arbitrary: fc.constant(false), weight: 12 }, { arbitrary: fc.constant(true), weight: 1 }),
    reject: fc.oneof({ arbitrary: fc.constant(false), weight: 15 }, { arbitrary: fc.constant(true), weight: 1 }),
    delay: fc.constantFrom(0, 0, 1, 1, 2, 5, 100),
  });
}

/**
 * A forked room of `version`: one to `rounds` rounds of two or three
 * branches of one to `actions` actions each.
 */
export function forkScript(version: string, rounds: number, actions: number): fc.Arbitrary<ForkScript> {
  const rules = getRoomVersion(version);
  const branch = fc.array(action(rules), { minLength: 1, maxLength: actions });
  return fc.record({
    version: fc.constant(version),
    members: fc.subarray(USERS.filter((u) => u !== CREATOR)),
    joinRule: fc.constantFrom('public', 'invite'),
    history: fc.nat({ max: 6 }),
    rounds: fc.array(
      fc.record({
        branches: fc.array(branch, { minLength: 2, maxLength: 3 }),
        gossip: fc.array(fc.record({ from: fc.nat(), to: fc.nat(), key: fc.nat() }), { maxLength: 6 }),
        stale: fc.boolean(),
      }),
      { minLength: 1, maxLength: rounds },
    ),
  });
}

/** An event and its ID. */
export interface ForkEvent {
  readonly id: string;
  readonly event: Pdu;
}

/** A branch's view: its state, and the events it last sent (its `prev_events`). */
interface Branch {
  state: Map<string, Map<string, ForkEvent>>;
  tips: ForkEvent[];
}

/** One resolution to make: the state sets of a round's branches, over the room's events so far. */
export interface ForkCase {
  readonly rules: RoomVersionRules;
  readonly events: readonly Pdu[];
  readonly stateSets: readonly StateIds[];
  readonly rejected: readonly string[];
}

/**
 * A room being played: its events, and the IDs named rejected.
 */
class ForkRoom {
  readonly rules: RoomVersionRules;
  readonly events: ForkEvent[] = [];
  readonly byId = new Map<string, ForkEvent>();
  readonly rejected = new Set<string>();
  roomId: string;
  #serial = 0;
  #ts = 1_700_000_000_000;

  constructor(
    rules: RoomVersionRules,
    readonly tag: string,
  ) {
    this.rules = rules;
    this.roomId = `!${tag}:a.example`;
  }

  /** Builds an event on a branch (not entered anywhere). */
  build(branch: Branch, type: string, stateKey: string, sender: string, content: JsonObject, delay: number): ForkEvent {
    const rules = this.rules;
    const v12 = rules.eventFormat.roomIdIsCreateEventHash;
    const opaque = rules.eventFormat.eventIdFormat === 'opaque';
    const isCreate = type === 'm.room.create';
    const ref = (e: ForkEvent): JsonValue =>
      opaque ? [e.id, { sha256: encodeBase64(referenceHash(e.event, rules)) }] : e.id;
    let auth: ForkEvent[] = [];
    if (!isCreate) {
      let keys: (readonly [string, string])[];
      try {
        keys = authTypesForEvent({ type, sender, state_key: stateKey, content }, rules, { nonStringKeys: 'ignore' });
      } catch {
        keys = [
          ['m.room.create', ''],
          ['m.room.power_levels', ''],
          ['m.room.member', sender],
        ];
      }
      auth = keys.flatMap(([t, k]) => {
        const e = branch.state.get(t)?.get(k);
        return e === undefined || (v12 && t === 'm.room.create') ? [] : [e];
      });
    }
    this.#serial += 1;
    this.#ts += delay;
    const event: JsonObject = {
      type,
      state_key: stateKey,
      sender,
      content,
      depth: Math.max(0, ...branch.tips.map((e) => e.event.depth as number)) + 1,
      origin_server_ts: this.#ts,
      prev_events: branch.tips.map(ref),
      auth_events: auth.map(ref),
      hashes: { sha256: '' },
      signatures: {},
    };
    if (!(v12 && isCreate)) event.room_id = this.roomId;
    if (opaque) event.event_id = `$${this.tag}e${this.#serial}:${domainOf(sender)}`;
    event.hashes = { sha256: encodeBase64(contentHash(event, rules)) };
    assertEventSchema(event, rules);
    return { id: eventId(event, rules), event };
  }

  /**
   * Sends an event on a branch: built, checked with our auth rules against
   * its auth events, and entered in the branch's state if allowed (or if
   * `force`). Returns it if entered.
   */
  send(
    branch: Branch,
    type: string,
    stateKey: string,
    sender: string,
    content: JsonObject,
    o: { delay?: number; force?: boolean; reject?: boolean } = {},
  ): ForkEvent | undefined {
    const e = this.build(branch, type, stateKey, sender, content, o.delay ?? 1);
    const authEvents = new Map(this.events.map((x) => [x.id, x.event]));
    const allowed = checkEventAuth(e.event, authEvents, this.rules, { rejected: this.rejected }).allowed;
    if (!allowed && o.force !== true) return undefined;
    this.events.push(e);
    this.byId.set(e.id, e);
    if (o.reject === true) this.rejected.add(e.id);
    if (type === 'm.room.create' && this.rules.eventFormat.roomIdIsCreateEventHash) this.roomId = `!${e.id.slice(1)}`;
    const byKey = branch.state.get(type) ?? new Map<string, ForkEvent>();
    branch.state.set(type, byKey.set(stateKey, e));
    branch.tips = [e];
    return e;
  }
}

const membershipOf = (b: Branch, user: string): JsonValue | undefined =>
  (b.state.get('m.room.member')?.get(user)?.event.content as JsonObject | undefined)?.membership;

/** The content of the event an action sends, its type and state key; undefined if it has none. */
function plan(
  room: ForkRoom,
  b: Branch,
  a: Action,
): { type: string; stateKey: string; sender: string; content: JsonObject } | undefined {
  const rules = room.rules;
  const joined = USERS.filter((u) => membershipOf(b, u) === 'join');
  // Most actors are in the room, so that their events get past "the sender is joined".
  const actor = a.actor % 5 === 0 || joined.length === 0 ? pick(USERS, a.actor) : pick(joined, a.actor);
  const target = pick(USERS, a.target);
  const member = (sender: string, user: string, content: JsonObject) => ({
    type: 'm.room.member',
    stateKey: user,
    sender,
    content,
  });
  switch (a.kind) {
    case 'power_levels': {
      const current = (b.state.get('m.room.power_levels')?.get('')?.event.content ?? {}) as JsonObject;
      const content: JsonObject = { ...current, users: { ...((current.users as JsonObject | undefined) ?? {}) } };
      const key = pick(['users', 'users', 'users', 'ban', 'kick', 'state_default', 'events', 'invite'], a.levelKey);
      if (key === 'users') {
        // v12 creators are not listed (MSC4289).
        if (rules.auth.privilegedCreators && target === CREATOR) return undefined;
        (content.users as JsonObject)[target] = a.level;
      } else if (key === 'events') {
        content.events = { ...((current.events as JsonObject | undefined) ?? {}), 'm.room.topic': a.level };
      } else {
        content[key] = a.level;
      }
      return { type: 'm.room.power_levels', stateKey: '', sender: actor, content };
    }
    case 'ban':
      return member(actor, target, { membership: 'ban' });
    case 'unban':
    case 'kick':
      return member(actor, target, { membership: 'leave', ...(a.kind === 'kick' ? { reason: 'kick' } : {}) });
    case 'join': {
      const restricted = rules.auth.restrictedJoins && a.target % 2 === 0;
      return member(target, target, {
        membership: 'join',
        ...(restricted ? { join_authorised_via_users_server: pick(joined.length > 0 ? joined : USERS, a.actor) } : {}),
      });
    }
    case 'leave':
      return member(actor, actor, { membership: 'leave' });
    case 'invite':
      return member(actor, target, { membership: 'invite' });
    case 'knock':
      return rules.auth.knocking ? member(target, target, { membership: 'knock' }) : undefined;
    case 'join_rules':
      return { type: 'm.room.join_rules', stateKey: '', sender: actor, content: a.joinRules };
    case 'topic':
      return { type: 'm.room.topic', stateKey: '', sender: actor, content: { topic: `t${a.target}` } };
    case 'name':
      return { type: 'm.room.name', stateKey: '', sender: actor, content: { name: `n${a.target}` } };
    case 'profile':
      return membershipOf(b, actor) === 'join'
        ? member(actor, actor, { membership: 'join', displayname: `d${a.target}` })
        : undefined;
  }
}

/** A copy of a branch. */
const fork = (b: Branch): Branch => ({
  state: new Map([...b.state].map(([t, byKey]) => [t, new Map(byKey)])),
  tips: [...b.tips],
});

/** A branch's state by ID. */
const idsOf = (b: Branch): StateIds =>
  new Map([...b.state].map(([t, byKey]) => [t, new Map([...byKey].map(([k, e]) => [k, e.id]))]));

/**
 * Plays a script: the room's set-up, then each round's branches; after each
 * round, `resolve` (the resolution under test, or any other) gives the
 * state the next round starts from. Returns the resolutions to check, one a
 * round, each over every event sent so far.
 *
 * @param script - the room.
 * @param tag - unique per room of a corpus (in v1–v11 room IDs and v1–v2 event IDs).
 * @param resolve - how a round's state sets resolve.
 */
export function playForks(script: ForkScript, tag: string, resolve: (c: ForkCase) => StateIds): ForkCase[] {
  const rules = getRoomVersion(script.version);
  const room = new ForkRoom(rules, tag);
  const main: Branch = { state: new Map(), tips: [] };
  const creatorContent: JsonObject = rules.auth.implicitRoomCreator ? {} : { creator: CREATOR };
  room.send(main, 'm.room.create', '', CREATOR, { ...creatorContent, room_version: script.version });
  room.send(main, 'm.room.member', CREATOR, CREATOR, { membership: 'join' });
  const users: JsonObject = rules.auth.privilegedCreators ? {} : { [CREATOR]: 100 };
  for (const m of MODERATORS) users[m] = 50;
  room.send(main, 'm.room.power_levels', '', CREATOR, { users, state_default: 50, ban: 50, kick: 50 });
  room.send(main, 'm.room.join_rules', '', CREATOR, { join_rule: script.joinRule });
  for (const user of [...new Set([...MODERATORS, ...script.members])]) {
    room.send(main, 'm.room.member', user, CREATOR, { membership: 'invite' });
    room.send(main, 'm.room.member', user, user, { membership: 'join' });
  }
  for (let i = 0; i < script.history; i++) {
    const current = main.state.get('m.room.power_levels')?.get('')?.event.content as JsonObject;
    room.send(main, 'm.room.power_levels', '', CREATOR, { ...current, events_default: i % 3 });
  }
  const cases: ForkCase[] = [];
  let start = main;
  for (const round of script.rounds) {
    const branches = round.branches.map((actions) => {
      const b = fork(start);
      for (const a of actions) {
        const p = plan(room, b, a);
        if (p !== undefined) room.send(b, p.type, p.stateKey, p.sender, p.content, a);
      }
      return b;
    });
    for (const g of round.gossip) {
      const from = pick([...branches, start], g.from);
      const to = pick(branches, g.to);
      const differing = [...from.state].flatMap(([t, byKey]) =>
        [...byKey].filter(([k, e]) => to.state.get(t)?.get(k) !== e).map(([k, e]) => [t, k, e] as const),
      );
      if (differing.length === 0) continue;
      const [t, k, e] = pick(differing, g.key);
      to.state.set(t, (to.state.get(t) ?? new Map<string, ForkEvent>()).set(k, e));
    }
    const c: ForkCase = {
      rules,
      events: room.events.map((e) => e.event),
      stateSets: [...branches.map(idsOf), ...(round.stale ? [idsOf(start)] : [])],
      rejected: [...room.rejected],
    };
    cases.push(c);
    const resolved = resolve(c);
    start = {
      state: new Map(
        [...resolved].map(([t, byKey]) => [
          t,
          new Map([...byKey].map(([k, id]) => [k, room.byId.get(id) as ForkEvent])),
        ]),
      ),
      tips: branches.flatMap((b) => b.tips),
    };
  }
  return cases;
}

/** The scripts of `rooms` rooms of a version from a seed. */
export function forkScripts(version: string, seed: number, rooms: number, rounds: number, actions: number) {
  return fc.sample(forkScript(version, rounds, actions), { seed, numRuns: rooms });
}
