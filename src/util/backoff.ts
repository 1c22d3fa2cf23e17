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

interface Failing {
  retryAt: number;
  waitMs: number;
}

/** Failures by name, each with its wait; at most `limit` remembered. */
export class Failures {
  readonly #failing: BoundedMap<string, Failing>;
  readonly #initialMs: number;
  readonly #multiplier: number;
  readonly #maxMs: number;

  /**
   * @param policy - the waits.
   * @param limit - how many failures to remember at most (the oldest is
   *   forgotten first), so that a flood of names cannot exhaust memory.
   */
  constructor(policy: BackoffPolicy, limit: number) {
    this.#initialMs = policy.initialMs ?? 60_000;
    this.#multiplier = policy.multiplier ?? 2;
    this.#maxMs = policy.maxMs ?? 3_600_000;
    // Past the limit the oldest failure is forgotten: at worst it is tried
    // once more.
    this.#failing = new BoundedMap(limit);
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

  /** Records a failure of `name` at `now`: its wait starts or grows. */
  failed(name: string, now: number): void {
    const previous = this.#failing.get(name);
    const waitMs = previous === undefined ? this.#initialMs : Math.min(this.#maxMs, previous.waitMs * this.#multiplier);
    this.#failing.set(name, { retryAt: now + waitMs, waitMs });
  }

  /** Records a success of `name`: no more waiting. */
  succeeded(name: string): void {
    this.#failing.delete(name);
  }
}
