/**
 * Walks of the auth DAG over an {@link EventGraph} whose chains are loaded:
 * one pass over the events reachable from the starting events, in an order
 * where every event comes before its auth events, so that every event is
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
