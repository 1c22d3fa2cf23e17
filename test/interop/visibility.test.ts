/**
 * Differential tests for history visibility: Synapse's own
 * _check_client_allowed_to_see_event and filter_events_for_server (the
 * oracle) and ours, on generated rooms, events and viewers in every room
 * version. Expected values are Synapse's answers.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { answerLine } from '../../conformance/src/runner.js';
import { envelope } from './envelope.js';
import { knob } from './knobs.js';
import { askSynapse, comparable } from './oracle.js';
import { objOf, Raw, text, type Val } from './rawjson.js';

const VERSIONS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12'];
/** Cases per version (VIS_N) and the seeds' base (VIS_SEED); see knobs.ts. */
const PER_VERSION = knob('VIS_N', 500);
const SEED = knob('VIS_SEED', 9_100);

// Users of the room: the viewer, others on its server and elsewhere, and
// state keys that are not user IDs (no @, no colon, a port, a longer name).
const USERS = ['@u:hs', '@v:hs', '@w:other', 'x:hs', '@y:hs:8448', 'nocolon', '@z:other', ':hs', '@u:hs.evil'];
const SERVERS = ['hs', 'other', 'hs:8448', 'nowhere'];
const ABSENT = '<absent>';

const membership = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('join', 'invite', 'leave', 'ban', 'knock') },
  { weight: 1, arbitrary: fc.constantFrom<Val>('other', 5, null, ['join'], ABSENT) },
);
const visibility = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('world_readable', 'shared', 'invited', 'joined') },
  { weight: 1, arbitrary: fc.constantFrom<Val>('public', 'Joined', 5, null, ABSENT) },
);
const content = (key: string, value: Val): { [key: string]: Val } => (value === ABSENT ? {} : { [key]: value });

const memberEvent = (stateKey: string, m: Val): { [key: string]: Val } => ({
  type: 'm.room.member',
  state_key: stateKey,
  content: content('membership', m),
});
const hvEvent = (value: Val, stateKey = ''): { [key: string]: Val } => ({
  type: 'm.room.history_visibility',
  state_key: stateKey,
  content: content('history_visibility', value),
});

/** The state before the event: members (often the viewer), a setting (or none), other state. */
const state = fc
  .record({
    viewer: fc.option(membership, { freq: 4 }),
    members: fc.uniqueArray(fc.tuple(fc.constantFrom(...USERS.slice(1)), membership), {
      selector: ([u]) => u,
      maxLength: 4,
    }),
    setting: fc.option(visibility, { freq: 5 }),
    otherKey: fc.option(visibility, { freq: 1 }),
    topic: fc.boolean(),
  })
  .chain((s) => {
    const events = [
      ...(s.viewer === null ? [] : [memberEvent('@u:hs', s.viewer)]),
      ...s.members.map(([u, m]) => memberEvent(u, m)),
      ...(s.setting === null ? [] : [hvEvent(s.setting)]),
      ...(s.otherKey === null ? [] : [hvEvent(s.otherKey, 'x')]),
      ...(s.topic ? [{ type: 'm.room.topic', state_key: '', content: { topic: 't' } }] : []),
    ];
    return fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length });
  });

/** The event: a message, a member event (often the viewer's), a history visibility event... */
const event = fc.oneof(
  { weight: 3, arbitrary: fc.constant<{ [key: string]: Val }>({ type: 'm.room.message', content: { body: 'hi' } }) },
  { weight: 3, arbitrary: membership.map((m) => memberEvent('@u:hs', m)) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...USERS), membership).map(([u, m]) => memberEvent(u, m)) },
  { weight: 3, arbitrary: visibility.map((value) => hvEvent(value)) },
  { weight: 1, arbitrary: visibility.map((value) => hvEvent(value, 'x')) },
  {
    weight: 1,
    arbitrary: visibility.map((value) => ({
      type: 'm.room.history_visibility',
      content: content('history_visibility', value),
    })),
  },
  { weight: 1, arbitrary: membership.map((m) => ({ type: 'm.room.member', content: content('membership', m) })) },
  {
    weight: 1,
    arbitrary: fc.constant<{ [key: string]: Val }>({ type: 'm.room.topic', state_key: '', content: { topic: 'u' } }),
  },
);

/** Request fields that vary: the viewer, and now and then something malformed. */
const viewer = fc.oneof(
  fc.record({
    op: fc.constant('visible_to_user'),
    user_id: fc.constantFrom('@u:hs', '@u:hs', '@u:hs', ...USERS),
    joined_after: fc.boolean(),
  }),
  fc.record({ op: fc.constant('visible_to_server'), server_name: fc.constantFrom(...SERVERS) }),
);
const MALFORMED = [
  'none',
  'state not a list',
  'non-state event in state',
  'duplicate state',
  'float in a state event',
  'float in the event',
  'joined_after not a boolean',
  'missing field',
  'unpaired surrogate in server_name',
  'prev_content in unsigned',
] as const;
const malformed = fc.oneof(
  { weight: 12, arbitrary: fc.constant('none' as const) },
  { weight: 1, arbitrary: fc.constantFrom(...MALFORMED.slice(1)) },
);

