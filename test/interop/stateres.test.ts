/**
 * Differential tests for state resolution (spec: room versions 1, 2 and
 * 12, "State resolution"): Synapse's own `resolve_events_with_store` (v1,
 * and v2 with v2.1 for room version 12: the oracle's `resolve_state`) and
 * ours, on generated forked rooms of every room version
 * (test/interop/forks.ts), on ruma's named fixtures (test/stateres/vectors)
 * and on the requests the op must refuse. Expected values are Synapse's
 * answers.
 *
 * Knobs (test/interop/knobs.ts): STATERES_ROOMS rooms per version,
 * STATERES_ROUNDS splits per room at most, STATERES_ACTIONS events per
 * branch at most, STATERES_SEED the seeds' base.
 */
import { describe, expect, it } from 'vitest';
import { encodeCanonicalJson, type JsonObject, type JsonValue } from '../../src/canonicaljson/index.js';
import { eventId } from '../../src/hashing/index.js';
import { resolveStateSync, type StateIds } from '../../src/stateres/index.js';
import { rumaCases } from '../stateres/ruma.js';
import { type ForkCase, forkScripts, playForks } from './forks.js';
import { knob } from './knobs.js';
import { askSynapse, compareWithOurs, differences } from './oracle.js';
import { ROOM_VERSIONS } from './rooms.js';

/**
 * Rooms per version; room version 12 gets three times as many: v2.1's
 * changes (the conflicted state subgraph, checks from empty state) matter
 * only in rarer shapes (about 1 resolution in 50).
 */
const ROOMS = knob('STATERES_ROOMS', 80);
const roomsOf = (version: string) => (version === '12' ? 3 * ROOMS : ROOMS);
const ROUNDS = knob('STATERES_ROUNDS', 3);
const ACTIONS = knob('STATERES_ACTIONS', 8);
const seedOf = (version: string) => knob('STATERES_SEED', 1_700) + Number(version);
/** A minute for the default corpus, more for a larger one. */
const TIMEOUT = 60_000 * Math.max(1, (ROOMS * ROUNDS * ACTIONS) / (80 * 3 * 8));

/** The IDs of a state set's events. */
const idsOf = (state: StateIds): string[] => [...state.values()].flatMap((byKey) => [...byKey.values()]);

/** A `resolve_state` request line, without the fields that are `undefined`. */
function resolveLine(request: Record<string, JsonValue | undefined>): string {
  const fields = Object.entries(request).filter(([, v]) => v !== undefined) as [string, JsonValue][];
  return encodeCanonicalJson({ op: 'resolve_state', ...Object.fromEntries(fields) }, { numbers: 'legacy' });
}

/** Our resolution of a case, as the rounds of a generated room go on from. */
const ours = (c: ForkCase) => resolveStateSync(c.rules, c.stateSets, c.events, { rejected: new Set(c.rejected) });

/** The request line of a case. */
const caseLine = (c: ForkCase, id: string) =>
  resolveLine({
    id,
    room_version: c.rules.id,
    events: [...c.events],
    state_sets: c.stateSets.map(idsOf),
    ...(c.rejected.length > 0 ? { rejected: [...c.rejected] } : {}),
  });

describe('resolve_state against Synapse', () => {
  it(
    'agrees on generated forked rooms of every room version',
    async () => {
      const lines: string[] = [];
      const tally = new Map<string, { cases: number; changed: number }>();
      for (const version of ROOM_VERSIONS) {
        const t = { cases: 0, changed: 0 };
        tally.set(version, t);
        forkScripts(version, seedOf(version), roomsOf(version), ROUNDS, ACTIONS).forEach((script, i) => {
          playForks(script, `s${seedOf(version)}r${i}`, ours).forEach((c, round) => {
            lines.push(caseLine(c, `v${version} room ${i} round ${round}`));
            t.cases += 1;
            // How often the resolution is none of the state sets: a real conflict.
            const got = JSON.stringify([...ours(c)].map(([k, v]) => [k, [...v].sort()]).sort());
            const sets = c.stateSets.map((s) => JSON.stringify([...s].map(([k, v]) => [k, [...v].sort()]).sort()));
            if (!sets.includes(got)) t.changed += 1;
          });
        });
      }
      const diffs = compareWithOurs(lines, await askSynapse(lines));
      console.log(
        `resolve_state: ${lines.length} resolutions, ${diffs.length} disagreements; per version (resolutions/unlike any state set): ${[
          ...tally,
        ]
          .map(([v, t]) => `v${v} ${t.cases}/${t.changed}`)
          .join(', ')}`,
      );
      expect(diffs.map((d) => `${JSON.parse(d.request).id}\n${d.synapse}\n${d.ours}`)).toEqual([]);
    },
    TIMEOUT,
  );

  it("agrees on ruma's fixtures (MSC4297's problems A and B among them)", async () => {
    const cases = rumaCases();
    const lines = cases.map((c) =>
      resolveLine({ id: c.name, room_version: c.rules.id, events: c.events, state_sets: c.stateSets.map(idsOf) }),
    );
    const answers = await askSynapse(lines);
    expect(compareWithOurs(lines, answers)).toEqual([]);
    // Synapse agrees with ruma's snapshots too, not only with us.
    cases.forEach((c, i) => {
      const state = JSON.parse(answers[i] as string).state as Record<string, Record<string, string>>;
      const want = Object.fromEntries([...c.expected].map(([type, byKey]) => [type, Object.fromEntries(byKey)]));
      expect(state, c.name).toEqual(want);
    });
  });

  it('refuses the same malformed requests, with the same errcodes', async () => {
    const c = rumaCases().find((x) => x.name === 'topic_vs_ban');
    if (c === undefined) throw new Error('no fixture');
    const [create, ...rest] = c.events;
    const sets = c.stateSets.map(idsOf);
    const base = { room_version: c.rules.id, events: c.events, state_sets: sets };
    const { state_key: _, ...message }: JsonObject = { ...(rest[0] as JsonObject), type: 'm.room.message' };
    const otherRoom = { ...(rest[0] as JsonObject), room_id: '!elsewhere:example.com' };
    const variants: Record<string, JsonValue | undefined>[] = [
      {},
      { room_version: '99' },
      { events: undefined },
      { events: 'x' },
      { events: [...c.events, 5] },
      { events: [...c.events, { type: 'm.room.topic' }] },
      { state_sets: undefined },
      { state_sets: 'x' },
      { state_sets: [['$x', 5]] },
      { state_sets: [...sets, ['$nowhere']] },
      { events: [...c.events, message], state_sets: [...sets, [eventId(message, c.rules)]] },
      { rejected: 'x' },
      { rejected: [5] },
      { rejected: [] },
      { rejected: ['$unknown'] },
      { events: [...c.events, otherRoom] },
      // The create event left out: a state set names it, and every chain needs it.
      { events: rest },
      { events: rest, state_sets: sets.slice(1) },
      { state_sets: [] },
      { state_sets: [[]] },
      // Every event in one set: two of them are power levels.
      { state_sets: [sets.flat()] },
      { events: [], state_sets: [[]] },
      { events: [create as JsonObject], state_sets: [[]] },
    ];
    const lines = variants.map((v, id) => resolveLine({ id, ...base, ...v }));
    expect(await differences(lines)).toEqual([]);
  });
});
