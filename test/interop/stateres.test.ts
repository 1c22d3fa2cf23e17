/**
 * Differential tests for state resolution (spec: room versions 1, 2 and
 * 12, "State resolution"): Synapse's own `resolve_events_with_store` (v1,
 * and v2 with v2.1 for room version 12: the oracle's `resolve_state`) and
 * ours, on ruma's named fixtures (test/stateres/vectors) and on the
 * requests the op must refuse. Expected values are Synapse's answers.
 */
import { describe, expect, it } from 'vitest';
import { encodeCanonicalJson, type JsonObject, type JsonValue } from '../../src/canonicaljson/index.js';
import { eventId } from '../../src/hashing/index.js';
import type { StateIds } from '../../src/stateres/index.js';
import { rumaCases } from '../stateres/ruma.js';
import { askSynapse, compareWithOurs, differences } from './oracle.js';

/** The IDs of a state set's events. */
const idsOf = (state: StateIds): string[] => [...state.values()].flatMap((byKey) => [...byKey.values()]);

/** A `resolve_state` request line, without the fields that are `undefined`. */
function resolveLine(request: Record<string, JsonValue | undefined>): string {
  const fields = Object.entries(request).filter(([, v]) => v !== undefined) as [string, JsonValue][];
  return encodeCanonicalJson({ op: 'resolve_state', ...Object.fromEntries(fields) }, { numbers: 'legacy' });
}

describe('resolve_state against Synapse', () => {
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
