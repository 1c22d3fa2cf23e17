/**
 * State resolution v1 (room version 1), which the spec describes only in
 * outline ("Room version 1", "State resolution"): as Synapse's
 * `synapse/state/v1.py` runs it, the auth rules being ours
 * ({@link checkAuthRules}).
 *
 * @module
 */

import { createHash } from 'node:crypto';
import { checkAuthRules } from '../auth/rules.js';
import { authTypesForEvent, type StateKey } from '../auth/selection.js';
import { InvalidInputError } from '../errors.js';
import type { Pdu } from '../hashing/schema.js';
import type { RoomVersionRules } from '../roomversions/rules.js';
import type { EventGraph } from './graph.js';
import type { Loading } from './loader.js';
import { copyState, deleteIn, entriesOf, getIn, idsOf, lookupOf, type NodeState, setIn, stateNode } from './state.js';
import type { Resolution } from './v2.js';

/** The keys the auth event selection names for an event: none if it cannot read the event (Synapse fails there). */
function authKeys(event: Pdu, rules: RoomVersionRules): StateKey[] {
  try {
    return authTypesForEvent(event, rules, { nonStringKeys: 'ignore' });
  } catch (e) {
    if (e instanceof InvalidInputError) return [];
    throw e;
  }
}

/**
 * Events by depth, the deepest first, then by the SHA-1 of their event IDs
 * (Synapse's `_ordered_events`: its only rule for choosing between events
 * of one depth).
 */
