/**
 * State resolution v2 (room versions 2–11) and v2.1 (room version 12,
 * MSC4297): spec, room versions 2 and 12, "State resolution", as Synapse's
 * `synapse/state/v2.py` runs it, the auth rules being ours
 * ({@link checkAuthRules}).
 *
 * Where Synapse and the spec's words part, we follow Synapse (its reading
 * is what the network resolves rooms with), and say so where it happens:
 * the auth difference (see `authDifferenceOf`), the power events' closure,
 * create events, rejected events and the auth events of the iterative
 * checks below.
 *
 * @module
 */

import {
  CREATOR_LEVEL_WITHOUT_POWER_LEVELS,
  CREATOR_POWER_LEVEL,
  isCreator,
  type PowerLevel,
  userPowerLevel,
} from '../auth/powerlevels.js';
import { checkAuthRules } from '../auth/rules.js';
import { authTypesForEvent, type StateKey } from '../auth/selection.js';
import { StateMap } from '../auth/state.js';
import { compareCodePoints } from '../canonicaljson/keyorder.js';
import { isJsonObject } from '../canonicaljson/value.js';
import { InvalidInputError } from '../errors.js';
import type { Pdu } from '../hashing/schema.js';
import type { RoomVersionRules } from '../roomversions/rules.js';
import { authDifferenceOf, conflictedSubgraphOf } from './chains.js';
import type { EventGraph } from './graph.js';
import type { Loading } from './loader.js';
import { copyState, entriesOf, getIn, type NodeState, type StateIds, setIn, stateNode } from './state.js';

/** One event through the iterative auth checks, as explain mode records it. */
export interface TracedCheck {
  /** The event. */
  readonly node: number;
  /** Which ordering brought it: the power events', or the mainline's. */
  readonly phase: 'power' | 'mainline';
  /** Its place in that ordering: the sender's power level, or its mainline position. */
  readonly key: PowerLevel;
  /**
   * `allowed` (it entered the state), `rejected` by the auth rules (`rule`,
   * `reason`), or `skipped`: not a state event, rejected before, or content
   * the auth event selection cannot read.
   */
  readonly outcome: 'allowed' | 'rejected' | 'skipped';
  readonly rule?: string;
  readonly reason?: string;
}

/** What one resolution works with. */
export interface Resolution {
  readonly rules: RoomVersionRules;
  readonly graph: EventGraph;
  readonly stateSets: readonly StateIds[];
  /** Whether an event was rejected (the caller says; it is never guessed). */
  readonly isRejected: (node: number) => boolean;
  readonly maxEvents: number;
  /** Explain mode: every event through the iterative auth checks, in order. */
  readonly trace?: TracedCheck[];
}

const isKey = (event: Pdu, type: string): boolean => event.type === type && event.state_key === '';

/**
 * The unconflicted state (the keys every state set maps to the same event)
 * and the conflicted keys with their events (the conflicted state set: a
 * key missing from a set is a conflict too; spec, "Unconflicted state map
 * and conflicted state set"). Each key is looked up once in each set, and
 * only conflicts allocate: a large room's state is mostly unconflicted.
 */
