/**
 * Room state as the algorithms hold it while they resolve: event type →
 * state key → the event's node in the {@link EventGraph}. Nested maps, so
 * that no type and state key can pass for another pair.
 *
 * @module
 */

import { StateMap } from '../auth/state.js';
import type { Pdu } from '../hashing/schema.js';
import { StateResolutionError } from './errors.js';
import { type EventGraph, quote } from './graph.js';

/**
 * Room state by event ID: event type → state key → the ID of the state
 * event. State sets are given, and resolved state returned, so.
 */
export type StateIds = ReadonlyMap<string, ReadonlyMap<string, string>>;

/** The IDs of the events of a state set. */
export function* eventIdsOf(state: StateIds): Generator<string> {
  for (const byKey of state.values()) yield* byKey.values();
}

/** State by type and state key, to nodes. */
export type NodeState = Map<string, Map<string, number>>;

/** The value of a type and state key, if the state has one. */
export function getIn<V>(state: ReadonlyMap<string, ReadonlyMap<string, V>>, type: string, stateKey: string) {
  return state.get(type)?.get(stateKey);
}

/** Sets the value of a type and state key. */
export function setIn<V>(state: Map<string, Map<string, V>>, type: string, stateKey: string, value: V): void {
  let byKey = state.get(type);
  if (byKey === undefined) {
    byKey = new Map();
    state.set(type, byKey);
  }
  byKey.set(stateKey, value);
}

/** Removes the value of a type and state key (and the type, if it was its last). */
export function deleteIn<V>(state: Map<string, Map<string, V>>, type: string, stateKey: string): void {
  const byKey = state.get(type);
  byKey?.delete(stateKey);
  if (byKey?.size === 0) state.delete(type);
}

/** A copy of a state, to change. */
export function copyState<V>(state: ReadonlyMap<string, ReadonlyMap<string, V>>): Map<string, Map<string, V>> {
  return new Map([...state].map(([type, byKey]) => [type, new Map(byKey)]));
}

/** Every entry of a state: type, state key and value. */
export function* entriesOf<V>(
  state: ReadonlyMap<string, ReadonlyMap<string, V>>,
): Generator<[type: string, stateKey: string, value: V]> {
  for (const [type, byKey] of state) for (const [stateKey, value] of byKey) yield [type, stateKey, value];
}

/** The state as event IDs. */
export function idsOf(graph: EventGraph, state: NodeState): Map<string, Map<string, string>> {
  return new Map([...state].map(([type, byKey]) => [type, new Map([...byKey].map(([k, n]) => [k, graph.idOf(n)]))]));
}

/** The state's events as the auth rules read them. */
export function lookupOf(graph: EventGraph, state: NodeState): StateMap {
  const lookup = new StateMap();
  for (const [type, stateKey, node] of entriesOf(state)) lookup.set(type, stateKey, graph.eventOf(node));
  return lookup;
}

/**
 * The node of the event a state set maps `type` and `stateKey` to, which
 * must be loaded and be a state event of that type and state key.
 *
 * @throws {@link StateResolutionError} `bad-state-set` if it is not.
 */
export function stateNode(graph: EventGraph, type: string, stateKey: string, eventId: string): number {
  const node = graph.nodeOf(eventId) as number;
  const event: Pdu = graph.eventOf(node);
  if (event.type !== type || event.state_key !== stateKey) {
    throw new StateResolutionError(
      'bad-state-set',
      `A state set maps (${quote(type)}, ${quote(stateKey)}) to ${quote(eventId)}, which is not that state`,
      eventId,
    );
  }
  return node;
}
