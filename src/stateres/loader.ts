/**
 * How state resolution gets events: an asynchronous batch loader (a
 * homeserver loads from its database, many IDs per call), an in-memory one,
 * and the plumbing that lets one algorithm run on either.
 *
 * @module
 */

import { byId } from '../auth/check.js';
import type { Pdu } from '../hashing/schema.js';
import type { RoomVersionRules } from '../roomversions/rules.js';

/**
 * Where state resolution loads events from. A homeserver implements it over
 * its database; {@link memoryLoader} serves events held in memory.
 *
 * The IDs it answers with are trusted: each event must be the one its ID
 * names (from room version 3, the event's reference hash), as a homeserver's
 * store holds them. Events must be {@link Pdu}s (schema-checked), rejected
 * ones included: whether an event was rejected is a separate input
 * (the resolution's `rejected` option).
 */
export interface EventLoader {
  /**
   * Loads events by ID, many at a time (the resolution asks for a whole
   * frontier of the auth DAG at once: chunk it if the store needs).
   *
   * @param eventIds - distinct event IDs.
   * @returns the events found, by ID; an ID it does not have is left out
   *   (the resolution then fails with `missing-event`). Other entries are
   *   ignored.
   */
  loadEvents(eventIds: readonly string[]): Promise<ReadonlyMap<string, Pdu>>;
}

/**
 * Events held in memory, served as an {@link EventLoader} and, to the
 * synchronous entry points, synchronously.
 *
 * @internal
 */
export class MemoryEvents implements EventLoader {
  readonly #events: ReadonlyMap<string, Pdu>;

  constructor(events: Iterable<Pdu> | ReadonlyMap<string, Pdu>, rules: RoomVersionRules) {
    this.#events = byId(events, rules);
  }

  /** The events of `eventIds` that are held. */
  find(eventIds: readonly string[]): Map<string, Pdu> {
    const found = new Map<string, Pdu>();
    for (const id of eventIds) {
      const event = this.#events.get(id);
      if (event !== undefined) found.set(id, event);
    }
    return found;
  }

  async loadEvents(eventIds: readonly string[]): Promise<ReadonlyMap<string, Pdu>> {
    return this.find(eventIds);
  }
}

/**
 * An {@link EventLoader} over events held in memory.
 *
 * @param events - the events, as a list (their IDs are computed: from v3
 *   the reference hash, so every event is hashed once, here) or by ID (the
 *   keys are trusted as the events' IDs).
 * @param rules - the room version's rules, to compute the IDs.
 * @throws {@link InvalidInputError} `M_BAD_JSON` if an event's ID cannot be
 *   computed.
 */
export function memoryLoader(events: Iterable<Pdu> | ReadonlyMap<string, Pdu>, rules: RoomVersionRules): EventLoader {
  return new MemoryEvents(events, rules);
}

/**
 * A computation that loads events as it goes: it yields the IDs it needs
 * and is resumed with the events found. One algorithm, written once, then
 * runs on an asynchronous loader ({@link runLoading}) or on events in
 * memory ({@link runLoadingSync}).
 *
 * @internal
 */
export type Loading<T> = Generator<readonly string[], T, ReadonlyMap<string, Pdu>>;

/** Runs `work`, answering what it asks with `loader`. @internal */
export async function runLoading<T>(work: Loading<T>, loader: EventLoader): Promise<T> {
  let step = work.next();
  while (step.done !== true) step = work.next(await loader.loadEvents(step.value));
  return step.value;
}

/** Runs `work` to its end at once, answering what it asks from `events`. @internal */
export function runLoadingSync<T>(work: Loading<T>, events: MemoryEvents): T {
  let step = work.next();
  while (step.done !== true) step = work.next(events.find(step.value));
  return step.value;
}
