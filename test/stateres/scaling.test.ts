/**
 * Cost grows with the input, not faster: resolutions whose power events
 * all cite one event (a power levels change cited by thousands of bans),
 * timed at n and 2n events, the best of five runs of each in turn (never
 * an absolute time).
 */
import { describe, expect, it } from 'vitest';
import { resolveStateSync, type StateIds } from '../../src/stateres/index.js';
import { Dag, V10 } from './dag.js';

/** A room where one side bans `n` users under a new power levels event the other side never saw. */
function bans(n: number) {
  const dag = new Dag().add('$create', { type: 'm.room.create', content: { creator: '@alice:a.example' } });
  dag.add('$alice', {
    type: 'm.room.member',
    stateKey: '@alice:a.example',
    content: { membership: 'join' },
    auth: ['$create'],
  });
  dag.add('$pl', {
    type: 'm.room.power_levels',
    content: { users: { '@alice:a.example': 100 } },
    auth: ['$create', '$alice'],
  });
  const banned = new Map<string, string>([['@alice:a.example', '$alice']]);
  for (let i = 0; i < n; i++) {
    const user = `@u${i}:b.example`;
    dag.add(`$ban${i}`, {
      type: 'm.room.member',
      stateKey: user,
      content: { membership: 'ban' },
      auth: ['$create', '$pl', '$alice'],
      ts: i,
    });
    banned.set(user, `$ban${i}`);
  }
  const before: StateIds = new Map([
    ['m.room.create', new Map([['', '$create']])],
    ['m.room.member', new Map([['@alice:a.example', '$alice']])],
  ]);
  const after: StateIds = new Map([
    ...before,
    ['m.room.power_levels', new Map([['', '$pl']])],
    ['m.room.member', banned],
  ]);
  return { dag, sets: [before, after] };
}

/** How long `f` takes, in milliseconds. */
function timed(f: () => void): number {
  const start = performance.now();
  f();
  return performance.now() - start;
}

describe('the cost of a resolution', () => {
  it('grows linearly with power events citing one event', () => {
    const n = 8_000;
    const small = bans(n);
    const large = bans(2 * n);
    const run = (room: ReturnType<typeof bans>) => () => {
      expect(resolveStateSync(V10, room.sets, room.dag.events).get('m.room.member')?.size).toBe(
        room.sets[1]?.get('m.room.member')?.size,
      );
    };
    // Runs of the two sizes in turn, the best of each: the first compiles the code.
    let once = Number.POSITIVE_INFINITY;
    let twice = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 5; i++) {
      once = Math.min(once, timed(run(small)));
      twice = Math.min(twice, timed(run(large)));
    }
    expect(twice / once).toBeLessThan(3);
  });
});
