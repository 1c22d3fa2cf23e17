import { describe, expect, it } from 'vitest';
import { Failures } from '../../src/util/backoff.js';
import { BoundedMap } from '../../src/util/bounded.js';

describe('BoundedMap', () => {
  it('drops the oldest entries past its limit; setting a key renews it', () => {
    const m = new BoundedMap<string, number>(2);
    m.set('a', 1);
    m.set('b', 2);
    m.set('a', 3);
    m.set('c', 4);
    expect([m.get('a'), m.get('b'), m.get('c'), m.size]).toEqual([3, undefined, 4, 2]);
    m.delete('a');
    m.clear();
    expect(m.size).toBe(0);
  });
});

describe('Failures', () => {
  it('waits the initial time, multiplies it per further failure up to the cap, and forgets on success', () => {
    const f = new Failures({ initialMs: 100, multiplier: 3, maxMs: 500 }, 10);
    expect(f.waiting('a', 0)).toBe(false);
    f.failed('a', 0);
    expect(f.retryAt('a', 0)).toBe(100);
    expect(f.waiting('a', 99)).toBe(true);
    expect(f.waiting('a', 100)).toBe(false);
    f.failed('a', 100); // 300
    expect(f.retryAt('a', 100)).toBe(400);
    f.failed('a', 400); // 900, capped at 500
    expect(f.retryAt('a', 400)).toBe(900);
    f.failed('a', 900); // still the cap
    expect(f.retryAt('a', 900)).toBe(1400);
    f.succeeded('a');
    expect(f.waiting('a', 900)).toBe(false);
    f.failed('a', 1000); // a fresh start after a success
    expect(f.retryAt('a', 1000)).toBe(1100);
  });

  it('defaults to 1 minute, doubling, up to 1 hour', () => {
    const f = new Failures({}, 10);
    const waits: number[] = [];
    let now = 0;
    for (let i = 0; i < 8; i++) {
      f.failed('a', now);
      const at = f.retryAt('a', now) as number;
      waits.push(at - now);
      now = at;
    }
    expect(waits).toEqual([60_000, 120_000, 240_000, 480_000, 960_000, 1_920_000, 3_600_000, 3_600_000]);
  });

  it('remembers at most `limit` failures, forgetting the oldest failure first', () => {
    const f = new Failures({ initialMs: 1000 }, 2);
    f.failed('a', 0);
    f.failed('b', 0);
    f.failed('a', 0); // a failed again: now the newer of the two
    f.failed('c', 0); // b, the oldest, is forgotten
    expect(['a', 'b', 'c'].map((n) => f.waiting(n, 1))).toEqual([true, false, true]);
  });
});
