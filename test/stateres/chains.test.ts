/**
 * Auth chains, the auth difference and the conflicted state subgraph
 * (spec: room versions 2 and 12, "State resolution", "Definitions"), held
 * to the definitions computed the plain way (a walk from each event on its
 * own) on random DAGs, and the loads they make counted.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { getRoomVersion } from '../../src/roomversions/index.js';
import { authDifferenceOf, conflictedSubgraphOf } from '../../src/stateres/chains.js';
import {
  authChain,
  authDifference,
  EventGraph,
  type StateIds,
  type StateResolutionError,
} from '../../src/stateres/index.js';
import { runLoading } from '../../src/stateres/loader.js';
import { Dag, rejection, V10 } from './dag.js';

/** A state set of the events `ids`, each under its own state key. */
const stateOf = (ids: Iterable<string>): StateIds => new Map([['t', new Map([...ids].map((id) => [id, id]))]]);

/** The auth chain of one event by the definition: a plain walk. */
function plainChain(dag: Dag, id: string): Set<string> {
  const chain = new Set<string>();
  const stack = [...dag.authOf(id)];
  while (stack.length > 0) {
    const next = stack.pop() as string;
    if (chain.has(next)) continue;
    chain.add(next);
    stack.push(...dag.authOf(next));
  }
  return chain;
}

/** A random DAG: event i cites some of the events before it. */
const randomDag = fc
  .integer({ min: 1, max: 40 })
  .chain((n) =>
    fc.tuple(
      fc.constant(n),
      fc.array(fc.uniqueArray(fc.nat({ max: n - 1 }), { maxLength: 4 }), { minLength: n, maxLength: n }),
    ),
  )
  .map(([n, cites]) => {
    const dag = new Dag();
    for (let i = 0; i < n; i++) {
      dag.add(`$${i}`, { auth: (cites[i] as number[]).filter((j) => j < i).map((j) => `$${j}`) });
    }
    return { dag, n };
  });

const subsetOf = (n: number) =>
  fc.uniqueArray(fc.nat({ max: n - 1 }), { maxLength: n }).map((s) => s.map((i) => `$${i}`));

describe('auth chains', () => {
  it('holds the auth events, theirs and so on, but not the events asked about', async () => {
    const dag = new Dag().add('$create').add('$join', { auth: ['$create'] });
    dag.add('$pl', { auth: ['$create', '$join'] }).add('$topic', { auth: ['$create', '$pl', '$join'] });
    expect(await authChain(V10, ['$topic'], dag.loader)).toEqual(new Set(['$create', '$join', '$pl']));
    expect(await authChain(V10, ['$pl', '$join'], dag.loader)).toEqual(new Set(['$create', '$join']));
    expect(await authChain(V10, ['$create'], dag.loader)).toEqual(new Set());
  });

  it('is the union of each event’s chain, on random DAGs', async () => {
    await fc.assert(
      fc.asyncProperty(
        randomDag.chain(({ dag, n }) => fc.tuple(fc.constant(dag), subsetOf(n))),
        async ([dag, ids]) => {
          const want = new Set(ids.flatMap((id) => [...plainChain(dag, id)]));
          expect(await authChain(V10, ids, dag.loader)).toEqual(want);
        },
      ),
    );
  });
});

