/**
 * State resolution v1, v2 and v2.1 (spec: room versions 1, 2 and 12,
 * "State resolution"): ruma's named fixtures, which include MSC4297's
 * problems A and B, and small forks whose outcome follows from the spec's
 * definitions (v1: from Synapse's algorithm, which is v1's only complete
 * description). The differential test against Synapse itself is
 * test/interop/stateres.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../../src/canonicaljson/index.js';
import type { Pdu } from '../../src/events/index.js';
import {
  EventGraph,
  memoryLoader,
  resolveState,
  resolveStateSync,
  type StateIds,
  type StateResolutionError,
} from '../../src/stateres/index.js';
import type { Room } from '../auth/room.js';
import { rejection } from './dag.js';
import { forkedRoom } from './forks.js';
import { rumaCases } from './ruma.js';

/** A state of the events `events` (each a state event), by ID. */
function stateOf(room: Room, events: Iterable<JsonObject>): Map<string, Map<string, string>> {
  const state = new Map<string, Map<string, string>>();
  for (const e of events) {
    const byKey = state.get(e.type as string) ?? new Map<string, string>();
    byKey.set(e.state_key as string, room.idOf(e));
    state.set(e.type as string, byKey);
  }
  return state;
}

/** The state as sorted `type|state_key=id` lines, for comparing. */
function lines(state: StateIds, name: (id: string) => string = (id) => id): string[] {
  return [...state].flatMap(([type, byKey]) => [...byKey].map(([k, id]) => `${type}|${k}=${name(id)}`)).sort();
}

describe("ruma's fixtures (MIT, ruma/ruma crates/ruma-state-res)", () => {
  for (const c of rumaCases()) {
    it(c.name, async () => {
      const name = (id: string) => c.rumaId.get(id) ?? id;
      const got = await resolveState(c.rules, c.stateSets, memoryLoader(c.events, c.rules));
      expect(lines(got, name)).toEqual(lines(c.expected, name));
    });
  }
});

