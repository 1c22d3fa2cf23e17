/**
 * Auth chains, the auth difference and the conflicted state subgraph
 * (spec: room versions 2 and 12, "State resolution", "Definitions"), over
 * an {@link EventGraph} whose chains are loaded.
 *
 * Each is one pass over the events reachable from its starting events, in
 * an order where every event comes before its auth events: every event is
 * visited once however many chains it is in, and a cycle is found on the
 * way.
 *
 * @module
 */

import { StateResolutionError } from './errors.js';
import { type EventGraph, quote } from './graph.js';

/**
 * The events reachable from `roots` through auth events (the roots
 * included), each before its auth events (Kahn's algorithm over the
 * reachable subgraph).
 *
 * @throws {@link StateResolutionError} `auth-cycle` if the auth events make
 *   a cycle, `too-large` if more than `maxEvents` are reachable.
 */
export function descendantsFirst(graph: EventGraph, roots: Iterable<number>, maxEvents: number): Int32Array {
  const seen = new Uint8Array(graph.size);
  const reached: number[] = [];
  const stack: number[] = [];
  for (const root of roots) {
    if (seen[root] === 1) continue;
    seen[root] = 1;
    stack.push(root);
    while (stack.length > 0) {
      const node = stack.pop() as number;
      reached.push(node);
      for (const auth of graph.authOf(node)) {
        if (seen[auth] === 1) continue;
        seen[auth] = 1;
        stack.push(auth);
      }
    }
  }
  if (reached.length > maxEvents) {
    throw new StateResolutionError('too-large', `The auth chains hold more than ${maxEvents} events`);
  }
  // How many reached events cite each one: it comes out once they all have.
  const citers = new Int32Array(graph.size);
  for (const node of reached) for (const auth of graph.authOf(node)) citers[auth] = (citers[auth] as number) + 1;
  const order = new Int32Array(reached.length);
  let head = 0;
  let tail = 0;
  for (const node of reached) if (citers[node] === 0) order[tail++] = node;
  while (head < tail) {
    const node = order[head++] as number;
    for (const auth of graph.authOf(node)) {
      const left = (citers[auth] as number) - 1;
      citers[auth] = left;
      if (left === 0) order[tail++] = auth;
    }
  }
  if (tail < reached.length) {
    const stuck = reached.find((node) => (citers[node] as number) > 0) as number;
    throw new StateResolutionError(
      'auth-cycle',
      `The auth events of ${quote(graph.idOf(stuck))} lead back to it`,
      graph.idOf(stuck),
    );
  }
  return order;
}

/**
 * The auth chain of the events `nodes` (spec: "the set containing all of
 * E's auth events, all of their auth events, and so on recursively"),
 * united: every event reachable from them through auth events, the events
 * themselves only where one is in another's chain.
 */
export function authChainOf(graph: EventGraph, nodes: Iterable<number>, maxEvents: number): Set<number> {
  const starts = [...new Set(nodes)];
  const inChain = new Uint8Array(graph.size);
  for (const node of starts) for (const auth of graph.authOf(node)) inChain[auth] = 1;
  const chain = new Set<number>();
  for (const node of descendantsFirst(graph, starts, maxEvents)) {
    if (inChain[node] !== 1) continue;
    chain.add(node);
    for (const auth of graph.authOf(node)) inChain[auth] = 1;
  }
  return chain;
}

/**
 * The auth difference of the state sets whose events are `sets`: with C_i
 * the full auth chain of the state S_i, ∪ C_i − ∩ C_i.
 *
 * C_i holds the events of S_i themselves, as Synapse computes it (its chain
 * cover index, and its walk over events not yet persisted, count an event
 * as reaching itself). The spec's words ("the union of the auth chains for
 * each event in S_i") leave them out; the two differ on an event that is
 * in every state set and in the auth chains of some sets' other events but
 * not of others' (a member's join, cited by the power levels one side
 * holds): Synapse leaves it out of the difference, and so must we, or the
 * room's servers would disagree.
 *
 * One pass, each event carrying the bits of the state sets whose chains
 * hold it (in words of 32 bits) from the events that cite it.
 *
 * @param sets - each state set's events (all of them, or those not in `common`).
 * @param common - events every state set holds, given once.
 */
export function authDifferenceOf(
  graph: EventGraph,
  sets: readonly (readonly number[])[],
  maxEvents: number,
  common: readonly number[] = [],
): Set<number> {
  const words = Math.ceil(sets.length / 32);
  const bits = new Uint32Array(graph.size * words);
  // What every chain has: all bits of full words, and the low bits of the last.
  const full = Array.from({ length: words }, (_, w) =>
    w < words - 1 || sets.length % 32 === 0 ? 0xffffffff : ((1 << (sets.length % 32)) - 1) >>> 0,
  );
  sets.forEach((set, i) => {
    const word = i >>> 5;
    const bit = 1 << (i & 31);
    for (const node of set) {
      const at = node * words + word;
      bits[at] = (bits[at] as number) | bit;
    }
  });
  for (const node of common) bits.set(full, node * words);
  const difference = new Set<number>();
  for (const node of descendantsFirst(graph, [...sets.flat(), ...common], maxEvents)) {
    let some = false;
    let all = true;
    for (let w = 0; w < words; w++) {
      const mask = bits[node * words + w] as number;
      if (mask !== 0) some = true;
      if (mask !== full[w]) all = false;
      for (const auth of graph.authOf(node)) {
        const at = auth * words + w;
        bits[at] = (bits[at] as number) | mask;
      }
    }
    if (some && !all) difference.add(node);
  }
  return difference;
}

/**
 * The conflicted state subgraph of the conflicted events `conflicted`
 * (spec: room version 12, "Conflicted state subgraph": every path of auth
 * events from a conflicted event to another, endpoints included): the
 * events that are both in the auth chain of a conflicted event (or one
 * themselves) and have a conflicted event in their own auth chain (or are
 * one). The conflicted events themselves are all in it.
 */
export function conflictedSubgraphOf(graph: EventGraph, conflicted: readonly number[], maxEvents: number): Set<number> {
  const order = descendantsFirst(graph, conflicted, maxEvents);
  // Above: the event is a conflicted event or in the auth chain of one
  // (every reached event is, reached from them).
  // Below: a conflicted event is the event or in its auth chain.
  const below = new Uint8Array(graph.size);
  for (const node of conflicted) below[node] = 1;
  const subgraph = new Set<number>();
  for (let i = order.length - 1; i >= 0; i--) {
    const node = order[i] as number;
    if (below[node] !== 1) {
      for (const auth of graph.authOf(node)) {
        if (below[auth] === 1) {
          below[node] = 1;
          break;
        }
      }
    }
    if (below[node] === 1) subgraph.add(node);
  }
  return subgraph;
}