export function separate(stateSets: readonly StateIds[]): {
  unconflicted: Map<string, Map<string, string>>;
  conflicted: [type: string, stateKey: string, ids: string[]][];
} {
  const unconflicted = new Map<string, Map<string, string>>();
  const conflicted: [string, string, string[]][] = [];
  const [first, ...rest] = stateSets;
  if (first === undefined) return { unconflicted, conflicted };
  const valuesOf = (type: string, stateKey: string, sets: readonly StateIds[]) => [
    ...new Set(sets.flatMap((state) => state.get(type)?.get(stateKey) ?? [])),
  ];
  for (const [type, byKey] of first) {
    const others = rest.map((state) => state.get(type));
    let same: Map<string, string> | undefined;
    for (const [stateKey, id] of byKey) {
      if (others.every((o) => o?.get(stateKey) === id)) {
        same ??= new Map();
        same.set(stateKey, id);
      } else {
        conflicted.push([type, stateKey, valuesOf(type, stateKey, stateSets)]);
      }
    }
    if (same !== undefined) unconflicted.set(type, same);
  }
  // Keys the first set lacks are conflicts: each once.
  const seen = new Map<string, Set<string>>();
  for (const state of rest) {
    for (const [type, byKey] of state) {
      const inFirst = first.get(type);
      for (const stateKey of byKey.keys()) {
        if (inFirst?.has(stateKey) === true || seen.get(type)?.has(stateKey) === true) continue;
        seen.set(type, (seen.get(type) ?? new Set()).add(stateKey));
        conflicted.push([type, stateKey, valuesOf(type, stateKey, rest)]);
      }
    }
  }
  return { unconflicted, conflicted };
}

/**
 * A power event (spec: "Power events"): power levels, join rules, and a
 * member event that removes someone else (leave or ban); Synapse counts the
 * create event too. A member event without a membership is none (Synapse
 * cannot read it at all).
 */
function isPowerEvent(event: Pdu): boolean {
  if (isKey(event, 'm.room.power_levels') || isKey(event, 'm.room.join_rules') || isKey(event, 'm.room.create')) {
    return true;
  }
  if (event.type !== 'm.room.member' || typeof event.state_key !== 'string') return false;
  const membership = event.content.membership;
  return (membership === 'leave' || membership === 'ban') && event.sender !== event.state_key;
}

/**
 * The power level of an event's sender as its own auth events give it
 * (spec: "Reverse topological power ordering", 1), as Synapse's
 * `_get_power_level_for_sender` reads them: the last power levels event and
 * create event among them; from v12 a creator's level is infinite; with no
 * power levels, 100 for the creator (the first create event's `creator`, or
 * from v11 its sender) and 0 for others. Where Synapse cannot read a level
 * it fails the resolution; we take 0 (only a rejected event can cite such
 * power levels, and a rejected event never enters the state).
 */
function senderPowerLevel(graph: EventGraph, node: number, rules: RoomVersionRules): PowerLevel {
  const event = graph.eventOf(node);
  const sender = event.sender;
  let levels: Pdu | undefined;
  let create: Pdu | undefined;
  let firstCreate: Pdu | undefined;
  for (const auth of graph.authOf(node)) {
    const e = graph.eventOf(auth);
    if (isKey(e, 'm.room.power_levels')) levels = e;
    if (isKey(e, 'm.room.create')) {
      create = e;
      firstCreate ??= e;
    }
  }
  try {
    if (create !== undefined && rules.auth.privilegedCreators && isCreator(create, sender, rules)) {
      return CREATOR_POWER_LEVEL;
    }
    if (levels === undefined) {
      if (firstCreate === undefined) return 0;
      const creator = rules.auth.implicitRoomCreator
        ? firstCreate.sender
        : isJsonObject(firstCreate.content)
          ? firstCreate.content.creator
          : undefined;
      return creator === sender ? CREATOR_LEVEL_WITHOUT_POWER_LEVELS : 0;
    }
    if (create === undefined) return 0;
    return userPowerLevel(new StateMap([create, levels]), sender, rules);
  } catch (e) {
    if (e instanceof InvalidInputError) return 0;
    throw e;
  }
}

/** A binary heap of nodes, smallest first by `before`. */
class Heap {
  readonly #items: number[] = [];
  readonly #before: (a: number, b: number) => boolean;

  constructor(before: (a: number, b: number) => boolean) {
    this.#before = before;
  }

  get size(): number {
    return this.#items.length;
  }