function ordered(graph: EventGraph, nodes: readonly number[]): number[] {
  const key = new Map(
    nodes.map((node) => [node, createHash('sha1').update(graph.idOf(node), 'utf8').digest('hex')] as const),
  );
  return [...nodes].sort((a, b) => {
    const da = graph.eventOf(a).depth;
    const db = graph.eventOf(b).depth;
    if (da !== db) return db > da ? 1 : db < da ? -1 : 0;
    const ka = key.get(a) as string;
    const kb = key.get(b) as string;
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
}

/** Whether `node` passes the auth rules against `state` (any m.room.create does, as in Synapse). */
function allowed(graph: EventGraph, node: number, state: NodeState, rules: RoomVersionRules): boolean {
  const event = graph.eventOf(node);
  return event.type === 'm.room.create' || checkAuthRules(event, lookupOf(graph, state), rules).allowed;
}

/**
 * The winner of conflicting power levels, join rules or memberships
 * (Synapse's `_resolve_auth_events`): from the shallowest, each event in
 * turn is checked against the auth events with the one before it in place;
 * the last that passes before one fails wins.
 */
function resolveAuthEvents(graph: EventGraph, nodes: number[], authEvents: NodeState, rules: RoomVersionRules) {
  const state: NodeState = new Map();
  for (const node of nodes) {
    for (const [type, stateKey] of [...authKeys(graph.eventOf(node), rules), ['m.room.create', ''] as const]) {
      const auth = getIn(authEvents, type, stateKey);
      if (auth !== undefined) setIn(state, type, stateKey, auth);
    }
  }
  const [first, ...rest] = ordered(graph, nodes).reverse();
  let winner = first as number;
  for (const node of rest) {
    const prev = graph.eventOf(winner);
    setIn(state, prev.type, prev.state_key as string, winner);
    if (!allowed(graph, node, state, rules)) return winner;
    winner = node;
  }
  return winner;
}

/**
 * The winner of other conflicting state (Synapse's
 * `_resolve_normal_events`): the deepest event that passes the auth rules
 * against the auth events, or if none does, the shallowest.
 */
function resolveNormalEvents(graph: EventGraph, nodes: number[], authEvents: NodeState, rules: RoomVersionRules) {
  const candidates = ordered(graph, nodes);
  return candidates.find((node) => allowed(graph, node, authEvents, rules)) ?? (candidates.at(-1) as number);
}

/**
 * Resolves state sets by state resolution v1, as Synapse does: a key is
 * conflicted when two state sets map it to different events (a key some
 * sets lack is not); rejected events drop out of the conflict (Synapse does
 * not load them), and a key left with one event takes it. The auth events
 * are the unconflicted state's events of the keys the auth event selection
 * names for the conflicting events. Conflicts are settled in turn: power
 * levels, then join rules, then memberships, each against the auth events
 * with the ones settled before; then the rest.
 */
export function* resolveV1(r: Resolution): Loading<Map<string, Map<string, string>>> {
  const { graph, rules, stateSets, maxEvents } = r;
  const unconflicted = new Map<string, Map<string, string>>();
  const conflicted = new Map<string, Map<string, Set<string>>>();
  for (const state of stateSets) {
    for (const [type, stateKey, id] of entriesOf(state)) {
      const ids = getIn(conflicted, type, stateKey);
      const single = getIn(unconflicted, type, stateKey);
      if (ids !== undefined) ids.add(id);
      else if (single === undefined) setIn(unconflicted, type, stateKey, id);
      else if (single !== id) {
        deleteIn(unconflicted, type, stateKey);
        setIn(conflicted, type, stateKey, new Set([single, id]));
      }
    }
  }
  if (conflicted.size === 0) return unconflicted;
  const conflictedIds = [...entriesOf(conflicted)].flatMap(([type, stateKey, ids]) =>
    [...ids].map((id) => [type, stateKey, id] as const),
  );
  yield* graph.load(
    conflictedIds.map(([, , id]) => id),
    maxEvents,
    false,
  );
  // Rejected events drop out, as Synapse's store does not return them.
  const present = new Map<string, Map<string, number[]>>();
  for (const entry of conflictedIds) {
    const node = stateNode(graph, ...entry);
    if (r.isRejected(node)) continue;
    const [type, stateKey] = entry;
    const nodes = getIn(present, type, stateKey);
    if (nodes === undefined) setIn(present, type, stateKey, [node]);
    else nodes.push(node);
  }
  // The auth events: keys the selection names for the events, from the unconflicted state.
  const authIds = new Map<string, Map<string, string>>();
  for (const [, , nodes] of entriesOf(present)) {
    for (const node of nodes) {
      for (const [type, stateKey] of authKeys(graph.eventOf(node), rules)) {
        const id = getIn(unconflicted, type, stateKey);
        if (id !== undefined) setIn(authIds, type, stateKey, id);
      }
    }
  }
  yield* graph.load(
    [...entriesOf(authIds)].map(([, , id]) => id),
    maxEvents,
    false,
  );
  const authEvents: NodeState = new Map();
  for (const [type, stateKey, id] of entriesOf(authIds)) {
    const node = stateNode(graph, type, stateKey, id);
    if (!r.isRejected(node)) setIn(authEvents, type, stateKey, node);
  }
  const contested: [type: string, stateKey: string, nodes: number[]][] = [];
  for (const [type, stateKey, nodes] of entriesOf(present)) {
    if (nodes.length === 1) setIn(unconflicted, type, stateKey, graph.idOf(nodes[0] as number));
    else contested.push([type, stateKey, nodes]);
  }
  const resolved: NodeState = new Map();
  const settle = (which: (type: string, stateKey: string) => boolean) => {
    for (const [type, stateKey, nodes] of contested) {
      if (which(type, stateKey)) setIn(resolved, type, stateKey, resolveAuthEvents(graph, nodes, authEvents, rules));
    }
    for (const [type, stateKey, node] of entriesOf(resolved)) setIn(authEvents, type, stateKey, node);
  };
  settle((type, stateKey) => type === 'm.room.power_levels' && stateKey === '');
  settle((type) => type === 'm.room.join_rules');
  settle((type) => type === 'm.room.member');
  for (const [type, stateKey, nodes] of contested) {
    if (getIn(resolved, type, stateKey) === undefined) {
      setIn(resolved, type, stateKey, resolveNormalEvents(graph, nodes, authEvents, rules));
    }
  }
  const result = copyState(unconflicted);
  for (const [type, stateKey, id] of entriesOf(idsOf(graph, resolved))) setIn(result, type, stateKey, id);
  return result;
}
