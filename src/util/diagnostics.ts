/**
 * Publishing what a call did on a `node:diagnostics_channel` channel, at
 * no cost while nobody subscribes.
 *
 * @module
 */

/**
 * What publishing needs of a channel: a `Channel` of
 * `node:diagnostics_channel` has it. Declared here so that the package's
 * declarations need no Node types (they must type-check without
 * `@types/node`).
 */
export interface Publisher {
  /** Whether anyone listens: nothing is built for a channel nobody hears. */
  readonly hasSubscribers: boolean;
  /** Hands `message` to each subscriber. */
  publish(message: unknown): void;
}

/** How a measured call ended. */
export interface Outcome<T> {
  /** What it resolved to, if it did. */
  readonly result: T | undefined;
  /** What it rejected with, if it did. */
  readonly error: unknown;
  /** How long it took, in milliseconds (monotonic clock). */
  readonly durationMs: number;
}

/**
 * Runs `call` and, if `channel` has subscribers when it starts, publishes
 * the message `describe` makes of how it ended (resolved or rejected).
 *
 * @param channel - where to publish.
 * @param call - the call.
 * @param describe - makes the message.
 */
export async function measured<T>(
  channel: Publisher,
  call: () => Promise<T>,
  describe: (outcome: Outcome<T>) => unknown,
): Promise<T> {
  if (!channel.hasSubscribers) return call();
  const started = performance.now();
  let result: T | undefined;
  let error: unknown;
  try {
    result = await call();
    return result;
  } catch (e) {
    error = e;
    throw e;
  } finally {
    channel.publish(describe({ result, error, durationMs: performance.now() - started }));
  }
}
