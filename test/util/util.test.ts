import { channel } from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import { raceAbort, SharedTask } from '../../src/util/abort.js';
import { Failures } from '../../src/util/backoff.js';
import { BoundedMap } from '../../src/util/bounded.js';
import { measured, type Outcome } from '../../src/util/diagnostics.js';

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

  it('shows the state of each name, and tells a listener of each change', () => {
    const changes: unknown[] = [];
    const f = new Failures({ initialMs: 100 }, 10, (name, state) => changes.push([name, state]));
    expect(f.state('a')).toBeUndefined();
    f.failed('a', 0);
    f.failed('b', 5);
    f.failed('a', 100);
    // Past its wait, a failure is still shown until a success.
    expect(f.state('a')).toEqual({ failures: 2, retryAt: 300 });
    expect([...f.states()]).toEqual([
      ['b', { failures: 1, retryAt: 105 }],
      ['a', { failures: 2, retryAt: 300 }],
    ]);
    f.succeeded('a');
    f.succeeded('never-failed');
    expect(f.state('a')).toBeUndefined();
    expect(changes).toEqual([
      ['a', { failures: 1, retryAt: 100 }],
      ['b', { failures: 1, retryAt: 105 }],
      ['a', { failures: 2, retryAt: 300 }],
      ['a', undefined],
    ]);
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

describe('raceAbort', () => {
  it('gives the value, or the signal reason as soon as it aborts', async () => {
    expect(await raceAbort(Promise.resolve(1), undefined)).toBe(1);
    expect(await raceAbort(Promise.resolve(2), new AbortController().signal)).toBe(2);
    const reason = new Error('r');
    await expect(raceAbort(new Promise(() => undefined), AbortSignal.abort(reason))).rejects.toBe(reason);
    const c = new AbortController();
    const pending = raceAbort(new Promise(() => undefined), c.signal);
    c.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });
});

describe('SharedTask', () => {
  /** A task whose work waits until released; records its signal and how often it ran. */
  function held() {
    const work = Promise.withResolvers<string>();
    const seen: { signal?: AbortSignal; runs: number } = { runs: 0 };
    const task = new SharedTask((signal) => {
      seen.signal = signal;
      seen.runs++;
      signal.addEventListener('abort', () => work.reject(signal.reason));
      return work.promise;
    });
    return { task, work, seen };
  }

  it('runs once for every waiter; a waiter giving up leaves the others their result', async () => {
    const { task, work, seen } = held();
    const a = new AbortController();
    const first = task.join(a.signal);
    const second = task.join(new AbortController().signal);
    task.start();
    task.start();
    await Promise.resolve();
    a.abort(new Error('a gave up'));
    await expect(first).rejects.toThrow('a gave up');
    expect(seen.signal?.aborted).toBe(false);
    expect(task.abandoned).toBe(false);
    work.resolve('done');
    expect(await second).toBe('done');
    expect(seen.runs).toBe(1);
  });

  it('aborts the work once every waiter has given up, unless one joined without a signal', async () => {
    const { task, seen } = held();
    const a = new AbortController();
    const b = new AbortController();
    const pa = task.join(a.signal);
    const pb = task.join(b.signal);
    task.start();
    await Promise.resolve();
    a.abort();
    b.abort();
    await expect(pa).rejects.toMatchObject({ name: 'AbortError' });
    await expect(pb).rejects.toMatchObject({ name: 'AbortError' });
    expect(seen.signal?.aborted).toBe(true);
    expect(task.abandoned).toBe(true);

    const pinned = held();
    const c = new AbortController();
    const pc = pinned.task.join(c.signal);
    const forever = pinned.task.join(undefined);
    pinned.task.start();
    c.abort();
    await expect(pc).rejects.toMatchObject({ name: 'AbortError' });
    expect(pinned.seen.signal?.aborted).toBe(false);
    pinned.work.resolve('kept');
    expect(await forever).toBe('kept');
  });

  it('refuses a waiter whose signal has aborted already, and passes on a failure of the work', async () => {
    const reason = new Error('late');
    const { task, work } = held();
    await expect(task.join(AbortSignal.abort(reason))).rejects.toBe(reason);
    const p = task.join(undefined);
    task.start();
    work.reject(new Error('broken'));
    await expect(p).rejects.toThrow('broken');
  });
});

describe('measured', () => {
  it('makes and publishes a message only while the channel has subscribers', async () => {
    const ch = channel('matrix-serverlib:test:measured');
    let described = 0;
    const describe = (o: Outcome<number>) => {
      described++;
      return o;
    };
    expect(await measured(ch, async () => 1, describe)).toBe(1);
    expect(described).toBe(0);
    const got: unknown[] = [];
    const listener = (m: unknown) => got.push(m);
    ch.subscribe(listener);
    try {
      expect(await measured(ch, async () => 2, describe)).toBe(2);
      const failure = new Error('no');
      await expect(measured(ch, () => Promise.reject(failure), describe)).rejects.toBe(failure);
    } finally {
      ch.unsubscribe(listener);
    }
    expect(described).toBe(2);
    expect(got).toEqual([
      { result: 2, error: undefined, durationMs: expect.any(Number) },
      { result: undefined, error: new Error('no'), durationMs: expect.any(Number) },
    ]);
  });
});
