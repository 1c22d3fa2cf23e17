/**
 * The entry points of state resolution: resolving state sets, and the auth
 * chain and auth difference of events a loader serves.
 *
 * @module
 */

import type { Pdu } from '../hashing/schema.js';
import type { RoomVersionRules } from '../roomversions/rules.js';
import { authChainOf, authDifferenceOf } from './chains.js';
import { StateResolutionError } from './errors.js';
import { DEFAULT_MAX_EVENTS, EventGraph, quote } from './graph.js';
import { type EventLoader, type Loading, MemoryEvents, runLoading, runLoadingSync } from './loader.js';
import { eventIdsOf, type StateIds } from './state.js';
import { resolveV1 } from './v1.js';
import { resolveV2, type TracedCheck } from './v2.js';

/**
 * The most state sets one resolution takes by default. The auth difference
 * carries a bit a state set for each event of the chains: 1,000 sets are
 * 128 bytes an event. Resolving the state before an event takes one set a
 * `prev_events` entry, of which Synapse accepts 20.
 */
export const DEFAULT_MAX_STATE_SETS = 1_000;

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

/** Options of {@link resolveState} and {@link resolveStateSync}. */
export interface ResolveOptions extends LoadOptions {
  /**
   * The IDs of events that were rejected (they failed the auth rules
   * against their auth events or the state before them): they never enter
   * the resolved state, and are not used as auth events. Whether an event
   * was rejected is never guessed: give every rejected event the state sets
   * or their auth chains hold.
   */
  readonly rejected?: ReadonlySet<string>;
  /** The most state sets one resolution takes. Default {@link DEFAULT_MAX_STATE_SETS}. */
  readonly maxStateSets?: number;
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

/**
 * The resolution, as a computation that loads through a loader; `trace`
 * (explain mode) collects the iterative auth checks of v2 and v2.1.
 */
export function* resolution(
  rules: RoomVersionRules,
  stateSets: readonly StateIds[],
  options: ResolveOptions,
  trace?: TracedCheck[],
): Loading<Map<string, Map<string, string>>> {
  const maxStateSets = options.maxStateSets ?? DEFAULT_MAX_STATE_SETS;
  if (stateSets.length > maxStateSets) {
    throw new StateResolutionError('too-large', `More than ${maxStateSets} state sets to resolve`);
  }
  const graph = graphFor(rules, options);
  const rejected = options.rejected ?? new Set<string>();
  const r = {
    rules,
    graph,
    stateSets,
    isRejected: (node: number) => rejected.has(graph.idOf(node)),
    maxEvents: options.maxEvents ?? DEFAULT_MAX_EVENTS,
    ...(trace === undefined ? {} : { trace }),
  };
  return rules.stateResolution === 'v1' ? yield* resolveV1(r) : yield* resolveV2(r);
}

/**
 * Resolves a room's state sets into one state (spec: room versions,
 * "State resolution"): what the room's state is where its servers' views
 * fork, such as the state before an event whose `prev_events` have
 * different states (resolve the states after each).
 *
 * The algorithm is the room version's: v1 (room version 1), v2 (versions
 * 2–11), v2.1 (version 12, MSC4297). Each follows the spec as Synapse runs
 * it, with our auth rules: where Synapse's reading and the spec's words
 * part, Synapse's is the one the network resolves rooms with, and the one
 * taken (each place is said in the code; among them, rejected events never
 * enter the state).
 *
 * Events are loaded as needed, a frontier of the auth DAG at a time: for
 * v2 and v2.1 every event of the state sets and of their auth chains (once
 * there is a conflict); for v1 only the conflicting events and their auth
 * events in the unconflicted state.
 *
 * @param rules - the room version's rules.
 * @param stateSets - the states to resolve, by event ID. Each maps a type
 *   and state key to a state event of that type and state key.
 * @param loader - where events are loaded from.
 * @param options - rejected events, a graph to keep, limits.
 * @returns the resolved state, by event ID (a new map).
 * @throws {@link StateResolutionError} if an event is missing
 *   (`missing-event`), of another room (`wrong-room`), not the state its
 *   state set says (`bad-state-set`), the auth events make a cycle
 *   (`auth-cycle`), the graph is of another room version (`wrong-version`),
 *   or a limit is passed (`too-large`). An event the auth rules reject is
 *   no error: it is left out.
 */
export async function resolveState(
  rules: RoomVersionRules,
  stateSets: readonly StateIds[],
  loader: EventLoader,
  options: ResolveOptions = {},
): Promise<Map<string, Map<string, string>>> {
  return runLoading(resolution(rules, stateSets, options), loader);
}

/**
 * {@link resolveState} over events held in memory, at once.
 *
 * @param rules - the room version's rules.
 * @param stateSets - the states to resolve, by event ID.
 * @param events - the events of the state sets and of their auth chains,
 *   as a list (their IDs are computed: from v3 each is hashed) or by ID
 *   (the keys are trusted as the events' IDs); others are ignored.
 * @param options - rejected events, a graph to keep, limits.
 * @returns the resolved state, by event ID.
 * @throws {@link StateResolutionError} as {@link resolveState} does;
 *   {@link InvalidInputError} `M_BAD_JSON` if an event's ID cannot be
 *   computed.
 */
export function resolveStateSync(
  rules: RoomVersionRules,
  stateSets: readonly StateIds[],
  events: Iterable<Pdu> | ReadonlyMap<string, Pdu>,
  options: ResolveOptions = {},
): Map<string, Map<string, string>> {
  return runLoadingSync(resolution(rules, stateSets, options), new MemoryEvents(events, rules));
}