const testCase = fc.record({ state, event, viewer, malformed, prevContent: membership });

type TestCase = typeof testCase extends fc.Arbitrary<infer T> ? T : never;

function requestLine(v: string, c: TestCase): string {
  const stateEvents: Val[] = c.state.map((e) => envelope(v, e));
  const ev = envelope(v, c.event);
  const req: { [key: string]: Val } = { op: c.viewer.op, room_version: v, event: ev, state: stateEvents };
  if (c.viewer.op === 'visible_to_user') {
    req.user_id = c.viewer.user_id;
    req.joined_after = c.viewer.joined_after;
  } else {
    req.server_name = c.viewer.server_name;
  }
  switch (c.malformed) {
    case 'state not a list':
      req.state = objOf(stateEvents.map((e, i) => [String(i), e]));
      break;
    case 'non-state event in state':
      stateEvents.push(envelope(v, { type: 'm.room.message', content: {} }));
      break;
    case 'duplicate state':
      stateEvents.push(envelope(v, hvEvent('joined')), envelope(v, hvEvent('shared')));
      break;
    case 'float in a state event':
      stateEvents.push(envelope(v, { type: 'm.room.topic', state_key: 'f', content: { n: new Raw('1.5') } }));
      break;
    case 'float in the event':
      ev.content = { ...(ev.content as { [key: string]: Val }), n: new Raw('2.5') };
      break;
    case 'joined_after not a boolean':
      req.joined_after = 'true';
      if (c.viewer.op === 'visible_to_server') delete req.server_name;
      break;
    case 'missing field':
      delete req[c.viewer.op === 'visible_to_user' ? 'user_id' : 'state'];
      break;
    case 'unpaired surrogate in server_name':
      if (c.viewer.op === 'visible_to_server') req.server_name = 'hs\ud800';
      break;
    case 'prev_content in unsigned':
      // Ignored by both: the previous content comes from the state.
      ev.unsigned = { prev_content: content('membership', c.prevContent) };
      break;
    case 'none':
      break;
  }
  return text(req);
}

describe('Synapse oracle: visible_to_user and visible_to_server', () => {
  it('agrees on generated rooms in every room version', async () => {
    const lines: string[] = [];
    for (const v of VERSIONS) {
      for (const c of fc.sample(testCase, { numRuns: PER_VERSION, seed: SEED + Number(v) })) {
        lines.push(requestLine(v, c));
      }
    }
    const theirs = await askSynapse(lines);

    // The corpus must prove something: Synapse's answers hold both outcomes
    // for both ops in good number, answers from Synapse raising, and
    // refusals.
    const tally = new Map<string, number>();
    theirs.forEach((answer, i) => {
      const a = JSON.parse(answer) as { ok: boolean; visible?: boolean; reason?: string; error?: { code: string } };
      const op = (JSON.parse(lines[i] as string) as { op: string }).op;
      const k = !a.ok
        ? `error:${a.error?.code}`
        : a.reason?.startsWith('Synapse raises')
          ? `${op}:raises`
          : `${op}:${a.visible}`;
      tally.set(k, (tally.get(k) ?? 0) + 1);
    });
    console.log(
      `visibility corpus: ${lines.length} requests, Synapse's answers:`,
      Object.fromEntries([...tally].sort()),
    );
    for (const op of ['visible_to_user', 'visible_to_server']) {
      expect(tally.get(`${op}:true`) ?? 0, `${op} visible`).toBeGreaterThan(lines.length / 10);
      expect(tally.get(`${op}:false`) ?? 0, `${op} not visible`).toBeGreaterThan(lines.length / 10);
      expect(tally.get(`${op}:raises`) ?? 0, `${op} Synapse raises`).toBeGreaterThan(20);
    }
    for (const code of ['M_BAD_JSON', 'M_INVALID_PARAM', 'M_MISSING_PARAM']) {
      expect(tally.get(`error:${code}`) ?? 0, code).toBeGreaterThan(20);
    }

    const diffs: { request: string; synapse: string; ours: string }[] = [];
    lines.forEach((request, i) => {
      const ours = answerLine(request);
      const synapse = theirs[i] as string;
      if (comparable(ours) !== comparable(synapse)) diffs.push({ request, synapse, ours });
    });
    expect(diffs.slice(0, 3), `${diffs.length} of ${lines.length} requests answered differently`).toEqual([]);
  });
});
