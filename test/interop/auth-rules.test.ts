/**
 * Differential tests for the auth rules (spec: room versions 1–12,
 * "Authorization rules"): Synapse's own check_state_independent_auth_rules
 * and check_state_dependent_auth_rules (the oracle's `check_auth`) and ours,
 * on events of generated rooms of every room version (test/interop/rooms.ts),
 * each checked against the auth events the spec's selection picks from the
 * room's state, and sometimes against corrupted ones. Expected values are
 * Synapse's answers.
 */
import { describe, expect, it } from 'vitest';
import { encodeCanonicalJson, JsonFloat } from '../../src/canonicaljson/index.js';
import { knob } from './knobs.js';
import { askSynapse, compareWithOurs, type Difference } from './oracle.js';
import { type AuthCase, authCases, ROOM_VERSIONS } from './rooms.js';

/** Rooms per version (AUTH_ROOMS) and steps per room: about 1,800 requests per version. */
const ROOMS = knob('AUTH_ROOMS', 11);
const STEPS = { min: 100, max: 150 };
/** Two minutes for the default corpus, more for a larger one. */
const TIMEOUT = 120_000 * Math.max(1, ROOMS / 11);
/** Seeds, one per version (base AUTH_SEED), fixed so that every run checks the same corpus. */
const seedOf = (version: string) => knob('AUTH_SEED', 4_200) + Number(version);

/** The request line of a case (legacy numbers: v1–v5 events may hold floats and big integers). */
function requestLine(c: AuthCase): string {
  const { label: _label, ...request } = c;
  return encodeCanonicalJson({ op: 'check_auth', ...request }, { numbers: 'legacy' });
}

/** A rejection reason with its event IDs, user IDs and numbers taken out, to count kinds of reasons. */
function reasonKind(reason: string): string {
  return reason
    .replace(/\$[A-Za-z0-9+/_\-.:]+/g, '$E')
    .replace(/![A-Za-z0-9+/_\-.:]+/g, '!R')
    .replace(/@[^\s,)'"]*/g, '@U')
    .replace(/\d+/g, 'N')
    .slice(0, 80);
}

interface Tally {
  allowed: number;
  rejected: number;
  refused: Map<string, number>;
  reasons: Map<string, number>;
}

/**
 * Malformed requests made from a case, one per way the request can be
 * refused (CONFORMANCE.md): which errcode wins when several things are
 * wrong must agree too.
 */
function malformedLine(c: AuthCase, n: number): string {
  const { label: _label, ...request } = c;
  const first = c.auth_events[0] ?? {};
  const { room_id: _roomId, ...noRoomId } = first;
  const { room_id: _eventRoomId, ...eventNoRoomId } = c.event;
  const variants: Record<string, unknown>[] = [
    { auth_events: undefined },
    { auth_events: 'x' },
    { auth_events: [...c.auth_events, 5] },
    { auth_events: [noRoomId, 5] },
    { auth_events: [noRoomId, ...c.auth_events] },
    { auth_events: [{ ...first, depth: new JsonFloat(1.5) }] },
    { rejected_auth_events: 'x' },
    { rejected_auth_events: [5] },
    { auth_events: [noRoomId], rejected_auth_events: 5 },
    { event: eventNoRoomId, auth_events: 5 },
    { room_version: '99' },
  ];
  const line: Record<string, unknown> = { op: 'check_auth', ...request, ...variants[n % variants.length] };
  for (const key of Object.keys(line)) if (line[key] === undefined) delete line[key];
  return encodeCanonicalJson(line, { numbers: 'legacy' });
}

interface Corpus {
  /** Generated cases, and request lines (the cases and the malformed requests made from every 100th). */
  cases: number;
  lines: number;
  /** What the oracle answered, by room version. */
  tallies: Map<string, Tally>;
  /** How many requests we answered differently, and the first few. */
  differing: number;
  diffs: Difference[];
}

function tally(t: Tally, answer: string): void {
  const a = JSON.parse(answer) as { ok: boolean; allowed?: boolean; reason?: string; error?: { code: string } };
  if (!a.ok) {
    const code = a.error?.code ?? '?';
    t.refused.set(code, (t.refused.get(code) ?? 0) + 1);
  } else if (a.allowed) t.allowed++;
  else {
    t.rejected++;
    const kind = reasonKind(a.reason ?? '');
    t.reasons.set(kind, (t.reasons.get(kind) ?? 0) + 1);
  }
}

/**
 * The corpus, generated and put to the oracle once for both tests, one room
 * version at a time: only the tallies and the differences are kept, so that
 * a large run (AUTH_ROOMS) fits in memory.
 */
let corpus: Promise<Corpus> | undefined;
function getCorpus(): Promise<Corpus> {
  corpus ??= (async () => {
    const c: Corpus = { cases: 0, lines: 0, tallies: new Map(), differing: 0, diffs: [] };
    let malformedCount = 0;
    for (const v of ROOM_VERSIONS) {
      const cases = authCases(v, seedOf(v), ROOMS, STEPS);
      const malformed = cases
        .filter((_, i) => (c.cases + i) % 100 === 0)
        .map((one) => malformedLine(one, malformedCount++));
      const lines = [...cases.map(requestLine), ...malformed];
      const theirs = await askSynapse(lines);
      const t: Tally = { allowed: 0, rejected: 0, refused: new Map(), reasons: new Map() };
      for (const answer of theirs.slice(0, cases.length)) tally(t, answer);
      c.tallies.set(v, t);
      const diffs = compareWithOurs(lines, theirs);
      c.differing += diffs.length;
      c.diffs.push(...diffs.slice(0, 3 - c.diffs.length));
      c.cases += cases.length;
      c.lines += lines.length;
    }
    return c;
  })();
  return corpus;
}

describe('Synapse oracle: check_auth', () => {
  it(
    'has a meaningful corpus, judging by the oracle answers',
    async () => {
      const { cases, tallies } = await getCorpus();
      // About 1,850 cases per room over the 12 versions.
      expect(cases).toBeGreaterThanOrEqual(ROOMS * 1_700);

      // In every version a healthy mix of allowed and rejected events, for
      // many reasons, and few requests refused (auth events not supplied).
      for (const v of ROOM_VERSIONS) {
        const t = tallies.get(v) as Tally;
        const total = t.allowed + t.rejected + [...t.refused.values()].reduce((a, b) => a + b, 0);
        console.log(
          `v${v}: ${total} requests, ${t.allowed} allowed, ${t.rejected} rejected (${t.reasons.size} kinds of reason),`,
          `refused ${JSON.stringify(Object.fromEntries(t.refused))}`,
        );
        expect(t.allowed, `v${v} allowed`).toBeGreaterThan(total * 0.25);
        expect(t.rejected, `v${v} rejected`).toBeGreaterThan(total * 0.25);
        expect(t.reasons.size, `v${v} kinds of rejection`).toBeGreaterThanOrEqual(15);
        expect(total - t.allowed - t.rejected, `v${v} refused`).toBeLessThan(total * 0.05);
      }
    },
    TIMEOUT,
  );

  it(
    'agrees on the events of generated rooms of every room version',
    async () => {
      const { lines, differing, diffs } = await getCorpus();
      expect(diffs, `${differing} of ${lines} requests answered differently`).toEqual([]);
    },
    TIMEOUT,
  );
});
