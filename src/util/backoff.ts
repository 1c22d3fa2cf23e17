/**
 * Remembering failures: after something fails it is not tried again for a
 * while, and the wait grows with each further failure up to a cap; a
 * success forgets it.
 *
 * @module
 */

import { BoundedMap } from './bounded.js';

/** How long to wait after failures. */
export interface BackoffPolicy {
  /** The first wait, in milliseconds; default 1 minute. */
  readonly initialMs?: number;
  /** What each further failure multiplies the wait by; default 2. */
  readonly multiplier?: number;
  /** The longest wait, in milliseconds; default 1 hour. */
  readonly maxMs?: number;
}

/** What is remembered of something that failed. */
export interface BackoffState {
  /** Failures in a row since the last success (or reset). */
  readonly failures: number;
  /**
   * When it may be tried again (clock milliseconds). It may be past: it is
   * tried again then, and a further failure makes the next wait longer.
   */
  readonly retryAt: number;
}

/**
 * Told of each change: the new state after a failure, `undefined` when a
 * success or a reset forgets a failure. Entries dropped past the limit are
 * not told.
 */
export type BackoffListener = (name: string, state: BackoffState | undefined) => void;

interface Failing {
  retryAt: number;
  waitMs: number;
  failures: number;
}

/** Failures by name, each with its wait; at most `limit` remembered. */
export class Failures {
  readonly #failing: BoundedMap<string, Failing>;
  readonly #initialMs: number;
  readonly #multiplier: number;
  readonly #maxMs: number;
  readonly #onChange: BackoffListener | undefined;

  /**
   * @param policy - the waits.
   * @param limit - how many failures to remember at most (the oldest is
   *   forgotten first), so that a flood of names cannot exhaust memory.
   * @param onChange - told of each change (for diagnostics).
   */
  constructor(policy: BackoffPolicy, limit: number, onChange?: BackoffListener) {
    this.#initialMs = policy.initialMs ?? 60_000;
    this.#multiplier = policy.multiplier ?? 2;
    this.#maxMs = policy.maxMs ?? 3_600_000;
    // Past the limit the oldest failure is forgotten: at worst it is tried
    // once more.
    this.#failing = new BoundedMap(limit);
    this.#onChange = onChange;
  }

  /** Whether `name` failed and its wait has not passed at `now`. */
  waiting(name: string, now: number): boolean {
    return this.retryAt(name, now) !== undefined;
  }

  /** When `name` may be tried again, if its wait has not passed at `now`. */
  retryAt(name: string, now: number): number | undefined {
    const f = this.#failing.get(name);
    return f !== undefined && f.retryAt > now ? f.retryAt : undefined;
  }

  /** What is remembered of `name`'s failures, whether or not its wait has passed; undefined if nothing. */
  state(name: string): BackoffState | undefined {
    const f = this.#failing.get(name);
    return f === undefined ? undefined : { failures: f.failures, retryAt: f.retryAt };
  }

  /** Every name remembered as failing, with its state, the least recently failed first. */
  *states(): IterableIterator<[string, BackoffState]> {
    for (const [name, f] of this.#failing.entries()) yield [name, { failures: f.failures, retryAt: f.retryAt }];
  }

  /** Records a failure of `name` at `now`: its wait starts or grows. */
  failed(name: string, now: number): void {
    const previous = this.#failing.get(name);
    const waitMs = previous === undefined ? this.#initialMs : Math.min(this.#maxMs, previous.waitMs * this.#multiplier);
    const failing = { retryAt: now + waitMs, waitMs, failures: (previous?.failures ?? 0) + 1 };
    this.#failing.set(name, failing);
    this.#onChange?.(name, { failures: failing.failures, retryAt: failing.retryAt });
  }

  /** Records a success of `name`, or forgets its failures: no more waiting. */
  succeeded(name: string): void {
    if (this.#failing.get(name) === undefined) return;
    this.#failing.delete(name);
    this.#onChange?.(name, undefined);
  }
}
