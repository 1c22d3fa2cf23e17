/**
 * The exported power level helpers (src/auth/powerlevels.ts), on their own.
 * Expected values come from the spec (client-server API, `m.room.power_levels`:
 * the defaults; room versions' auth rules: the creator without power levels,
 * v12's creators) and, where the spec is silent (malformed content), from
 * Synapse's synapse/event_auth.py (get_user_power_level, get_named_level,
 * get_send_level) and synapse/events/__init__.py (is_creator), which read
 * levels with Python's `int()` and `dict.get`.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as auth from '../../src/auth/index.js';
import {
  CREATOR_POWER_LEVEL,
  DEFAULT_LEVELS,
  InvalidInputError,
  isCreator,
  namedPowerLevel,
  roomCreator,
  StateMap,
  sendPowerLevel,
  userPowerLevel,
} from '../../src/auth/index.js';
import { PythonError } from '../../src/auth/pyvalue.js';
import { JsonFloat, type JsonObject, type JsonValue } from '../../src/canonicaljson/index.js';
import type { Pdu } from '../../src/events/index.js';
import * as root from '../../src/index.js';
import { getRoomVersion } from '../../src/roomversions/index.js';
import { partialPdu } from '../helpers.js';

const ALL = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12'];
const range = (from: number, to = 12) => ALL.filter((v) => Number(v) >= from && Number(v) <= to);

const A = '@alice:a.org';
const B = '@bob:b.org';
const C = '@carol:c.org';

/** A create event sent by alice; `creator` as the room version has it (v1–v10). */
function create(v: string, content: JsonObject = {}, sender = A): Pdu {
  const creator = Number(v) <= 10 ? { creator: sender } : {};
  return partialPdu({
    type: 'm.room.create',
    state_key: '',
    sender,
    content: { ...creator, room_version: v, ...content },
  });
}

function powerLevels(content: JsonValue): Pdu {
  return partialPdu({ type: 'm.room.power_levels', state_key: '', sender: A, content });
}

/** State with alice's create event and, if given, power levels content. */
function state(v: string, levels?: JsonValue, createContent: JsonObject = {}): StateMap {
  const events = [create(v, createContent)];
  if (levels !== undefined) events.push(powerLevels(levels));
  return new StateMap(events);
}

/**
 * Asserts that `f` throws the library's malformed-input error: an
 * InvalidInputError M_BAD_JSON, the internal PythonError only its cause.
 */