describe('state resolution', () => {
  for (const version of ['1', '2', '10', '12']) {
    it(`v${version}: one state set resolves to itself, loading nothing`, async () => {
      const { room, base } = forkedRoom(version);
      const calls: string[][] = [];
      const loader = {
        loadEvents: async (ids: readonly string[]) => {
          calls.push([...ids]);
          return new Map();
        },
      };
      const state = stateOf(room, base);
      expect(lines(await resolveState(room.rules, [state], loader))).toEqual(lines(state));
      expect(lines(await resolveState(room.rules, [state, state], loader))).toEqual(lines(state));
      expect(calls).toEqual([]);
    });
  }

  for (const version of ['2', '11', '12']) {
    it(`v${version}: of two topics, the later wins the mainline ordering; a rejected one never enters`, () => {
      const { room, base, fork } = forkedRoom(version);
      const t1 = fork('m.room.topic', '', '@alice:a.org', { topic: 'one' });
      const t2 = fork('m.room.topic', '', '@alice:a.org', { topic: 'two' });
      const sets = [stateOf(room, [...base, t1]), stateOf(room, [...base, t2])];
      const topic = (options = {}) =>
        resolveStateSync(room.rules, sets, room.events, options).get('m.room.topic')?.get('');
      expect(topic()).toBe(room.idOf(t2));
      expect(topic({ rejected: new Set([room.idOf(t2)]) })).toBe(room.idOf(t1));
      expect(topic({ rejected: new Set([room.idOf(t1), room.idOf(t2)]) })).toBeUndefined();
    });
  }

  it('v2: a key one state set lacks is conflicted, and re-checked; v1: it is not', () => {
    for (const [version, kept] of [
      ['1', true],
      ['2', false],
    ] as const) {
      const { room, base, fork } = forkedRoom(version);
      // A name carol sends without being in the room: the auth rules refuse it.
      const name = fork('m.room.name', '', '@carol:c.org', { name: 'n' });
      const topic = fork('m.room.topic', '', '@alice:a.org', { topic: 't' });
      const resolved = resolveStateSync(
        room.rules,
        [stateOf(room, [...base, name, topic]), stateOf(room, base)],
        room.events,
      );
      expect(resolved.get('m.room.name')?.get('') === room.idOf(name), version).toBe(kept);
      expect(resolved.get('m.room.topic')?.get(''), version).toBe(room.idOf(topic));
    }
  });

  it('v1: of two allowed topics the deeper wins; of a refused and an allowed one, the allowed', () => {
    const { room, base, fork } = forkedRoom('1');
    const shallow = fork('m.room.topic', '', '@alice:a.org', { topic: 'shallow' });
    const deep = room.make('m.room.topic', '', '@alice:a.org', { topic: 'deep' });
    (deep.event as { depth: number }).depth += 5;
    room.events.set(deep.id, deep.event as Pdu);
    const resolve = (a: JsonObject, b: JsonObject) =>
      resolveStateSync(room.rules, [stateOf(room, [...base, a]), stateOf(room, [...base, b])], room.events)
        .get('m.room.topic')
        ?.get('');
    expect(resolve(shallow, deep.event)).toBe(deep.id);
    // Carol is not in the room: her (deeper) topic fails the auth rules.
    const carols = room.make('m.room.topic', '', '@carol:c.org', { topic: 'carol' });
    (carols.event as { depth: number }).depth += 10;
    room.events.set(carols.id, carols.event as Pdu);
    expect(resolve(shallow, carols.event)).toBe(room.idOf(shallow));
  });

  it('answers the same through the asynchronous loader, the synchronous one and a kept graph', async () => {
    for (const version of ['1', '10', '12']) {
      const { room, base, fork } = forkedRoom(version);
      const ban = fork('m.room.member', '@bob:b.org', '@alice:a.org', { membership: 'ban' });
      const topic = fork('m.room.topic', '', '@bob:b.org', { topic: 'bob' });
      const sets = [stateOf(room, [...base, ban]), stateOf(room, [...base, topic])];
      const sync = lines(resolveStateSync(room.rules, sets, room.events));
      expect(lines(await resolveState(room.rules, sets, memoryLoader(room.events, room.rules)))).toEqual(sync);
      const cache = new EventGraph(room.rules);
      for (let i = 0; i < 2; i++) {
        expect(lines(resolveStateSync(room.rules, sets, room.events, { cache }))).toEqual(sync);
      }
      // The ban wins over bob's topic, which the ban leaves without a sender in the room.
      if (version !== '1') expect(sync).not.toContain(`m.room.topic|=${room.idOf(topic)}`);
    }
  });

  it('leaves out events whose content the rules cannot read, where Synapse fails (no error)', () => {
    for (const version of ['1', '5', '12']) {
      const { room, base, fork } = forkedRoom(version);
      // A member event without a membership, and power levels with a level Python's int() cannot read.
      const broken = fork('m.room.member', '@bob:b.org', '@bob:b.org', {});
      const levels = fork('m.room.power_levels', '', '@alice:a.org', {
        users: { '@alice:a.org': 100, '@bob:b.org': 'abc' },
      });
      const pl = room.idOf(levels);
      const cites = room
        .selectAuth({ type: 'm.room.topic', sender: '@bob:b.org', state_key: '' })
        .map((id) => (room.events.get(id)?.type === 'm.room.power_levels' ? pl : id));
      const topic = room.make('m.room.topic', '', '@bob:b.org', { topic: 'bob' }, { auth: cites });
      room.events.set(topic.id, topic.event as Pdu);
      const sets = [stateOf(room, [...base, broken, levels, topic.event]), stateOf(room, base)];
      const resolved = resolveStateSync(room.rules, sets, room.events);
      expect(resolved.get('m.room.member')?.get('@bob:b.org'), version).not.toBe(room.idOf(broken));
      expect(resolved.get('m.room.power_levels')?.get(''), version).not.toBe(pl);
    }
  });

  it('refuses a state set that maps a key to an event of another key', () => {
    const { room, base, fork } = forkedRoom('10');
    const topic = fork('m.room.topic', '', '@alice:a.org', { topic: 't' });
    const lying = stateOf(room, base).set('m.room.name', new Map([['', room.idOf(topic)]]));
    const err = (() => {
      try {
        resolveStateSync(room.rules, [lying, stateOf(room, base)], room.events);
      } catch (e) {
        return e as StateResolutionError;
      }
      throw new Error('not refused');
    })();
    expect([err.code, err.errcode, err.eventId]).toEqual(['bad-state-set', 'M_INVALID_PARAM', room.idOf(topic)]);
  });

  it('refuses more state sets than its limit, and a missing event', async () => {
    const { room, base } = forkedRoom('10');
    const state = stateOf(room, base);
    const tooMany = (await rejection(() =>
      resolveState(room.rules, [state, state, state], memoryLoader([], room.rules), { maxStateSets: 2 }),
    )) as StateResolutionError;
    expect([tooMany.code, tooMany.errcode]).toEqual(['too-large', 'M_TOO_LARGE']);
    const other = new Map(state).set('m.room.topic', new Map([['', '$nowhere']]));
    const missing = (await rejection(() =>
      resolveState(room.rules, [state, other], memoryLoader(room.events, room.rules)),
    )) as StateResolutionError;
    expect([missing.code, missing.eventId]).toEqual(['missing-event', '$nowhere']);
  });
});
