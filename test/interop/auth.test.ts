/**
 * Differential tests for auth event selection: Synapse's own
 * auth_types_for_event (the oracle) and ours on generated events of every
 * room version. Expected values are Synapse's answers.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { answerLine } from '../../conformance/src/runner.js';
import { envelope } from './envelope.js';
import { knob } from './knobs.js';
import { differences } from './oracle.js';

const VERSIONS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12'];

const user = fc.constantFrom('@a:x', '@b:y', '@\u{1F600}:z', '@\uFB33:z', '@c:x');
const absent = fc.constant(undefined);
const content = fc.record(
  {
    membership: fc.oneof(fc.constantFrom('join', 'invite', 'leave', 'ban', 'knock', 'other'), fc.constant(5), absent),
    third_party_invite: fc.oneof(
      absent,
      fc.record({ signed: fc.oneof(fc.record({ token: fc.oneof(fc.string(), fc.constant(7)) }), fc.constant({})) }),
      fc.constant('x'),
      fc.constant({}),
    ),
    join_authorised_via_users_server: fc.oneof(absent, user, fc.constant(3)),
  },
  { requiredKeys: [] },
);
const event = fc.record({
  type: fc.constantFrom('m.room.member', 'm.room.member', 'm.room.message', 'm.room.create', 'm.room.power_levels'),
  sender: user,
  state_key: user,
  content,
});

/** Events per version (AUTH_TYPES_N) and the seeds' base (AUTH_TYPES_SEED); see knobs.ts. */
const PER_VERSION = knob('AUTH_TYPES_N', 150);
const SEED = knob('AUTH_TYPES_SEED', 700);

describe('Synapse oracle: auth_types', () => {
  it('agrees on generated events in every room version', async () => {
    const lines: string[] = [];
    for (const v of VERSIONS) {
      for (const e of fc.sample(event, { numRuns: PER_VERSION, seed: SEED + Number(v) })) {
        const fields = JSON.parse(JSON.stringify(e)) as Record<string, unknown>;
        lines.push(JSON.stringify({ op: 'auth_types', room_version: v, event: envelope(v, fields) }));
      }
    }
    const tally = new Map<string, number>();
    for (const l of lines) {
      const a = JSON.parse(answerLine(l)) as { ok: boolean; types?: unknown[]; error?: { code: string } };
      const k = a.ok ? `ok:${a.types?.length}` : `error:${a.error?.code}`;
      tally.set(k, (tally.get(k) ?? 0) + 1);
    }
    // Both successes of several sizes and refusals must appear, or the corpus proves little.
    expect([...tally.keys()].filter((k) => k.startsWith('ok:')).length).toBeGreaterThan(3);
    expect(tally.get('error:M_BAD_JSON') ?? 0).toBeGreaterThan(50);
    const diffs = await differences(lines);
    expect(diffs.slice(0, 3), `${diffs.length} of ${lines.length} requests answered differently`).toEqual([]);
  });
});
