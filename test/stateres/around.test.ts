/**
 * The state before and after an event (issue 17: the helpers a room server
 * needs). The state after a state event holds it in its type and state key,
 * a message or a rejected event changes nothing (spec: "Rejection"); the
 * state before an event is the state after its one prev_event, or the
 * resolution of the states after each.
 */
import { describe, expect, it } from 'vitest';
import type { Pdu } from '../../src/events/index.js';
import {
  memoryLoader,
  resolveState,
  type StateIds,
  stateAfterEvent,
  stateBeforeEvent,
} from '../../src/stateres/index.js';
import { Room } from '../auth/room.js';

/** The state as sorted `type|state_key=id` lines, for comparing. */
const lines = (state: StateIds) =>
  [...state].flatMap(([type, byKey]) => [...byKey].map(([k, id]) => `${type}|${k}=${id}`)).sort();

/** A room of `version` with members, power levels, a topic and messages, made one event after another. */
function linearRoom(version: string): Room {
  const room = new Room(version, '@alice:a.org');
  room.member('@alice:a.org', 'join');
  room.add('m.room.power_levels', '', '@alice:a.org', { users: { '@alice:a.org': 100 } });
  room.add('m.room.join_rules', '', '@alice:a.org', { join_rule: 'public' });
  room.add('m.room.message', undefined, '@alice:a.org', { body: 'hi' });
  room.member('@bob:b.org', 'join');
  room.add('m.room.topic', '', '@alice:a.org', { topic: 'one' });
  room.add('m.room.message', undefined, '@bob:b.org', { body: 'hello' });
  room.add('m.room.topic', '', '@bob:b.org', { topic: 'two' });
  room.member('@bob:b.org', 'leave');
  return room;
}

describe('stateAfterEvent', () => {
  for (const version of ['1', '10', '12']) {
    it(`folded over a room's events from its create event, gives the room's state (v${version})`, () => {
      const room = linearRoom(version);
      let state: StateIds = new Map();
      for (const [id, event] of room.events) state = stateAfterEvent(state, event, id);
      const expected = room.currentState().map((e) => `${e.type}|${e.state_key}=${room.idOf(e)}`);
      expect(lines(state)).toEqual(expected.sort());
    });
  }

  it('leaves the state before as it was, and a rejected event out', () => {
    const room = linearRoom('10');
    const [createId, create] = [...room.events][0] as [string, Pdu];
    const before = new Map([['m.room.create', new Map([['', createId]])]]);
    const topic = room.make('m.room.topic', '', '@alice:a.org', { topic: 'three' });
    const after = stateAfterEvent(before, topic.event as Pdu, topic.id);
    expect(lines(after)).toEqual([`m.room.create|=${createId}`, `m.room.topic|=${topic.id}`]);
    expect(lines(before)).toEqual([`m.room.create|=${createId}`]);
    expect(lines(stateAfterEvent(before, topic.event as Pdu, topic.id, { rejected: true }))).toEqual(lines(before));
    expect(stateAfterEvent(before, create, createId, { rejected: true })).not.toBe(before);
  });
});

describe('stateBeforeEvent', () => {
  const never = {
    loadEvents: async (): Promise<Map<string, Pdu>> => {
      throw new Error('nothing to load');
    },
  };

  it('is the empty state without prev_events, and the one state after a single prev_event', async () => {
    const room = linearRoom('11');
    expect(await stateBeforeEvent(room.rules, [], never)).toEqual(new Map());
    let state: StateIds = new Map();
    for (const [id, event] of room.events) state = stateAfterEvent(state, event, id);
    const before = await stateBeforeEvent(room.rules, [state], never);
    expect(lines(before)).toEqual(lines(state));
    expect(before).not.toBe(state);
  });

  for (const version of ['2', '11', '12']) {
    it(`resolves the states after several prev_events: of two topics, the one in the later mainline position (v${version})`, async () => {
      const room = linearRoom(version);
      let base: StateIds = new Map();
      for (const [id, event] of room.events) base = stateAfterEvent(base, event, id);
      const fork = (topic: string) => {
        const made = room.make('m.room.topic', '', '@alice:a.org', { topic });
        room.events.set(made.id, made.event as Pdu);
        return stateAfterEvent(base, made.event as Pdu, made.id);
      };
      const [one, two] = [fork('fork one'), fork('fork two')];
      const loader = memoryLoader(room.events, room.rules);
      const before = await stateBeforeEvent(room.rules, [one, two], loader);
      // Same power, same mainline position: the later origin_server_ts wins (spec: mainline ordering).
      expect(before.get('m.room.topic')?.get('')).toBe(two.get('m.room.topic')?.get(''));
      expect(lines(before)).toEqual(lines(await resolveState(room.rules, [two, one], loader)));
    });
  }
});