  push(item: number): void {
    const items = this.#items;
    let i = items.push(item) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#before(item, items[parent] as number)) break;
      items[i] = items[parent] as number;
      i = parent;
    }
    items[i] = item;
  }

  pop(): number {
    const items = this.#items;
    const top = items[0] as number;
    const last = items.pop() as number;
    if (items.length > 0) {
      let i = 0;
      for (;;) {
        let child = 2 * i + 1;
        if (child >= items.length) break;
        if (child + 1 < items.length && this.#before(items[child + 1] as number, items[child] as number)) child++;
        if (!this.#before(items[child] as number, last)) break;
        items[i] = items[child] as number;
        i = child;
      }
      items[i] = last;
    }
    return top;
  }
}

/** Orders two timestamps or levels (`number` or `bigint`, as JSON gives them). */
const compare = (a: number | bigint, b: number | bigint): number => (a < b ? -1 : a > b ? 1 : 0);

/** Ties broken by `origin_server_ts`, then event ID in code point order (Python's string order). */
function byTimeThenId(graph: EventGraph, a: number, b: number): number {
  return (
    compare(graph.eventOf(a).origin_server_ts, graph.eventOf(b).origin_server_ts) ||
    compareCodePoints(graph.idOf(a), graph.idOf(b))
  );
}

/**
 * The power events of the full conflicted set and the events of their auth
 * chains in it, in the reverse topological power ordering (spec: Kahn's
 * algorithm, the smallest candidate first: the sender's power level
 * greater, then `origin_server_ts` less, then event ID less).
 *
 * As Synapse builds the graph, an event joins it through an auth event edge
 * between two events of the full conflicted set: an event of the set that
 * a power event reaches only through events outside it is left to the
 * mainline ordering (the spec's words take the whole auth chain).
 */
function powerOrder(
  graph: EventGraph,
  full: ReadonlySet<number>,
  rules: RoomVersionRules,
): { order: number[]; level: Map<number, PowerLevel> } {
  const edges = new Map<number, number[]>();
  const stack = [...full].filter((node) => isPowerEvent(graph.eventOf(node)));
  for (const node of stack) edges.set(node, []);
  while (stack.length > 0) {
    const node = stack.pop() as number;
    const inSet = graph.authOf(node).filter((auth) => full.has(auth));
    edges.set(node, inSet);
    for (const auth of inSet) {
      if (edges.has(auth)) continue;
      edges.set(auth, []);
      stack.push(auth);
    }
  }
  const level = new Map([...edges.keys()].map((node) => [node, senderPowerLevel(graph, node, rules)]));
  const heap = new Heap(
    (a, b) => (compare(level.get(b) as PowerLevel, level.get(a) as PowerLevel) || byTimeThenId(graph, a, b)) < 0,
  );
  // Kahn's algorithm from the events whose auth events (in the graph) are all out.
  const waiting = new Map<number, number>();
  const citers = new Map<number, number[]>();
  for (const [node, auths] of edges) {
    const distinct = new Set(auths);
    waiting.set(node, distinct.size);
    for (const auth of distinct) {
      const list = citers.get(auth);
      if (list === undefined) citers.set(auth, [node]);
      else list.push(node);
    }
    if (distinct.size === 0) heap.push(node);
  }
  const order: number[] = [];
  while (heap.size > 0) {
    const node = heap.pop();
    order.push(node);
    for (const citer of citers.get(node) ?? []) {
      const left = (waiting.get(citer) as number) - 1;
      waiting.set(citer, left);
      if (left === 0) heap.push(citer);
    }
  }
  return { order, level };
}

/**
 * The iterative auth checks (spec: "Iterative auth checks"), as Synapse's
 * `_iterative_auth_checks` runs them: each event is checked against its own
 * auth events that were not rejected, with every key the auth event
 * selection names for it (and the create event) taken instead from the
 * state built so far, where it has one that was not rejected; allowed, it
 * enters the state. A rejected event never does (Synapse keeps an event's
 * rejection, where the spec would re-check events rejected against the
 * state before them); nor does one whose content the auth event selection
 * cannot read (Synapse fails the resolution on it).
 */
function iterativeAuthChecks(
  r: Resolution,
  order: readonly number[],
  base: NodeState,
  phase: TracedCheck['phase'],
  keyOf: (node: number) => PowerLevel,
): NodeState {
  const { graph, rules, trace } = r;
  const state = copyState(base);
  const skip = (node: number) => trace?.push({ node, phase, key: keyOf(node), outcome: 'skipped' });
  for (const node of order) {
    const event = graph.eventOf(node);
    if (typeof event.state_key !== 'string') {
      skip(node);
      continue;
    }
    let types: StateKey[];
    try {
      types = authTypesForEvent(event, rules, { nonStringKeys: 'ignore' });
    } catch (e) {
      if (!(e instanceof InvalidInputError)) throw e;
      skip(node);
      continue;
    }
    if (r.isRejected(node)) {
      skip(node);
      continue;
    }
    const authEvents = new StateMap();
    for (const auth of graph.authOf(node)) {
      const e = graph.eventOf(auth);
      if (!r.isRejected(auth) && typeof e.state_key === 'string') authEvents.set(e.type, e.state_key, e);
    }
    // Synapse's auth event selection names the create event in every room version.
    for (const [type, stateKey] of [...types, ['m.room.create', ''] as const]) {
      const current = getIn(state, type, stateKey);
      if (current !== undefined && !r.isRejected(current)) authEvents.set(type, stateKey, graph.eventOf(current));
    }
    // Synapse's state-dependent checks let any m.room.create through.
    const check = event.type === 'm.room.create' ? undefined : checkAuthRules(event, authEvents, rules);
    if (check === undefined || check.allowed) {
      setIn(state, event.type, event.state_key, node);
      trace?.push({ node, phase, key: keyOf(node), outcome: 'allowed' });
    } else {
      trace?.push({ node, phase, key: keyOf(node), outcome: 'rejected', rule: check.rule, reason: check.reason });
    }
  }
  return state;
}

/** The first power levels event among an event's auth events, if any. */
function powerLevelsAuthEvent(graph: EventGraph, node: number): number | undefined {
  return graph.authOf(node).find((auth) => isKey(graph.eventOf(auth), 'm.room.power_levels'));
}

/**
 * The events in the mainline ordering based on the power levels event
 * `levels` (spec: "Mainline ordering"): by mainline position, the earliest
 * mainline event first (events whose power levels lead to none of the
 * mainline first of all), then `origin_server_ts`, then event ID.
 */
function mainlineOrder(
  graph: EventGraph,
  events: readonly number[],
  levels: number | undefined,
): { order: number[]; position: Map<number, number> } {
  if (events.length === 0) return { order: [], position: new Map() };
  const mainline: number[] = [];
  for (let pl = levels; pl !== undefined; pl = powerLevelsAuthEvent(graph, pl)) mainline.push(pl);
  // Depth 1 for the oldest; 0 for events that reach none.
  const depth = new Map(mainline.map((node, i) => [node, mainline.length - i]));
  const depthOf = (node: number): number => {
    const walked: number[] = [];
    let found = 0;
    for (let e: number | undefined = node; e !== undefined; e = powerLevelsAuthEvent(graph, e)) {
      const d = depth.get(e);
      if (d !== undefined) {
        found = d;
        break;
      }
      walked.push(e);
    }
    // Every event walked through has the same depth: remember it.
    for (const e of walked) depth.set(e, found);
    return found;
  };
  const depths = new Map(events.map((node) => [node, depthOf(node)]));
  const order = [...events].sort(
    (a, b) => (depths.get(a) as number) - (depths.get(b) as number) || byTimeThenId(graph, a, b),
  );
  return { order, position: depths };
}

/**
 * The state the iterative auth checks start from: v2.1 empty; v2 the
 * unconflicted state, of the keys they can read (the power levels, the
 * create event, and the keys the auth event selection names for each event
 * of the full conflicted set), as Synapse restricts it. The rest of the
 * unconflicted state is laid over the result anyway, and copying a large
 * room's state twice would cost more than the resolution.
 */
function baseState(r: Resolution, unconflicted: StateIds, full: ReadonlySet<number>): NodeState {
  const base: NodeState = new Map();
  if (r.rules.stateResolution !== 'v2') return base;
  const take = (type: string, stateKey: string) => {
    const id = getIn(unconflicted, type, stateKey);
    if (id !== undefined) setIn(base, type, stateKey, r.graph.nodeOf(id) as number);
  };
  take('m.room.power_levels', '');
  take('m.room.create', '');
  for (const node of full) {
    try {
      for (const [type, stateKey] of authTypesForEvent(r.graph.eventOf(node), r.rules, { nonStringKeys: 'ignore' })) {
        take(type, stateKey);
      }
    } catch (e) {
      // The checks leave out an event they cannot select auth events for.
      if (!(e instanceof InvalidInputError)) throw e;
    }
  }
  return base;
}

/**
 * Resolves state sets by state resolution v2 (room versions 2–11) or v2.1
 * (room version 12): the unconflicted state and the full conflicted set
 * (the conflicted events, the auth difference, and in v2.1 the conflicted
 * state subgraph); the power events in the reverse topological power
 * ordering, through the iterative auth checks from the unconflicted state
 * (v2.1: from empty state); the other events in the mainline ordering of
 * the power levels that gives, through the iterative auth checks again;
 * then the unconflicted state over the result.
 */
export function* resolveV2(r: Resolution): Loading<Map<string, Map<string, string>>> {
  const { graph, rules, stateSets, maxEvents } = r;
  const { unconflicted, conflicted } = separate(stateSets);
  if (conflicted.length === 0) return copyState(unconflicted);
  const ids: string[] = [];
  for (const state of stateSets) for (const byKey of state.values()) for (const id of byKey.values()) ids.push(id);
  yield* graph.load(ids, maxEvents, true);
  // Every set holds the unconflicted events: their chains are in every
  // set's, so they count once, for all sets; each set adds its own events
  // of the conflicted keys.
  const common: number[] = [];
  for (const [type, byKey] of unconflicted) for (const [k, id] of byKey) common.push(stateNode(graph, type, k, id));
  const own = stateSets.map((state) =>
    conflicted.flatMap(([type, stateKey]) => {
      const id = state.get(type)?.get(stateKey);
      return id === undefined ? [] : [stateNode(graph, type, stateKey, id)];
    }),
  );
  const conflictedNodes = [...new Set(own.flat())];
  const full = new Set(conflictedNodes);
  for (const node of authDifferenceOf(graph, own, maxEvents, common)) full.add(node);
  if (rules.stateResolution === 'v2.1') {
    for (const node of conflictedSubgraphOf(graph, conflictedNodes, maxEvents)) full.add(node);
  }
  const power = powerOrder(graph, full, rules);
  const partial = iterativeAuthChecks(
    r,
    power.order,
    baseState(r, unconflicted, full),
    'power',
    (node) => power.level.get(node) as PowerLevel,
  );
  const powerSet = new Set(power.order);
  const others = mainlineOrder(
    graph,
    [...full].filter((node) => !powerSet.has(node)),
    getIn(partial, 'm.room.power_levels', ''),
  );
  const checked = iterativeAuthChecks(
    r,
    others.order,
    partial,
    'mainline',
    (node) => others.position.get(node) as number,
  );
  const resolved = copyState(unconflicted);
  for (const [type, stateKey, node] of entriesOf(checked)) {
    if (getIn(unconflicted, type, stateKey) === undefined) setIn(resolved, type, stateKey, graph.idOf(node));
  }
  return resolved;
}