function expectMalformed(f: () => unknown): void {
  let error: unknown;
  try {
    f();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(InvalidInputError);
  expect((error as Error).constructor).toBe(InvalidInputError);
  expect((error as InvalidInputError).errcode).toBe('M_BAD_JSON');
  expect((error as InvalidInputError).cause).toBeInstanceOf(PythonError);
  expect((error as InvalidInputError).message).toBe(((error as InvalidInputError).cause as Error).message);
}

describe('the defaults (spec: m.room.power_levels)', () => {
  it('are ban, kick and redact 50, invite 0, state_default 50, events_default 0, users_default 0', () => {
    expect(DEFAULT_LEVELS).toEqual({
      ban: 50,
      kick: 50,
      redact: 50,
      invite: 0,
      state_default: 50,
      events_default: 0,
      users_default: 0,
    });
  });

  it.each(ALL)('apply to every level a power levels event leaves out (v%s)', (v) => {
    for (const s of [state(v, {}), state(v)]) {
      expect(namedPowerLevel(s, 'ban')).toBe(50);
      expect(namedPowerLevel(s, 'kick')).toBe(50);
      expect(namedPowerLevel(s, 'redact')).toBe(50);
      expect(namedPowerLevel(s, 'invite')).toBe(0);
      expect(sendPowerLevel(s, 'm.room.topic', true)).toBe(50);
      expect(sendPowerLevel(s, 'm.room.message', false)).toBe(0);
    }
    // users_default 0: a user the event does not list.
    expect(userPowerLevel(state(v, {}), B, getRoomVersion(v))).toBe(0);
  });

  it.each(range(1, 11))('without a power levels event the creator is at 100 and everyone else at 0 (v%s)', (v) => {
    const rules = getRoomVersion(v);
    expect(userPowerLevel(state(v), A, rules)).toBe(100);
    expect(userPowerLevel(state(v), B, rules)).toBe(0);
  });

  it('without a power levels event a v12 creator is above every level, not at 100', () => {
    const rules = getRoomVersion('12');
    expect(userPowerLevel(state('12'), A, rules)).toBe(CREATOR_POWER_LEVEL);
    expect(userPowerLevel(state('12'), B, rules)).toBe(0);
  });
});

describe('the levels a power levels event sets', () => {
  const levels = {
    ban: 60,
    kick: 40,
    redact: 30,
    invite: 10,
    state_default: 70,
    events_default: 20,
    users_default: 5,
    events: { 'm.room.name': 80, 'm.room.message': 1 },
    users: { [B]: 90 },
  };

  it.each(ALL)('are read from it (v%s)', (v) => {
    const s = state(v, levels);
    const rules = getRoomVersion(v);
    expect(namedPowerLevel(s, 'ban')).toBe(60);
    expect(namedPowerLevel(s, 'kick')).toBe(40);
    expect(namedPowerLevel(s, 'redact')).toBe(30);
    expect(namedPowerLevel(s, 'invite')).toBe(10);
    // events[type], else state_default for state and events_default for the rest.
    expect(sendPowerLevel(s, 'm.room.name', true)).toBe(80);
    expect(sendPowerLevel(s, 'm.room.message', false)).toBe(1);
    expect(sendPowerLevel(s, 'm.room.topic', true)).toBe(70);
    expect(sendPowerLevel(s, 'm.reaction', false)).toBe(20);
    // users[user], else users_default.
    expect(userPowerLevel(s, B, rules)).toBe(90);
    expect(userPowerLevel(s, C, rules)).toBe(5);
  });

  it.each(range(1, 11))(
    'v%s: with a power levels event the creator is at what it says (the 100 is for a room without one)',
    (v) => {
      // The 100 is only for a room without power levels.
      expect(userPowerLevel(state(v, { users: { [B]: 100 } }), A, getRoomVersion(v))).toBe(0);
      expect(userPowerLevel(state(v, { users: { [A]: 7 } }), A, getRoomVersion(v))).toBe(7);
    },
  );

  it('a send level is looked up by type alone: a state event of a type events lists takes that level', () => {
    const s = state('10', { events: { 'm.room.message': 3 } });
    expect(sendPowerLevel(s, 'm.room.message', true)).toBe(3);
  });

  it('levels beyond 2^53 are bigints, compared exactly', () => {
    const s = state('5', { users: { [B]: 2n ** 60n, [C]: 2n ** 60n + 1n }, ban: 2n ** 60n + 1n });
    const rules = getRoomVersion('5');
    expect(userPowerLevel(s, B, rules)).toBe(2n ** 60n);
    expect(userPowerLevel(s, B, rules) < namedPowerLevel(s, 'ban')).toBe(true);
    expect(userPowerLevel(s, C, rules) >= namedPowerLevel(s, 'ban')).toBe(true);
  });
});

describe('creators', () => {
  it.each(range(1, 10))(
    "v%s: the room's creator is content.creator; isCreator is the create event's sender (Synapse: is_creator)",
    (v) => {
      // A create event whose creator (carol) is not its sender (alice).
      const c = create(v, { creator: C });
      const rules = getRoomVersion(v);
      expect(roomCreator(c, rules)).toBe(C);
      const s = new StateMap([c]);
      expect(userPowerLevel(s, C, rules)).toBe(100);
      expect(userPowerLevel(s, A, rules)).toBe(0);
      expect(isCreator(c, A, rules)).toBe(true);
      expect(isCreator(c, C, rules)).toBe(false);
    },
  );

  it.each(range(11))('v%s: content.creator means nothing; the creator is the sender', (v) => {
    const c = create(v, { creator: C });
    const rules = getRoomVersion(v);
    expect(roomCreator(c, rules)).toBe(A);
    const s = new StateMap([c]);
    expect(userPowerLevel(s, A, rules)).toBe(Number(v) >= 12 ? CREATOR_POWER_LEVEL : 100);
    expect(userPowerLevel(s, C, rules)).toBe(0);
  });

  it('v12: the sender and additional_creators are creators, at CREATOR_POWER_LEVEL (2^53) whatever users says', () => {
    const rules = getRoomVersion('12');
    const c = create('12', { additional_creators: [B] });
    expect(CREATOR_POWER_LEVEL).toBe(2n ** 53n);
    expect(isCreator(c, A, rules)).toBe(true);
    expect(isCreator(c, B, rules)).toBe(true);
    expect(isCreator(c, C, rules)).toBe(false);
    // Power levels may not list creators (rule 10.4); a state that does anyway does not demote them.
    const s = new StateMap([c, powerLevels({ users: { [A]: 0, [B]: 0, [C]: 50 }, users_default: 10 })]);
    expect(userPowerLevel(s, A, rules)).toBe(CREATOR_POWER_LEVEL);
    expect(userPowerLevel(s, B, rules)).toBe(CREATOR_POWER_LEVEL);
    expect(userPowerLevel(s, C, rules)).toBe(50);
    expect(userPowerLevel(s, '@dan:d.org', rules)).toBe(10);
    // Above every level an event can hold (Canonical JSON integers stop at 2^53 - 1), and equal to itself.
    expect(CREATOR_POWER_LEVEL > Number.MAX_SAFE_INTEGER).toBe(true);
  });

  it.each(range(1, 11))('v%s: additional_creators means nothing before v12', (v) => {
    const rules = getRoomVersion(v);
    const c = create(v, { additional_creators: [B] });
    expect(isCreator(c, B, rules)).toBe(false);
    expect(userPowerLevel(new StateMap([c]), B, rules)).toBe(0);
  });
});

describe('levels written as strings and floats', () => {
  it.each(range(1, 9))('v%s: a string level is read as int() reads it: " +0100 " is 100', (v) => {
    const rules = getRoomVersion(v);
    const s = state(v, {
      users: { [B]: ' +0100 ' },
      users_default: '-5',
      ban: '0050',
      events: { 'm.room.name': ' 7' },
    });
    expect(userPowerLevel(s, B, rules)).toBe(100);
    expect(userPowerLevel(s, C, rules)).toBe(-5);
    expect(namedPowerLevel(s, 'ban')).toBe(50);
    expect(sendPowerLevel(s, 'm.room.name', true)).toBe(7);
  });

  it('from v10 the helpers still read a string level, as Synapse does: such power levels are rejected as an event, not when read', () => {
    const s = state('10', { users: { [B]: ' +0100 ' } });
    expect(userPowerLevel(s, B, getRoomVersion('10'))).toBe(100);
  });

  it.each(range(1, 5))('v%s: a float is truncated toward zero (50.9 is 50, -0.5 is 0)', (v) => {
    const rules = getRoomVersion(v);
    const s = state(v, {
      users: { [B]: new JsonFloat(50.9), [C]: new JsonFloat(-0.5) },
      kick: new JsonFloat(49.99),
      events: { 'm.room.name': new JsonFloat(5.114698e4) },
    });
    expect(userPowerLevel(s, B, rules)).toBe(50);
    expect(userPowerLevel(s, C, rules)).toBe(0);
    expect(namedPowerLevel(s, 'kick')).toBe(49);
    // The spec's example: 5.114698E4 is 51146.98, which is 51146.
    expect(sendPowerLevel(s, 'm.room.name', true)).toBe(51146);
  });

  it('any integer n, as a number or as the string " +n ", reads as n (before v10)', () => {
    const rules = getRoomVersion('9');
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }), (n) => {
        const sign = n < 0 ? '-' : '+';
        const s = state('9', { users: { [B]: n, [C]: ` ${sign}${Math.abs(n)} ` } });
        expect(userPowerLevel(s, B, rules)).toBe(n);
        expect(userPowerLevel(s, C, rules)).toBe(n);
      }),
    );
  });
});

