/**
 * Loading a room's auth DAG for state resolution: frontier by frontier,
 * each event once; missing events, other rooms, cycles and sizes past the
 * limit end in a typed error, in time linear in what was loaded.
 */
import { describe, expect, it } from 'vitest';
import { MatrixServerlibError } from '../../src/errors.js';
import { getRoomVersion } from '../../src/roomversions/index.js';
import { descendantsFirst } from '../../src/stateres/chains.js';
import { EventGraph, memoryLoader, StateResolutionError } from '../../src/stateres/index.js';
import { MemoryEvents, runLoading, runLoadingSync } from '../../src/stateres/loader.js';
import { Room } from '../auth/room.js';
import { Dag, rejection, V10 } from './dag.js';

/** Loads `ids` and their chains into `graph` from `dag`. */
function load(graph: EventGraph, dag: Dag, ids: string[], maxEvents = 1_000_000) {
  return runLoading(graph.load(ids, maxEvents, true), dag.loader);
}

const ids = (graph: EventGraph, nodes: Iterable<number>) => [...nodes].map((n) => graph.idOf(n));

describe('loading auth chains', () => {
  it('asks for a whole frontier at a time, and for each event once', async () => {
    const dag = new Dag()
      .add('$a')
      .add('$b', { auth: ['$a'] })
      .add('$c', { auth: ['$b'] });
    dag.add('$d', { auth: ['$a', '$c'] });
    const graph = new EventGraph(V10);
    await load(graph, dag, ['$c', '$d']);
    expect(dag.calls).toEqual([
      ['$c', '$d'],
      ['$b', '$a'],
    ]);
    expect(graph.size).toBe(4);
    const d = graph.nodeOf('$d') as number;
    expect(ids(graph, graph.authOf(d))).toEqual(['$a', '$c']);
    // Loaded events are not asked for again.
    await load(graph, dag, ['$d', '$b']);
    expect(dag.calls).toHaveLength(2);
  });

  it('names a missing event, and the event that cites it', async () => {
    const dag = new Dag().add('$a').add('$b', { auth: ['$a', '$gone'] });
    const graph = new EventGraph(V10);
    const e = await rejection(() => load(graph, dag, ['$b']));
    expect(e).toBeInstanceOf(StateResolutionError);
    expect(e).toBeInstanceOf(MatrixServerlibError);
    const err = e as StateResolutionError;
    expect([err.code, err.errcode, err.eventId]).toEqual(['missing-event', 'M_INVALID_PARAM', '$gone']);
    expect(err.message).toContain('"$gone"');
    expect(err.message).toContain('"$b"');
    // Once it can be found, a later load completes the chain (and only loads it).
    dag.add('$gone');
    await load(graph, dag, ['$b']);
    expect(dag.calls.at(-1)).toEqual(['$gone']);
    expect(ids(graph, graph.authOf(graph.nodeOf('$b') as number))).toEqual(['$a', '$gone']);
  });

  it('names a missing state event', async () => {
    const err = (await rejection(() => load(new EventGraph(V10), new Dag(), ['$nowhere']))) as StateResolutionError;
    expect([err.code, err.eventId]).toEqual(['missing-event', '$nowhere']);
  });

  it('refuses an event of another room', async () => {
    const dag = new Dag().add('$a').add('$b', { auth: ['$a'], roomId: '!other:b.example' });
    const err = (await rejection(() => load(new EventGraph(V10), dag, ['$b']))) as StateResolutionError;
    expect([err.code, err.errcode]).toEqual(['wrong-room', 'M_INVALID_PARAM']);
  });

  it('stops past its limit of events', async () => {
    const dag = new Dag()
      .add('$a')
      .add('$b', { auth: ['$a'] })
      .add('$c', { auth: ['$b'] });
    const err = (await rejection(() => load(new EventGraph(V10), dag, ['$c'], 2))) as StateResolutionError;
    expect([err.code, err.errcode]).toEqual(['too-large', 'M_TOO_LARGE']);
    await load(new EventGraph(V10), dag, ['$c'], 3);
  });

  it('from v12 links every event but the create event to the create event its room ID names', async () => {
    const v12 = getRoomVersion('12');
    const dag = new Dag().add('$create', { type: 'm.room.create', roomId: null });
    dag.add('$pl', { type: 'm.room.power_levels', roomId: '!create' });
    const graph = new EventGraph(v12);
    await load(graph, dag, ['$pl']);
    expect(ids(graph, graph.authOf(graph.nodeOf('$pl') as number))).toEqual(['$create']);
    expect(graph.roomId).toBe('!create');
  });

  it('runs the same way on events in memory, synchronously', () => {
    const dag = new Dag().add('$a').add('$b', { auth: ['$a'] });
    const graph = new EventGraph(V10);
    runLoadingSync(graph.load(['$b'], 10, true), new MemoryEvents(dag.events, V10));
    expect(graph.size).toBe(2);
  });

  it('serves a list of events from memory under their computed IDs', async () => {
    const room = new Room('10');
    const join = room.member('@alice:a.org', 'join');
    const found = await memoryLoader(room.events.values(), room.rules).loadEvents([join.id, '$unknown']);
    expect([...found.keys()]).toEqual([join.id]);
  });
});

describe('walking the auth DAG', () => {
  it('puts every event before its auth events', async () => {
    const dag = new Dag()
      .add('$a')
      .add('$b', { auth: ['$a'] })
      .add('$c', { auth: ['$a', '$b'] });
    dag.add('$d', { auth: ['$c', '$a'] });
    const graph = new EventGraph(V10);
    await load(graph, dag, ['$d', '$b']);
    const order = ids(graph, descendantsFirst(graph, [graph.nodeOf('$b') as number, graph.nodeOf('$d') as number], 10));
    expect(order).toEqual(['$d', '$c', '$b', '$a']);
  });

  it('finds a cycle of auth events and names an event on it', async () => {
    const dag = new Dag()
      .add('$a', { auth: ['$c'] })
      .add('$b', { auth: ['$a'] })
      .add('$c', { auth: ['$b'] });
    dag.add('$top', { auth: ['$a'] });
    const graph = new EventGraph(V10);
    await load(graph, dag, ['$top']);
    const err = (() => {
      try {
        descendantsFirst(graph, [graph.nodeOf('$top') as number], 10);
      } catch (e) {
        return e as StateResolutionError;
      }
      throw new Error('no cycle found');
    })();
    expect([err.code, err.errcode]).toEqual(['auth-cycle', 'M_INVALID_PARAM']);
    expect(['$a', '$b', '$c']).toContain(err.eventId);
  });

  it('finds a cycle through 20,000 events without deep recursion, loading each once', async () => {
    const n = 20_000;
    const dag = new Dag();
    for (let i = 0; i < n; i++) dag.add(`$${i}`, { auth: [`$${(i + 1) % n}`] });
    const graph = new EventGraph(V10);
    await load(graph, dag, ['$0']);
    expect(dag.calls.flat()).toHaveLength(n);
    expect(() => descendantsFirst(graph, [0], n)).toThrow(StateResolutionError);
  });

  it('counts the events it reaches against its limit', async () => {
    const dag = new Dag().add('$a').add('$b', { auth: ['$a'] });
    const graph = new EventGraph(V10);
    await load(graph, dag, ['$b']);
    expect(() => descendantsFirst(graph, [graph.nodeOf('$b') as number], 1)).toThrow(/more than 1 events/);
  });
});
