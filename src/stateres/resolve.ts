/**
 * The entry points of state resolution: the auth chain and auth difference
 * of events a loader serves.
 *
 * @module
 */

import type { RoomVersionRules } from '../roomversions/rules.js';
import { authChainOf, authDifferenceOf } from './chains.js';
import { StateResolutionError } from './errors.js';
import { DEFAULT_MAX_EVENTS, EventGraph, quote } from './graph.js';
import { type EventLoader, type Loading, runLoading } from './loader.js';

/**
 * Room state by event ID: event type → state key → the ID of the state
 * event. State sets are given, and resolved state returned, so.
 */
export type StateIds = ReadonlyMap<string, ReadonlyMap<string, string>>;

/** Options of every function that loads auth chains. */
export interface LoadOptions {
  /**
   * The room's {@link EventGraph}, to load into and read from: kept between
   * calls for one room, it loads each event once. Default: a graph of this
   * call alone.
   */
  readonly cache?: EventGraph;
  /**
   * The most events one call visits: the events asked about and their auth
   * chains. Default {@link DEFAULT_MAX_EVENTS}.
   */
  readonly maxEvents?: number;
}

/** The graph to work in: the caller's, which must be of the same room version, or a new one. */
export function graphFor(rules: RoomVersionRules, options: LoadOptions): EventGraph {
  const graph = options.cache ?? new EventGraph(rules);
  if (graph.rules.id !== rules.id) {
    throw new StateResolutionError(
      'wrong-version',
      `The event graph is of room version ${quote(graph.rules.id)}, not ${quote(rules.id)}`,
    );
  }
  return graph;
}

/** The IDs of the events of a state set. */
export function* eventIdsOf(state: StateIds): Generator<string> {
  for (const byKey of state.values()) yield* byKey.values();
}

function* chainWork(graph: EventGraph, eventIds: readonly string[], maxEvents: number): Loading<Set<string>> {
  yield* graph.load(eventIds, maxEvents, true);
  const nodes = eventIds.map((id) => graph.nodeOf(id) as number);
  return new Set([...authChainOf(graph, nodes, maxEvents)].map((node) => graph.idOf(node)));
}

function* differenceWork(graph: EventGraph, stateSets: readonly StateIds[], maxEvents: number): Loading<Set<string>> {
  const sets = stateSets.map((state) => [...eventIdsOf(state)]);
  yield* graph.load(sets.flat(), maxEvents, true);
  const nodes = sets.map((ids) => ids.map((id) => graph.nodeOf(id) as number));
  return new Set([...authDifferenceOf(graph, nodes, maxEvents)].map((node) => graph.idOf(node)));
}

/**
 * The auth chain of events (spec: room versions 2 and later, "State
 * resolution", "Auth chain"): their auth events, the auth events of those,
 * and so on to the create event; of several events, the union of their
 * chains. An event asked about is in it only if it is in the chain of
 * another.
 *
 * @param rules - the room version's rules (from v12 every event but the
 *   create event has the create event its room ID names as an auth event).
 * @param eventIds - the events.
 * @param loader - where the events are loaded from.
 * @param options - a graph to keep, and the limit.
 * @returns the IDs of the events of the chain.
 * @throws {@link StateResolutionError} if an event is missing (`missing-event`),
 *   of another room (`wrong-room`), the auth events make a cycle
 *   (`auth-cycle`), or the chain is longer than the limit (`too-large`).
 */
export async function authChain(
  rules: RoomVersionRules,
  eventIds: Iterable<string>,
  loader: EventLoader,
  options: LoadOptions = {},
): Promise<Set<string>> {
  const graph = graphFor(rules, options);
  return runLoading(chainWork(graph, [...eventIds], options.maxEvents ?? DEFAULT_MAX_EVENTS), loader);
}

/**
 * The auth difference of state sets (spec: room versions 2 and later,
 * "State resolution", "Auth difference"): with C_i the full auth chain of
 * the state S_i, the events of ∪ C_i − ∩ C_i, those in some chains but not
 * all. As Synapse computes it, C_i holds the events of S_i as well as
 * their auth chains, so an event in every state set is never in the
 * difference (the spec's words take only the auth chains; Synapse's reading
 * is the one the network resolves with).
 *
 * @param rules - the room version's rules.
 * @param stateSets - the states.
 * @param loader - where the events are loaded from.
 * @param options - a graph to keep, and the limit.
 * @returns the IDs of the events of the difference.
 * @throws {@link StateResolutionError} as {@link authChain} does.
 */
export async function authDifference(
  rules: RoomVersionRules,
  stateSets: readonly StateIds[],
  loader: EventLoader,
  options: LoadOptions = {},
): Promise<Set<string>> {
  const graph = graphFor(rules, options);
  return runLoading(differenceWork(graph, stateSets, options.maxEvents ?? DEFAULT_MAX_EVENTS), loader);
}