describe('the auth difference', () => {
  it('is what some state sets’ chains hold and others do not (the spec’s example shape)', async () => {
    // A fork after the join: one side changes the power levels, the other the topic.
    const dag = new Dag().add('$create').add('$join', { auth: ['$create'] });
    dag.add('$pl1', { auth: ['$create', '$join'] });
    dag.add('$pl2', { auth: ['$create', '$join', '$pl1'] });
    dag.add('$topic', { auth: ['$create', '$join', '$pl1'] });
    dag.add('$name', { auth: ['$create', '$join', '$pl2'] });
    const diff = await authDifference(V10, [stateOf(['$pl2', '$topic']), stateOf(['$pl1', '$name'])], dag.loader);
    // Each set's chain holds its own events: $pl2 is in both ($name cites
    // it), $pl1 in both; $topic and $name in one each.
    expect(diff).toEqual(new Set(['$topic', '$name']));
  });

  it('leaves out an event every state set holds, cited in some sets’ chains only (as Synapse does)', async () => {
    // Bob's join is in both states; only the first's power levels cite it.
    const dag = new Dag().add('$create').add('$bob', { auth: ['$create'] });
    dag.add('$pl-by-bob', { auth: ['$create', '$bob'] }).add('$pl-old', { auth: ['$create'] });
    const diff = await authDifference(V10, [stateOf(['$bob', '$pl-by-bob']), stateOf(['$bob', '$pl-old'])], dag.loader);
    expect(diff).toEqual(new Set(['$pl-by-bob', '$pl-old']));
  });

  it('is ∪ C_i − ∩ C_i, C_i holding S_i, on random DAGs, with one state set to forty (masks of several words)', async () => {
    await fc.assert(
      fc.asyncProperty(
        randomDag.chain(({ dag, n }) =>
          fc.tuple(fc.constant(dag), fc.array(subsetOf(n), { minLength: 1, maxLength: 40 })),
        ),
        async ([dag, sets]) => {
          const chains = sets.map((ids) => new Set(ids.flatMap((id) => [id, ...plainChain(dag, id)])));
          const union = new Set(chains.flatMap((c) => [...c]));
          const want = new Set([...union].filter((id) => !chains.every((c) => c.has(id))));
          expect(await authDifference(V10, sets.map(stateOf), dag.loader)).toEqual(want);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('is the same with the events every set holds given once, as common', async () => {
    await fc.assert(
      fc.asyncProperty(
        randomDag.chain(({ dag, n }) =>
          fc.tuple(fc.constant(dag), fc.array(subsetOf(n), { minLength: 1, maxLength: 5 }), subsetOf(n)),
        ),
        async ([dag, sets, shared]) => {
          const graph = new EventGraph(V10);
          await runLoading(graph.load([...sets.flat(), ...shared], 1000, true), dag.loader);
          const nodes = (ids: string[]) => ids.map((id) => graph.nodeOf(id) as number);
          const whole = sets.map((ids) => nodes([...ids, ...shared]));
          const own = sets.map((ids) => nodes(ids.filter((id) => !shared.includes(id))));
          expect(authDifferenceOf(graph, own, 1000, nodes(shared))).toEqual(authDifferenceOf(graph, whole, 1000));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('loads nothing again when the graph is kept', async () => {
    const dag = new Dag()
      .add('$create')
      .add('$a', { auth: ['$create'] })
      .add('$b', { auth: ['$create'] });
    const cache = new EventGraph(V10);
    await authDifference(V10, [stateOf(['$a']), stateOf(['$b'])], dag.loader, { cache });
    const calls = dag.calls.length;
    expect(await authDifference(V10, [stateOf(['$b']), stateOf(['$a'])], dag.loader, { cache })).toEqual(
      new Set(['$a', '$b']),
    );
    expect(dag.calls.length).toBe(calls);
  });

  it('refuses a graph of another room version', async () => {
    const cache = new EventGraph(getRoomVersion('11'));
    const err = (await rejection(() => authDifference(V10, [], new Dag().loader, { cache }))) as StateResolutionError;
    expect([err.code, err.errcode]).toEqual(['wrong-version', 'M_INVALID_PARAM']);
  });
});

describe('the conflicted state subgraph', () => {
  it('is every event on a path of auth events from one conflicted event to another', async () => {
    await fc.assert(
      fc.asyncProperty(
        randomDag.chain(({ dag, n }) => fc.tuple(fc.constant(dag), subsetOf(n))),
        async ([dag, conflicted]) => {
          const graph = new EventGraph(V10);
          await runLoading(graph.load(conflicted, 1000, true), dag.loader);
          const nodes = conflicted.map((id) => graph.nodeOf(id) as number);
          const got = new Set([...conflictedSubgraphOf(graph, nodes, 1000)].map((n) => graph.idOf(n)));
          // By the definition: x is on such a path when a conflicted event
          // is x or has x in its chain, and x is or has in its chain one.
          const withSelf = (id: string) => new Set([id, ...plainChain(dag, id)]);
          const want = new Set(
            [...dag.events.keys()].filter(
              (x) => conflicted.some((c) => withSelf(c).has(x)) && conflicted.some((c) => withSelf(x).has(c)),
            ),
          );
          expect(got).toEqual(want);
        },
      ),
    );
  });
});
