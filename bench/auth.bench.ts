/**
 * Auth checks per second for a member event (a kick: it reads the levels of
 * both users, the kick and ban levels, and both memberships) in a room whose
 * power levels list 10,000 users. Compared, in the same run, with the naive
 * approach: re-parsing the auth events' JSON on every check before applying
 * the same rules.
 */

import { authTypesForEvent, checkAuthRules, checkEventAuth, StateMap, userPowerLevel } from 'matrix-serverlib/auth';
import { encodeCanonicalJson, type JsonObject } from 'matrix-serverlib/canonicaljson';
import { assertEventSchema, type Pdu } from 'matrix-serverlib/events';
import { eventId } from 'matrix-serverlib/hashing';
import { getRoomVersion } from 'matrix-serverlib/roomversions';
import { fasterThan, runBenchmark, section, type TargetResult } from './harness.ts';

const rules = getRoomVersion('10');
const ROOM = '!bench:bench.example';
const USERS = 10_000;

/** A placeholder-signed event of the bench room (the auth rules read neither hashes nor signatures). */
function event(type: string, stateKey: string, sender: string, content: JsonObject, auth: string[], n: number): Pdu {
  const e: JsonObject = {
    type,
    state_key: stateKey,
    sender,
    content,
    room_id: ROOM,
    depth: n,
    origin_server_ts: 1_700_000_000_000 + n,
    prev_events: [`$${'p'.repeat(43)}`],
    auth_events: auth,
    hashes: { sha256: 'aGFzaA' },
    signatures: { 'bench.example': { 'ed25519:b': 'c2ln' } },
  };
  assertEventSchema(e, rules);
  return e;
}

/** The room: create, power levels naming 10,000 users, the moderator and the target joined. */
function room() {
  const mod = '@mod:bench.example';
  const target = '@user5000:bench.example';
  const create = event('m.room.create', '', mod, { room_version: '10', creator: mod }, [], 1);
  const createId = eventId(create, rules);
  const users: JsonObject = { [mod]: 100 };
  for (let i = 0; i < USERS; i++) users[`@user${i}:bench.example`] = i % 100;
  const levels = event('m.room.power_levels', '', mod, { users, kick: 50, ban: 50 }, [createId], 2);
  const levelsId = eventId(levels, rules);
  const modJoin = event('m.room.member', mod, mod, { membership: 'join' }, [createId], 3);
  const targetJoin = event('m.room.member', target, target, { membership: 'join' }, [createId, levelsId], 4);
  const all = [create, levels, modJoin, targetJoin];
  const byId = new Map(all.map((e) => [eventId(e, rules), e]));
  const kick = event('m.room.member', target, mod, { membership: 'leave' }, [...byId.keys()], 5);
  return { kick, byId, texts: all.map((e) => encodeCanonicalJson(e)) };
}

/** Parses the auth events' JSON afresh and applies the rules: the naive approach. */
function naiveCheck(kick: Pdu, texts: readonly string[]): boolean {
  // Naive: no check that what JSON.parse gives is an event.
  const parsed = texts.map((t) => JSON.parse(t) as Pdu);
  const wanted = new Set(authTypesForEvent(kick, rules).map(([t, k]) => `${t}\u0000${k}`));
  const state = new StateMap(
    parsed.filter((e) => wanted.has(`${e.type}\u0000${e.state_key}`) || e.type === 'm.room.create'),
  );
  return checkAuthRules(kick, state, rules).allowed;
}

/** Runs the auth suite; returns how the targets fared. */
export function runAuthBench(): TargetResult[] {
  section(`Auth rules: a kick in a room whose power levels list ${USERS.toLocaleString('en')} users (room version 10)`);
  console.log('naive: JSON.parse of every auth event on each check, then the same rules.');
  const { kick, byId, texts } = room();
  const state = new StateMap(byId.values());
  const full = () => checkEventAuth(kick, byId, rules).allowed;
  // Every candidate must allow the kick, for the right reason.
  if (!full() || !naiveCheck(kick, texts) || !checkAuthRules(kick, state, rules).allowed) {
    throw new Error('auth bench: a candidate does not allow the kick');
  }
  if (userPowerLevel(state, '@user5000:bench.example', rules) !== 0) throw new Error('auth bench: wrong level');
  return runBenchmark({
    title: 'auth check · kick, 10,000-user power levels',
    note: `auth events: ${texts.reduce((n, t) => n + t.length, 0).toLocaleString('en')} bytes of JSON; checks/s`,
    baseline: 'naive (re-parse per check)',
    candidates: [
      { name: 'naive (re-parse per check)', fn: () => naiveCheck(kick, texts) },
      { name: 'ours, checkEventAuth', fn: full },
      { name: 'ours, checkAuthRules on a state map', fn: () => checkAuthRules(kick, state, rules).allowed },
    ],
    targets: [
      fasterThan('ours, checkEventAuth', 'naive (re-parse per check)'),
      fasterThan('ours, checkAuthRules on a state map', 'naive (re-parse per check)'),
    ],
  });
}
