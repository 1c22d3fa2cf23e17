/**
 * Explain mode (issue 17): for each conflicted type and state key, the
 * candidates, the auth checks of its events in the order they ran (the
 * ordering's key, the rule that refused), and the winner; the state the
 * same as resolveState's. Expected values from the spec's algorithm on
 * forks small enough to follow by hand.
 */
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../../src/canonicaljson/index.js';
import type { Pdu } from '../../src/events/index.js';
import { explainResolution, memoryLoader, resolveState, type StateIds } from '../../src/stateres/index.js';
import { forkedRoom } from './forks.js';

/** The forked room, with the fork's makers giving IDs and a state of the base plus given events. */
function fixture(version: string) {
  const { room, base, fork } = forkedRoom(version);
  const stateOf = (...ids: string[]): StateIds => {
    const state = new Map<string, Map<string, string>>();
    for (const e of [...base, ...ids.map((id) => room.events.get(id) as Pdu)]) {
      const byKey = state.get(e.type) ?? new Map<string, string>();
      byKey.set(e.state_key as string, room.idOf(e));
      state.set(e.type, byKey);
    }
    return state;
  };
  const forkId = (type: string, stateKey: string, sender: string, content: JsonObject) =>
    room.idOf(fork(type, stateKey, sender, content));
  return { room, fork: forkId, stateOf, loader: () => memoryLoader(room.events, room.rules) };
}

describe('explainResolution', () => {
  for (const version of ['2', '11', '12']) {
    it(`names the candidates, their checks in mainline order and the winner (v${version})`, async () => {
      const { room, fork, stateOf, loader } = fixture(version);
      const one = fork('m.room.topic', '', '@alice:a.org', { topic: 'one' });
      const two = fork('m.room.topic', '', '@alice:a.org', { topic: 'two' });
      // Carol is not in the room: the auth rules refuse her topic.
      const carols = fork('m.room.topic', '', '@carol:c.org', { topic: 'carol' });
      const sets = [stateOf(one), stateOf(two), stateOf(carols)];
      const x = await explainResolution(room.rules, sets, loader());
      expect(x.algorithm).toBe(version === '12' ? 'v2.1' : 'v2');
      expect(x.state).toEqual(await resolveState(room.rules, sets, loader()));
      expect(x.conflicts.map((c) => [c.type, c.stateKey, c.candidates, c.winner])).toEqual([
        ['m.room.topic', '', [one, two, carols], two],
      ]);
      const checks = x.conflicts[0]?.checks ?? [];
      // Same mainline position (all cite the same power levels), then origin_server_ts: one, two, carol's.
      expect(checks.map((c) => [c.eventId, c.phase, c.outcome])).toEqual([
        [one, 'mainline', 'allowed'],
        [two, 'mainline', 'allowed'],
        [carols, 'mainline', 'rejected'],
      ]);
      expect(new Set(checks.map((c) => c.orderedBy)).size).toBe(1);
      expect(checks[2]).toMatchObject({ rule: expect.any(String), reason: expect.stringContaining('@carol:c.org') });
    });
  }

  it('orders power events by their sender’s level, and says who lost to a ban', async () => {
    const { room, fork, stateOf, loader } = fixture('11');
    const ban = fork('m.room.member', '@bob:b.org', '@alice:a.org', { membership: 'ban' });
    const topic = fork('m.room.topic', '', '@bob:b.org', { topic: 'bob' });
    const x = await explainResolution(room.rules, [stateOf(ban), stateOf(topic)], loader());
    // Bob's member event is the ban in one set and his join in the other. The ban cites
    // the join, so Kahn's algorithm takes the join first, whatever its sender's level (0).
    const join = room.state.get('m.room.member', '@bob:b.org') as Pdu;
    const member = x.conflicts.find((c) => c.type === 'm.room.member');
    expect(member?.candidates).toEqual([ban, room.idOf(join)]);
    expect(member?.winner).toBe(ban);
    expect(member?.checks).toEqual([
      expect.objectContaining({ eventId: room.idOf(join), phase: 'power', orderedBy: 0, outcome: 'allowed' }),
      expect.objectContaining({ eventId: ban, phase: 'power', orderedBy: 100, outcome: 'allowed' }),
    ]);
    // Bob's topic, checked after the ban, is refused: he is no longer in the room.
    const topicConflict = x.conflicts.find((c) => c.type === 'm.room.topic');
    expect(topicConflict?.winner).toBeUndefined();
    expect(topicConflict?.checks).toEqual([
      expect.objectContaining({ eventId: topic, phase: 'mainline', outcome: 'rejected' }),
    ]);
  });

  it('v1: the candidates and the winner, its checks not traced', async () => {
    const { room, fork, stateOf, loader } = fixture('1');
    const one = fork('m.room.topic', '', '@alice:a.org', { topic: 'one' });
    const two = fork('m.room.topic', '', '@alice:a.org', { topic: 'two' });
    const sets = [stateOf(one), stateOf(two)];
    const x = await explainResolution(room.rules, sets, loader());
    expect(x.algorithm).toBe('v1');
    const winner = (await resolveState(room.rules, sets, loader())).get('m.room.topic')?.get('');
    expect(x.conflicts).toEqual([{ type: 'm.room.topic', stateKey: '', candidates: [one, two], checks: [], winner }]);
  });
});
