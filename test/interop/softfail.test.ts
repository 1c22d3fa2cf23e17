/**
 * Differential tests for the soft-fail check (spec: server-server API,
 * "Soft failure"): Synapse's own `_check_for_soft_fail` steps (the oracle's
 * `soft_fail`: `auth_types_for_event` picks the auth events from the current
 * state, then `check_state_dependent_auth_rules`) and ours (`checkSoftFail`),
 * on the events of generated rooms of every room version
 * (test/interop/rooms.ts), each judged against a *later* current state than
 * the one it was built on: the room's state some applied events further on,
 * without the event itself (as a server holds the state of a room it
 * receives an event for). Expected values are Synapse's answers.
 */
import { describe, expect, it } from 'vitest';
import { encodeCanonicalJson, JsonFloat, type JsonObject } from '../../src/canonicaljson/index.js';
import { askSynapse, compareWithOurs } from './oracle.js';
import { type AuthCase, playedRooms, ROOM_VERSIONS, type RoomEvent } from './rooms.js';

/** Rooms per version and steps per room: about 500 soft-fail requests per version. */
const ROOMS = 10;
const STEPS = { min: 100, max: 140 };
/** Fixed seeds, one per version (not auth-rules.test.ts's), so that every run checks the same corpus. */
const seedOf = (version: string) => 7_300 + Number(version);
/** How many applied events past the event's own state its current state is, in turn. */
const LATER = [1, 2, 3, 5, 8, 13, 30, Number.POSITIVE_INFINITY];

/** A soft-fail request of the corpus, and the `check_auth` request of the same event. */
interface SoftFailCase {
  readonly version: string;
  readonly event: JsonObject;
  readonly currentState: JsonObject[];
  readonly authCase: AuthCase;
}

/**
 * The state after the first `upTo` applied events of a room, leaving out
 * `skip` (the candidate event, if it was applied): state events by type and
 * state key, the last one winning.
 */
function stateAfter(events: readonly RoomEvent[], upTo: number, skip: JsonObject): JsonObject[] {
  const state = new Map<string, JsonObject>();
  for (const { event } of events.slice(0, upTo)) {
    if (event === skip || typeof event.state_key !== 'string') continue;
    state.set(JSON.stringify([event.type, event.state_key]), event);
  }
  return [...state.values()];
}

/**
 * The soft-fail cases of a version: every uncorrupted candidate event of its
 * rooms (corrupted copies differ only in their auth events, which the
 * soft-fail check does not read) for which the room applied more events
 * after it, judged against the state a number of them later.
 */
function softFailCases(version: string): SoftFailCase[] {
  const out: SoftFailCase[] = [];
  for (const { room, cases, at } of playedRooms(version, seedOf(version), ROOMS, STEPS)) {
    let turn = 0;
    cases.forEach((c, i) => {
      if (c.label.split('/').length !== 2) return;
      const n = at[i] as number;
      // An applied event is the room's next one: its own state ends before it.
      const applied = room.events[n]?.event === c.event;
      const from = n + (applied ? 1 : 0);
      const upTo = Math.min(room.events.length, from + (LATER[turn++ % LATER.length] as number));
      if (upTo <= from) return;
      out.push({ version, event: c.event, currentState: stateAfter(room.events, upTo, c.event), authCase: c });
    });
  }
  return out;
}

/** The request line of a case (legacy numbers: v1–v5 events may hold floats and big integers). */
function softFailLine(c: SoftFailCase): string {
  return encodeCanonicalJson(
    { op: 'soft_fail', room_version: c.version, event: c.event, current_state: c.currentState },
    { numbers: 'legacy' },
  );
}

function checkAuthLine(c: AuthCase): string {
  const { label: _label, ...request } = c;
  return encodeCanonicalJson({ op: 'check_auth', ...request }, { numbers: 'legacy' });
}

/**
 * Malformed requests made from a case, one per way the request can be
 * refused: which errcode wins when several things are wrong must agree too.
 */
function malformedLine(c: SoftFailCase, n: number): string {
  const state = c.currentState;
  const first = state[0] ?? {};
  const { state_key: _stateKey, ...notState } = first;
  const { room_id: _roomId, ...eventNoRoomId } = c.event;
  const variants: Record<string, unknown>[] = [
    { current_state: undefined },
    { current_state: 'x' },
    { current_state: {} },
    { current_state: [...state, 5] },
    { current_state: [5, { depth: 1 }] },
    { current_state: [{ ...first, depth: new JsonFloat(1.5) }, 5] },
    { current_state: [{ depth: 1 }, 5] },
    { current_state: [...state, first] },
    { current_state: [notState, ...state.slice(1)] },
    { current_state: [] },
    { event: undefined },
    { event: eventNoRoomId, current_state: 5 },
    { event: { ...c.event, depth: new JsonFloat(2.5) } },
    { room_version: '99' },
    { room_version: 12 },
  ];
  const line: Record<string, unknown> = {
    op: 'soft_fail',
    room_version: c.version,
    event: c.event,
    current_state: state,
    ...variants[n % variants.length],
  };
  for (const key of Object.keys(line)) if (line[key] === undefined) delete line[key];
  return encodeCanonicalJson(line, { numbers: 'legacy' });
}