describe('null entries (Synapse: a None level falls back)', () => {
  it.each(ALL)('v%s: users[user] null is users_default; users_default null is 0', (v) => {
    const rules = getRoomVersion(v);
    expect(userPowerLevel(state(v, { users: { [B]: null }, users_default: 3 }), B, rules)).toBe(3);
    expect(userPowerLevel(state(v, { users: { [B]: null }, users_default: null }), B, rules)).toBe(0);
    expect(userPowerLevel(state(v, { users_default: null }), B, rules)).toBe(0);
  });

  it('a named level of null is its default', () => {
    const s = state('10', { ban: null, kick: null, redact: null, invite: null });
    expect(namedPowerLevel(s, 'ban')).toBe(50);
    expect(namedPowerLevel(s, 'kick')).toBe(50);
    expect(namedPowerLevel(s, 'redact')).toBe(50);
    expect(namedPowerLevel(s, 'invite')).toBe(0);
  });

  it('events[type] null falls back to the default; an explicit null default is int(None), which raises', () => {
    const s = state('10', { events: { 'm.room.name': null }, state_default: 60 });
    expect(sendPowerLevel(s, 'm.room.name', true)).toBe(60);
    expectMalformed(() => sendPowerLevel(state('10', { state_default: null }), 'm.room.name', true));
    expectMalformed(() => sendPowerLevel(state('10', { events_default: null }), 'm.room.message', false));
  });
});

