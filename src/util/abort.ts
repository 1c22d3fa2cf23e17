/**
 * Cancelling waits with an `AbortSignal`: a wait that gives up as soon as
 * its signal aborts, and work shared by several waiters that is cancelled
 * only once every one of them has given up.
 *
 * @module
 */

/** Options of a call that can be cancelled. */
export interface AbortOptions {
  /**
   * Cancels the call: it rejects at once with the signal's `reason` (an
   * `AbortError` `DOMException` unless the caller gave another), and the
   * requests it made are aborted where nothing else waits for them.
   */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Waits for `promise`, but rejects with the signal's reason as soon as the
 * signal aborts (or at once if it has). The work behind the promise goes
 * on: stop it with the same signal where it takes one.
 *
 * @param promise - what to wait for.
 * @param signal - gives up the wait; none waits to the end.
 */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) {
    // Nobody waits for it any more: its failure must not go unhandled.
    promise.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/**
 * A deadline of `timeoutMs` combined with the caller's signal: aborts at
 * whichever comes first (the caller's reason, or a `TimeoutError`).
 *
 * @param timeoutMs - the deadline, in milliseconds from now.
 * @param signal - the caller's signal, if any.
 */
export function withDeadline(timeoutMs: number, signal: AbortSignal | undefined): AbortSignal {
  const timeout = AbortSignal.timeout(timeoutMs);
  return signal === undefined ? timeout : AbortSignal.any([timeout, signal]);
}

/**
 * Work that several callers wait for (a fetch shared by concurrent
 * lookups): each waiter may give up with its own signal without disturbing
 * the others, and the work's own signal aborts only when every waiter has
 * given up. A waiter without a signal holds the work to its end.
 *
 * Waiters may join before the work starts ({@link SharedTask.start}), to
 * gather a batch.
 */
export class SharedTask<T> {
  readonly #run: (signal: AbortSignal) => Promise<T>;
  readonly #controller = new AbortController();
  readonly #result = Promise.withResolvers<T>();
  /** Waiters whose signal has not aborted. */
  #holders = 0;
  /** Whether a waiter without a signal joined: the work is never abandoned. */
  #pinned = false;
  #started = false;

  /** @param run - the work, given a signal that aborts once every waiter has given up. */
  constructor(run: (signal: AbortSignal) => Promise<T>) {
    this.#run = run;
    // Waiters that gave up do not see how the work ended.
    this.#result.promise.catch(() => undefined);
  }

  /** Starts the work, once; later calls do nothing. */
  start(): this {
    if (this.#started) return this;
    this.#started = true;
    // A run that throws at once rejects like one that fails later.
    Promise.resolve()
      .then(() => this.#run(this.#controller.signal))
      .then(this.#result.resolve, this.#result.reject);
    return this;
  }

  /** Whether every waiter has given up (the work's signal aborted): a new waiter should start new work. */
  get abandoned(): boolean {
    return this.#controller.signal.aborted;
  }

  /**
   * Waits for the work's result.
   *
   * @param signal - gives up this wait (rejecting with its reason); the
   *   work goes on while other waiters hold it.
   */
  join(signal: AbortSignal | undefined): Promise<T> {
    if (signal === undefined) {
      this.#pinned = true;
      return this.#result.promise;
    }
    if (signal.aborted) return Promise.reject(signal.reason);
    this.#holders++;
    const release = () => {
      if (--this.#holders === 0 && !this.#pinned) this.#controller.abort();
    };
    signal.addEventListener('abort', release, { once: true });
    const unlisten = () => signal.removeEventListener('abort', release);
    this.#result.promise.then(unlisten, unlisten);
    return raceAbort(this.#result.promise, signal);
  }
}
