/**
 * Properties of state resolution on generated forked rooms of every room
 * version (test/interop/forks.ts): the order of the state sets and of the
 * events in them never matters; one state set resolves to itself; the
 * answer is the same every time, through either loader, with or without a
 * kept graph.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventGraph, memoryLoader, resolveState, resolveStateSync, type StateIds } from '../../src/stateres/index.js';
import { type ForkCase, forkScript, playForks } from '../interop/forks.js';
import { ROOM_VERSIONS } from '../interop/rooms.js';

/** The state as sorted `type|state_key=id` lines. */
const lines = (state: StateIds): string[] =>
  [...state].flatMap(([type, byKey]) => [...byKey].map(([k, id]) => `${type}|${k}=${id}`)).sort();

const resolve = (c: ForkCase, stateSets = c.stateSets, cache?: EventGraph) =>
  resolveStateSync(c.rules, stateSets, c.events, { rejected: new Set(c.rejected), ...(cache ? { cache } : {}) });

/** The cases of a generated room, with a permutation of its state sets and an order for their entries. */
const roomCases = fc
  .constantFrom(...ROOM_VERSIONS)
  .chain((version) => fc.tuple(forkScript(version, 2, 6), fc.nat()))
  .map(([script, n]) => ({ cases: playForks(script, `p${n}`, (c) => resolve(c)), n }));

/** `state` with its types and each type's keys in reverse order. */
const reversed = (state: StateIds): StateIds =>
  new Map([...state].reverse().map(([type, byKey]) => [type, new Map([...byKey].reverse())]));

describe('state resolution', () => {
  it('does not depend on the order of the state sets, nor of the events in them', () => {
    fc.assert(
      fc.property(roomCases, fc.nat(), ({ cases }, turn) => {
        for (const c of cases) {
          const want = lines(resolve(c));
          const k = c.stateSets.length;
          const rotated = c.stateSets.map((_, i) => c.stateSets[(i + turn) % k] as StateIds);
          expect(lines(resolve(c, [...rotated].reverse().map(reversed)))).toEqual(want);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('resolves one state set to itself', () => {
    fc.assert(
      fc.property(roomCases, ({ cases }) => {
        for (const c of cases) {
          for (const state of c.stateSets) expect(lines(resolve(c, [state]))).toEqual(lines(state));
        }
      }),
      { numRuns: 40 },
    );
  });

  it('answers the same every time: again, asynchronously, and with a graph kept across the rounds', async () => {
    await fc.assert(
      fc.asyncProperty(roomCases, async ({ cases }) => {
        const rules = cases[0]?.rules;
        if (rules === undefined) return;
        const cache = new EventGraph(rules);
        for (const c of cases) {
          const want = lines(resolve(c));
          expect(lines(resolve(c))).toEqual(want);
          expect(lines(resolve(c, c.stateSets, cache))).toEqual(want);
          const loader = memoryLoader(c.events, c.rules);
          const options = { rejected: new Set(c.rejected) };
          expect(lines(await resolveState(c.rules, c.stateSets, loader, options))).toEqual(want);
        }
      }),
      { numRuns: 40 },
    );
  });
});