describe('malformed content: an InvalidInputError M_BAD_JSON (caused by the internal PythonError)', () => {
  const rules = getRoomVersion('9');

  it('a level int() cannot read: users_default "abc", users[user] "50.9", ban "", kick []', () => {
    expectMalformed(() => userPowerLevel(state('9', { users_default: 'abc' }), B, rules));
    expectMalformed(() => userPowerLevel(state('9', { users: { [B]: '50.9' } }), B, rules));
    expectMalformed(() => namedPowerLevel(state('9', { ban: '' }), 'ban'));
    expectMalformed(() => namedPowerLevel(state('9', { kick: [] }), 'kick'));
    expectMalformed(() => sendPowerLevel(state('9', { events: { 'm.room.name': {} } }), 'm.room.name', true));
  });

  it('events or users that are not objects: events [], users [] or "x"', () => {
    expectMalformed(() => sendPowerLevel(state('9', { events: [] }), 'm.room.name', true));
    expectMalformed(() => userPowerLevel(state('9', { users: [] }), B, rules));
    expectMalformed(() => userPowerLevel(state('9', { users: 'x' }), B, rules));
  });

  it('a level that is not needed is not read', () => {
    // Synapse reads users_default only for a user users does not list.
    expect(userPowerLevel(state('9', { users: { [B]: 1 }, users_default: 'abc' }), B, rules)).toBe(1);
    expect(namedPowerLevel(state('9', { kick: 'abc' }), 'ban')).toBe(50);
  });

  it('no create event: a user level cannot be worked out', () => {
    expectMalformed(() => userPowerLevel(new StateMap([powerLevels({ users: { [B]: 1 } })]), B, rules));
    expectMalformed(() => userPowerLevel(new StateMap(), B, rules));
    // The error says what is missing.
    expect(() => userPowerLevel(new StateMap(), B, rules)).toThrow(/create event/);
  });

  it('a v1–v10 create event without creator, where the creator is needed (no power levels)', () => {
    const c = partialPdu({ type: 'm.room.create', state_key: '', sender: A, content: { room_version: '9' } });
    expectMalformed(() => roomCreator(c, rules));
    expectMalformed(() => userPowerLevel(new StateMap([c]), A, rules));
    expect(() => roomCreator(c, rules)).toThrow(/'creator'/);
    // With power levels the creator is not needed.
    expect(userPowerLevel(new StateMap([c, powerLevels({ users: { [A]: 100 } })]), A, rules)).toBe(100);
  });

  it('v12 additional_creators that is not a set of user IDs: a number, or a list holding a list', () => {
    const v12 = getRoomVersion('12');
    expectMalformed(() => isCreator(create('12', { additional_creators: 5 }), B, v12));
    expectMalformed(() => isCreator(create('12', { additional_creators: [[B]] }), B, v12));
    expectMalformed(() => userPowerLevel(new StateMap([create('12', { additional_creators: 5 })]), B, v12));
    // The sender is a creator before additional_creators is read.
    expect(isCreator(create('12', { additional_creators: 5 }), A, v12)).toBe(true);
  });
});

describe('the guide (docs/checking-events-are-allowed.md, §3 "Power levels for your own decisions")', () => {
  it('runs its snippet', () => {
    // The guide's snippet reads `state`, `userId` and `rules` from its
    // context; here they are a v12 room where alice is the creator and bob
    // is at 60 with a topic level of 70. Below, the snippet as written there.
    const rules = getRoomVersion('12');
    const state = new StateMap([create('12'), powerLevels({ users: { [B]: 60 }, events: { 'm.room.topic': 70 } })]);
    const decide = (userId: string) => {
      const mine = userPowerLevel(state, userId, rules); // creators in v12: above every level
      const canBan = mine >= namedPowerLevel(state, 'ban');
      const canSetTopic = mine >= sendPowerLevel(state, 'm.room.topic', true);
      return { mine, canBan, canSetTopic };
    };
    expect(decide(A)).toEqual({ mine: CREATOR_POWER_LEVEL, canBan: true, canSetTopic: true });
    expect(decide(B)).toEqual({ mine: 60, canBan: true, canSetTopic: false });
    expect(decide(C)).toEqual({ mine: 0, canBan: false, canSetTopic: false });
  });
});

describe('the public API', () => {
  it('does not export the Python emulation (issue 15): its errors are InvalidInputError M_BAD_JSON', () => {
    for (const api of [auth, root] as Record<string, unknown>[]) {
      for (const name of ['PythonError', 'pyInt', 'pyGet', 'pyValue'])
        expect(Object.hasOwn(api, name), name).toBe(false);
    }
    let error: unknown;
    try {
      userPowerLevel(state('9', { users: { [B]: 'x' } }), B, getRoomVersion('9'));
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ errcode: 'M_BAD_JSON' });
    expect(error).toBeInstanceOf(InvalidInputError);
  });
});
