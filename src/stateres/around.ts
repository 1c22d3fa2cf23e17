/**
 * The states a room server keeps for each event: the state before it, from
 * the states after its `prev_events`, and the state after it (spec:
 * server-server API, "Checks performed on receipt of a PDU", which checks
 * an event against "the state at the event"; room versions, "State
 * resolution").
 *
 * @module
 */

import type { Pdu } from '../hashing/schema.js';
import type { RoomVersionRules } from '../roomversions/rules.js';
import type { EventLoader } from './loader.js';
import { type ResolveOptions, resolveState } from './resolve.js';
import { copyState, type StateIds, setIn } from './state.js';

/**
 * The state before an event: with no `prev_events` (a create event) the
 * empty state, with one the state after it, with several the resolution of
 * the states after each ({@link resolveState}, loading only when they
 * conflict).
 *
 * @example
 * ```ts
 * import { stateBeforeEvent } from 'matrix-serverlib/stateres';
 *
 * // The states after each prev_event, as the room server stored them.
 * declare const statesAfterPrevEvents: StateIds[];
 * declare const loader: EventLoader;
 * const before = await stateBeforeEvent(rules, statesAfterPrevEvents, loader);
 * ```
 *
 * @param rules - the room version's rules.
 * @param statesAfterPrevEvents - the state after each of the event's
 *   `prev_events`, in any order.
 * @param loader - where events are loaded from, if the states conflict.
 * @param options - as {@link resolveState}'s: the rejected events among
 *   them, a graph to keep, limits.
 * @returns the state before the event, by event ID (a new map).
 * @throws {@link StateResolutionError} as {@link resolveState} does.
 */
export async function stateBeforeEvent(
  rules: RoomVersionRules,
  statesAfterPrevEvents: readonly StateIds[],
  loader: EventLoader,
  options: ResolveOptions = {},
): Promise<Map<string, Map<string, string>>> {
  const [only] = statesAfterPrevEvents;
  if (only === undefined) return new Map();
  if (statesAfterPrevEvents.length === 1) return copyState(only);
  return resolveState(rules, statesAfterPrevEvents, loader, options);
}

/** Options of {@link stateAfterEvent}. */
export interface StateAfterOptions {
  /**
   * Whether the event was rejected: a rejected event changes no state
   * (spec: "Rejection": it is not used as state). Default false.
   */
  readonly rejected?: boolean;
}

/**
 * The state after an event: the state before it, with the event in its own
 * type and state key if it is a state event that was not rejected. A
 * message (no `state_key`) or a rejected event leaves the state as it was.
 *
 * @param stateBefore - the state before the event (see
 *   {@link stateBeforeEvent}); not modified.
 * @param event - the event, checked (`checkPduFormat`'s `pdu`).
 * @param eventId - its event ID.
 * @param options - whether it was rejected.
 * @returns the state after the event, by event ID (a new map). Never
 *   throws.
 */
export function stateAfterEvent(
  stateBefore: StateIds,
  event: Pdu,
  eventId: string,
  options: StateAfterOptions = {},
): Map<string, Map<string, string>> {
  const after = copyState(stateBefore);
  if (event.state_key !== undefined && options.rejected !== true) setIn(after, event.type, event.state_key, eventId);
  return after;
}