/** A rejection reason with its event IDs, user IDs and numbers taken out, to count kinds of reasons. */
function reasonKind(reason: string): string {
  return reason
    .replace(/\$[A-Za-z0-9+/_\-.:]+/g, '$E')
    .replace(/![A-Za-z0-9+/_\-.:]+/g, '!R')
    .replace(/@[^\s,)'"]*/g, '@U')
    .replace(/\(<Event.*$/, '')
    .replace(/\d+/g, 'N')
    .slice(0, 80);
}

interface Corpus {
  cases: SoftFailCase[];
  /** The soft-fail request lines, then malformed requests made from every 40th case. */
  lines: string[];
  /** The oracle's answers to `lines`. */
  theirs: string[];
  /** The oracle's `check_auth` answers for the cases' events against their own auth events. */
  own: string[];
}

let corpus: Promise<Corpus> | undefined;
function getCorpus(): Promise<Corpus> {
  corpus ??= (async () => {
    const cases = ROOM_VERSIONS.flatMap(softFailCases);
    const malformed = cases.filter((_, i) => i % 40 === 0).map((c, i) => malformedLine(c, i));
    const lines = [...cases.map(softFailLine), ...malformed];
    const answers = await askSynapse([...lines, ...cases.map((c) => checkAuthLine(c.authCase))]);
    return { cases, lines, theirs: answers.slice(0, lines.length), own: answers.slice(lines.length) };
  })();
  return corpus;
}

interface Answer {
  ok: boolean;
  allowed?: boolean;
  reason?: string;
  error?: { code: string };
}

interface Tally {
  allowed: number;
  softFailed: number;
  refused: number;
  /** Allowed by the event's own auth events but not by the later state. */
  flipped: number;
  /** Rejected by its own auth events but allowed by the later state. */
  unflipped: number;
  reasons: Map<string, number>;
}

describe('Synapse oracle: soft_fail', () => {
  it('has a meaningful corpus, judging by the oracle answers', async () => {
    const { cases, theirs, own } = await getCorpus();
    expect(cases.length).toBeGreaterThanOrEqual(4_000);
    const tallies = new Map<string, Tally>();
    cases.forEach((c, i) => {
      let t = tallies.get(c.version);
      if (t === undefined) {
        t = { allowed: 0, softFailed: 0, refused: 0, flipped: 0, unflipped: 0, reasons: new Map() };
        tallies.set(c.version, t);
      }
      const a = JSON.parse(theirs[i] as string) as Answer;
      const o = JSON.parse(own[i] as string) as Answer;
      if (!a.ok) t.refused++;
      else if (a.allowed) {
        t.allowed++;
        if (o.ok && !o.allowed) t.unflipped++;
      } else {
        t.softFailed++;
        if (o.ok && o.allowed) t.flipped++;
        const kind = reasonKind(a.reason ?? '');
        t.reasons.set(kind, (t.reasons.get(kind) ?? 0) + 1);
      }
    });
    for (const v of ROOM_VERSIONS) {
      const t = tallies.get(v) as Tally;
      const total = t.allowed + t.softFailed + t.refused;
      console.log(
        `v${v}: ${total} requests, ${t.allowed} allowed (${t.unflipped} of them rejected by their own auth events),`,
        `${t.softFailed} soft-failed (${t.flipped} of them allowed by their own auth events;`,
        `${t.reasons.size} kinds of reason), ${t.refused} refused`,
      );
      expect(t.allowed, `v${v} allowed`).toBeGreaterThan(total * 0.25);
      expect(t.softFailed, `v${v} soft-failed`).toBeGreaterThan(total * 0.25);
      // The point of the check: events their own auth events allow, which the later state does not.
      expect(t.flipped, `v${v} allowed by their auth events, soft-failed now`).toBeGreaterThan(total * 0.015);
      expect(t.unflipped, `v${v} rejected by their auth events, allowed now`).toBeGreaterThan(0);
      expect(t.reasons.size, `v${v} kinds of soft failure`).toBeGreaterThanOrEqual(20);
      expect(t.refused, `v${v} refused`).toBe(0);
    }
  }, 120_000);

  it('agrees on the events of generated rooms of every room version, against later states', async () => {
    const { lines, theirs } = await getCorpus();
    const diffs = compareWithOurs(lines, theirs);
    expect(diffs.slice(0, 3), `${diffs.length} of ${lines.length} requests answered differently`).toEqual([]);
  }, 120_000);
});
