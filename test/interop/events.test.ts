/**
 * Differential tests for the event ops (redact, content_hash, reference_hash,
 * event_id, room_id, sign_event, verify_event): the same request lines are
 * answered by Synapse's own code (the oracle) and by us, in all 12 room
 * versions, and must agree.
 *
 * Events are generated with fixed seeds (reproducible). Request lines are
 * built as text, so that the numbers of v1–v5 events (huge integers, floats
 * written as `1E5`, `-0.0`, …) reach both sides exactly as written.
 */
import { appendFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { answerLine } from '../../conformance/src/runner.js';
import {
  encodeCanonicalJson,
  isJsonObject,
  type JsonObject,
  type JsonValue,
  parseJson,
} from '../../src/canonicaljson/index.js';
import { encodeBase64, SigningKey } from '../../src/signing/index.js';
import { knob } from './knobs.js';
import { askSynapse, type Difference, ourDifferingAnswer } from './oracle.js';
import { astral, highBmp, jsonValueOf, LEGACY, type Obj, objOf, Raw, text, type Val } from './rawjson.js';

const VERSIONS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12'] as const;
type Version = (typeof VERSIONS)[number];

/** v1–v5: any JSON number (Synapse keeps them as Python ints and floats). */
const legacyNumbers = (v: Version) => Number(v) <= 5;
/** v1–v2: `$local:server` event IDs carried in the event; `[id, hashes]` references. */
const opaqueIds = (v: Version) => v === '1' || v === '2';
/** v12 (MSC4291): room IDs are hashes; the create event has no room_id. */
const hashRoomIds = (v: Version) => v === '12';

// ---------------------------------------------------------------------------
// JSON text with exact numbers.

const parseLegacy = (s: string) => parseJson(s, LEGACY);
const encodeLegacy = (v: JsonValue) => encodeCanonicalJson(v, LEGACY);

/** A request line: `fields` are [name, JSON text] pairs. */
function request(op: string, fields: ReadonlyArray<readonly [string, string]>): string {
  return `{"op":${JSON.stringify(op)}${fields.map(([k, t]) => `,${JSON.stringify(k)}:${t}`).join('')}}`;
}
const q = (s: string) => JSON.stringify(s);

/** One request per op about the event `t` (JSON text) in room version `v`. */
function eventLines(ops: readonly string[], v: string, t: string): string[] {
  return ops.map((op) =>
    request(op, [
      ['room_version', q(v)],
      ['event', t],
    ]),
  );
}

// ---------------------------------------------------------------------------
// Comparing.

interface Outcome {
  diffs: Difference[];
  /** Synapse's answers, parsed. */
  theirs: JsonObject[];
}

async function compare(lines: string[]): Promise<Outcome> {
  const answers = await askSynapse(lines);
  const diffs: Difference[] = [];
  const theirs: JsonObject[] = [];
  lines.forEach((request, i) => {
    const synapse = answers[i] as string;
    const ours = ourDifferingAnswer(request, synapse, true);
    theirs.push(parseLegacy(synapse) as JsonObject);
    if (ours !== undefined) diffs.push({ request, synapse, ours });
  });
  return { diffs, theirs };
}

const cut = (s: string, n = 1200) => (s.length > n ? `${s.slice(0, n)}… (${s.length} chars)` : s);

function report(label: string, lines: string[], diffs: Difference[]): string {
  const byOp = new Map<string, number>();
  for (const d of diffs) {
    const op = /"op":"([^"]*)"/.exec(d.request)?.[1] ?? '?';
    byOp.set(op, (byOp.get(op) ?? 0) + 1);
  }
  const first = diffs
    .slice(0, 4)
    .map((d) => `\n  request: ${cut(d.request)}\n  synapse: ${cut(d.synapse)}\n  ours:    ${cut(d.ours)}`)
    .join('\n');
  return `${label}: ${diffs.length} of ${lines.length} requests answered differently (${[...byOp]
    .map(([op, n]) => `${op}: ${n}`)
    .join(', ')})${first}`;
}

async function expectAgreement(label: string, lines: string[]): Promise<Outcome> {
  const outcome = await compare(lines);
  // DUMP_DIFFS=file appends every disagreement to file, one JSON object a line.
  if (process.env.DUMP_DIFFS) {
    for (const d of outcome.diffs) appendFileSync(process.env.DUMP_DIFFS, `${JSON.stringify({ label, ...d })}\n`);
  }
  expect(outcome.diffs.length, report(label, lines, outcome.diffs)).toBe(0);
  return outcome;
}

/** How often Synapse gave each answer (ok/errcode, or a result value). */
function tally(theirs: JsonObject[], field?: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const a of theirs) {
    const k =
      a.ok === true
        ? field === undefined
          ? 'ok'
          : String(a[field])
        : String((a.error as JsonObject | undefined)?.code ?? '?');
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return counts;
}

// ---------------------------------------------------------------------------
// Servers and keys.

const SERVERS = ['a.example', 'b.example', 'c.example'] as const;
const seedBytes = (i: number) => new Uint8Array(32).fill(i + 1);
const SEEDS: Record<string, string> = Object.fromEntries(SERVERS.map((s, i) => [s, encodeBase64(seedBytes(i))]));
const PUBLIC_KEYS: Record<string, string> = Object.fromEntries(
  SERVERS.map((s, i) => [s, encodeBase64(new SigningKey(seedBytes(i)).publicKey)]),
);
const OTHER_PUBLIC_KEY = encodeBase64(new SigningKey(new Uint8Array(32).fill(200)).publicKey);
const KEY_ID = 'ed25519:k1';

// ---------------------------------------------------------------------------
// Generators.

const tricky = fc.constantFrom('a', 'é', '日', 'ß', '\n', '"', '\\', '\u0000', '\u001f', '\u007f', '\u2028', '\ufeff');
const unicodeText = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 8 }),
  fc.array(fc.oneof(astral, highBmp, tricky), { maxLength: 5 }).map((a) => a.join('')),
  fc.string({ maxLength: 6 }),
);
const key = fc.oneof(
  fc.constantFrom('body', 'a', 'b', 'z', 'x', 'membership', 'users', 'creator', 'redacts', 'signed', 'm.relates_to'),
  unicodeText,
);
const localpart = fc.stringMatching(/^[a-z0-9._=-]{1,8}$/);
const server = fc.constantFrom(...SERVERS);
const userId = fc.tuple(localpart, server).map(([l, s]) => `@${l}:${s}`);
const b64url43 = fc.stringMatching(/^[A-Za-z0-9_-]{43}$/);
const b64std43 = fc.stringMatching(/^[A-Za-z0-9+/]{43}$/);
const b64sig = fc.stringMatching(/^[A-Za-z0-9+/]{86}$/);

/** Numbers written in every way Python reads differently (v1–v5 only). */
const rawNumber = fc
  .oneof(
    fc.constantFrom(
      '1E5',
      '1e+5',
      '1e-5',
      '-0.0',
      '-0',
      '0.0',
      '1.0',
      '100.0',
      '1e16',
      '1e15',
      '0.1',
      '2.5e-7',
      '1.5',
      '1.7976931348623157e308',
      '5e-324',
      '9007199254740992',
      '-9007199254740992',
      '18446744073709551616',
      '123456789012345678901234567890',
    ),
    fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }).map(String),
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => (Object.is(d, -0) ? '-0.0' : String(d))),
  )
  .map((t) => new Raw(t));

function number(legacy: boolean): fc.Arbitrary<Val> {
  return legacy ? fc.oneof(fc.maxSafeInteger(), fc.integer({ min: -100, max: 100 }), rawNumber) : fc.maxSafeInteger();
}

function jsonValue(legacy: boolean): fc.Arbitrary<Val> {
  return jsonValueOf(unicodeText, key, number(legacy));
}

/** The parts of an event its type decides. */
interface Typed {
  type: string;
  content: Val;
  state_key?: string;
  redacts?: Val;
}

const EVENT_TYPES = [
  'm.room.create',
  'm.room.member',
  'm.room.join_rules',
  'm.room.power_levels',
  'm.room.aliases',
  'm.room.history_visibility',
  'm.room.redaction',
  'm.room.message',
  'custom',
] as const;
type EventKind = (typeof EVENT_TYPES)[number];

/** Optional keys: each present or not. */
function some(model: Record<string, fc.Arbitrary<Val>>): fc.Arbitrary<Obj> {
  return fc.record(model, { requiredKeys: [] }) as fc.Arbitrary<Obj>;
}

function typedArb(kind: EventKind, v: Version): fc.Arbitrary<Typed> {
  const legacy = legacyNumbers(v);
  const value = jsonValue(legacy);
  const extra = fc.array(fc.tuple(key, value), { maxLength: 3 });
  const level: fc.Arbitrary<Val> = fc.oneof(
    fc.integer({ min: -100, max: 100 }),
    ...(legacy ? [rawNumber] : []),
    ...(Number(v) < 10 ? [fc.constantFrom('50', ' 7', 'x')] : []),
  );
  const eventId = opaqueIds(v)
    ? fc.tuple(localpart, server).map(([l, s]) => `$${l}:${s}`)
    : b64url43.map((h) => `$${h}`);
  const roomIdText = hashRoomIds(v)
    ? b64url43.map((h) => `!${h}`)
    : fc.tuple(localpart, server).map(([l, s]) => `!${l}:${s}`);
  const withExtra = (typed: fc.Arbitrary<Obj>) =>
    fc.tuple(extra, typed).map(([e, t]) => objOf([...e, ...Object.entries(t)]));
  switch (kind) {
    case 'm.room.create':
      return withExtra(
        some({
          creator: fc.oneof(userId, value),
          additional_creators: fc.oneof(fc.array(userId, { maxLength: 3 }), value),
          room_version: fc.oneof(fc.constantFrom<Val>(...VERSIONS, '13'), value),
          predecessor: fc.record({ room_id: roomIdText, event_id: eventId }),
          'm.federate': fc.boolean(),
        }),
      ).map((content) => ({ type: kind, content, state_key: '' }));
    case 'm.room.member': {
      const signed = fc.record({
        mxid: userId,
        token: unicodeText,
        signatures: fc.record({ 'b.example': fc.record({ 'ed25519:0': b64sig }) }),
      });
      const thirdPartyInvite = fc.oneof(
        fc.record({ display_name: unicodeText, signed }),
        fc.record({ display_name: unicodeText }),
        fc.record({ signed: value }),
        fc.constant<Val>({}),
        value, // strings, numbers, null, arrays
      );
      return fc
        .tuple(
          withExtra(
            fc.record(
              {
                membership: fc.oneof(fc.constantFrom('join', 'invite', 'leave', 'ban', 'knock'), unicodeText, value),
                third_party_invite: thirdPartyInvite,
                join_authorised_via_users_server: fc.oneof(userId, userId, value),
                displayname: unicodeText,
                avatar_url: unicodeText,
              },
              { requiredKeys: [] },
            ) as fc.Arbitrary<Obj>,
          ),
          userId,
        )
        .map(([content, stateKey]) => ({ type: kind, content, state_key: stateKey }));
    }
    case 'm.room.join_rules':
      return withExtra(
        some({
          join_rule: fc.oneof(
            fc.constantFrom('public', 'invite', 'knock', 'restricted', 'knock_restricted', 'private'),
            value,
          ),
          allow: fc.oneof(
            fc.array(fc.record({ type: fc.constant('m.room_membership'), room_id: roomIdText }), { maxLength: 2 }),
            value,
          ),
        }),
      ).map((content) => ({ type: kind, content, state_key: '' }));
    case 'm.room.power_levels':
      return withExtra(
        some({
          ban: level,
          events: fc.array(fc.tuple(fc.constantFrom('m.room.name', 'm.room.power_levels', 'x'), level)).map(objOf),
          events_default: level,
          invite: level,
          kick: level,
          redact: level,
          state_default: level,
          users: fc.array(fc.tuple(userId, level), { maxLength: 3 }).map(objOf),
          users_default: level,
          notifications: some({ room: level, x: level }),
        }),
      ).map((content) => ({ type: kind, content, state_key: '' }));
    case 'm.room.aliases':
      return fc
        .tuple(
          withExtra(
            some({
              aliases: fc.oneof(
                fc.array(
                  localpart.map((l) => `#${l}:a.example`),
                  { maxLength: 3 },
                ),
                value,
              ),
            }),
          ),
          server,
        )
        .map(([content, s]) => ({ type: kind, content, state_key: s }));
    case 'm.room.history_visibility':
      return withExtra(
        some({
          history_visibility: fc.oneof(fc.constantFrom('invited', 'joined', 'shared', 'world_readable'), value),
        }),
      ).map((content) => ({ type: kind, content, state_key: '' }));
    case 'm.room.redaction':
      return fc
        .tuple(
          withExtra(some({ redacts: fc.oneof(eventId, value), reason: unicodeText })),
          fc.option(eventId, { nil: undefined }),
        )
        .map(([content, redacts]) =>
          redacts === undefined ? { type: kind, content } : { type: kind, content, redacts },
        );
    case 'm.room.message':
      return withExtra(
        some({
          body: unicodeText,
          msgtype: fc.constantFrom('m.text', 'm.notice'),
          'm.relates_to': fc.oneof(
            some({
              rel_type: fc.constantFrom('m.annotation', 'm.thread', 'm.replace'),
              event_id: eventId,
              key: unicodeText,
            }),
            value,
          ),
        }),
      ).map((content) => ({ type: kind, content }));
    case 'custom':
      return fc
        .tuple(
          fc.oneof(
            fc.constantFrom('org.example.custom', 'm.room.topic', 'm.room.name', 'm.room.tombstone'),
            unicodeText,
          ),
          fc.array(fc.tuple(key, value), { maxLength: 5 }).map(objOf),
          fc.option(unicodeText, { nil: undefined }),
        )
        .map(([type, content, stateKey]) =>
          stateKey === undefined ? { type, content } : { type, content, state_key: stateKey },
        );
  }
}

/** An event reference in the version's format. */
function referenceArb(v: Version): fc.Arbitrary<Val> {
  if (opaqueIds(v)) {
    return fc.tuple(localpart, server, b64std43).map(([l, s, h]) => [`$${l}:${s}`, { sha256: h }] as Val);
  }
  return (v === '3' ? b64std43 : b64url43).map((h) => `$${h}`);
}

/** Top-level keys that are no part of the format (kept by redaction before v11, or Synapse bookkeeping). */
function junkArb(v: Version): fc.Arbitrary<Obj> {
  const legacy = legacyNumbers(v);
  const value = jsonValue(legacy);
  return some({
    origin: server,
    membership: fc.oneof(fc.constantFrom('join', 'leave'), value),
    prev_state: fc.oneof(fc.array(referenceArb(v), { maxLength: 2 }), value),
    age_ts: fc.maxSafeInteger(),
    outlier: fc.boolean(),
    destinations: fc.oneof(fc.array(server, { maxLength: 2 }), value),
    unsigned: some({
      age_ts: fc.nat(),
      age: fc.nat(),
      transaction_id: unicodeText,
      x: value,
    }),
  });
}

interface EventOptions {
  kinds?: readonly EventKind[];
  /** Always add junk keys. */
  junk?: boolean;
}

/**
 * Events as Synapse's Event parser takes them: the keys and types of the
 * version's event format (hashes, depth, origin_server_ts, prev_events,
 * auth_events, room_id; event_id in v1–v2 only; no room_id on a v12 create
 * event), with generated content and junk keys.
 */
function pduArb(v: Version, options: EventOptions = {}): fc.Arbitrary<Obj> {
  const kinds = options.kinds ?? EVENT_TYPES;
  const typed = fc.constantFrom(...kinds).chain((k) => typedArb(k, v));
  return fc
    .record({
      typed,
      sender: userId,
      roomLocal: localpart,
      roomServer: server,
      roomHash: b64url43,
      eventLocal: localpart,
      eventServer: server,
      ts: fc.oneof(fc.integer({ min: 0, max: 2 ** 45 }), fc.constant(1_700_000_000_000)),
      depth: fc.oneof(fc.integer({ min: 0, max: 100 }), fc.maxSafeNat()),
      prev: fc.array(referenceArb(v), { maxLength: 3 }),
      auth: fc.array(referenceArb(v), { maxLength: 4 }),
      hashes: fc.oneof(
        b64std43.map((h) => ({ sha256: h })),
        fc.tuple(b64std43, b64std43).map(([h, g]) => ({ sha256: h, sha512: g })),
      ),
      signatures: fc.option(
        fc.tuple(server, b64sig).map(([s, sig]) => ({ [s]: { [KEY_ID]: sig } })),
        { nil: undefined },
      ),
      junk: options.junk ? junkArb(v) : fc.option(junkArb(v), { nil: undefined }),
      order: fc.boolean(),
    })
    .map((r) => {
      const isCreate = r.typed.type === 'm.room.create' && r.typed.state_key === '';
      const entries: [string, Val][] = [
        ['type', r.typed.type],
        ['content', r.typed.content],
        ['sender', r.sender],
        ['origin_server_ts', r.ts],
        ['depth', r.depth],
        ['prev_events', isCreate ? [] : r.prev],
        ['auth_events', isCreate ? [] : r.auth],
        ['hashes', r.hashes],
      ];
      if (!(isCreate && hashRoomIds(v))) {
        entries.push(['room_id', hashRoomIds(v) ? `!${r.roomHash}` : `!${r.roomLocal}:${r.roomServer}`]);
      }
      if (opaqueIds(v)) entries.push(['event_id', `$${r.eventLocal}:${r.eventServer}`]);
      if (r.typed.state_key !== undefined) entries.push(['state_key', r.typed.state_key]);
      if (r.typed.redacts !== undefined) entries.push(['redacts', r.typed.redacts]);
      if (r.signatures !== undefined) entries.push(['signatures', r.signatures]);
      if (r.junk !== undefined) entries.push(...Object.entries(r.junk));
      return objOf(r.order ? entries : entries.reverse());
    });
}

/** Ways to break an event's format (for the ops that take any JSON object). */
function deformArb(v: Version): fc.Arbitrary<(e: Obj) => Obj> {
  const set = (k: string, val: Val) => (e: Obj) => objOf([...Object.entries(e), [k, val]]);
  const drop = (k: string) => (e: Obj) => objOf(Object.entries(e).filter(([x]) => x !== k));
  return fc.oneof(
    fc
      .constantFrom(
        'type',
        'content',
        'sender',
        'room_id',
        'depth',
        'origin_server_ts',
        'prev_events',
        'auth_events',
        'hashes',
        'event_id',
        'state_key',
      )
      .map(drop),
    fc.constantFrom<Val>('text', 1, null, [1], true).map((c) => set('content', c)),
    fc.constantFrom<Val>(1, null, ['m.room.message']).map((t) => set('type', t)),
    fc
      .constantFrom<Val>(
        '1',
        -1,
        2 ** 53,
        ...(legacyNumbers(v) ? [new Raw('1.5'), new Raw('18446744073709551616')] : []),
      )
      .map((d) => set('depth', d)),
    fc.constantFrom<Val>(1, 'no-colon', null).map((s) => set('sender', s)),
    fc.constantFrom<Val>('x', { sha256: 1 }, [], null).map((h) => set('hashes', h)),
    fc
      .constantFrom<Val>('x', { 'a.example': 'x' }, { 'a.example': { [KEY_ID]: 1 } }, [])
      .map((s) => set('signatures', s)),
    fc.constantFrom<Val>({}, [1], [['$a:b.example']], 'x').map((p) => set('prev_events', p)),
    fc.constantFrom<Val>('x', 1.5 as unknown as Val, { age_ts: 'x' }, []).map((u) => set('unsigned', u)),
    b64url43.map((h) => set('event_id', `$${h}`)),
    fc.constant(set('room_id', '!r:a.example')),
    fc.constant(set('state_key', 5)),
  );
}

/** Widens (`EVENTS_SCALE` times the runs) or re-seeds (`EVENTS_SEED` added to each seed) every generated run. */
const SCALE = knob('EVENTS_SCALE', 1);
const SEED_SHIFT = knob('EVENTS_SEED', 0);
const sample = <T>(arb: fc.Arbitrary<T>, numRuns: number, seed: number): T[] =>
  fc.sample(arb, { numRuns: numRuns * SCALE, seed: seed + SEED_SHIFT });

// ---------------------------------------------------------------------------
// Signing with our library (the oracle judges the result independently).

function ourSignEvent(v: Version, event: string, signer: string, keyId = KEY_ID): JsonObject | undefined {
  const line = request('sign_event', [
    ['room_version', q(v)],
    ['event', event],
    ['server_name', q(signer)],
    ['key_id', q(keyId)],
    ['seed', q(SEEDS[signer] as string)],
  ]);
  const answer = parseLegacy(answerLine(line)) as JsonObject;
  return answer.ok === true && isJsonObject(answer.event) ? answer.event : undefined;
}

// ---------------------------------------------------------------------------
// The tests.

const PER_VERSION = 220;

describe('Synapse oracle: redaction, hashes and IDs', () => {
  it('agrees on redact, content_hash, reference_hash and event_id of well-formed events', async () => {
    const lines: string[] = [];
    for (const v of VERSIONS) {
      for (const e of sample(pduArb(v), PER_VERSION, 1000 + Number(v))) {
        lines.push(...eventLines(['redact', 'content_hash', 'reference_hash', 'event_id'], v, text(e)));
      }
    }
    const { theirs } = await expectAgreement('well-formed events', lines);
    expect(tally(theirs).get('ok')).toBe(lines.length);
  });

  it('agrees on events of every type with every junk key', async () => {
    const lines: string[] = [];
    for (const v of VERSIONS) {
      for (const kind of EVENT_TYPES) {
        for (const e of sample(pduArb(v, { kinds: [kind], junk: true }), 12, 2000 + Number(v) * 17 + kind.length)) {
          lines.push(...eventLines(['redact', 'content_hash', 'reference_hash', 'event_id'], v, text(e)));
        }
      }
    }
    const { theirs } = await expectAgreement('every type, junk keys', lines);
    expect(tally(theirs).get('ok')).toBe(lines.length);
  });

  /** Broken events of every version through `ops`, both sides. */
  async function brokenEventsAgree(label: string, ops: string[], perVersion: number, seed: number): Promise<void> {
    const lines: string[] = [];
    for (const v of VERSIONS) {
      for (const [e, deform] of sample(fc.tuple(pduArb(v), deformArb(v)), perVersion, seed + Number(v))) {
        lines.push(...eventLines(ops, v, text(deform(e))));
      }
    }
    await expectAgreement(label, lines);
  }

  it('agrees on redact and content_hash of events with a broken format', () =>
    brokenEventsAgree('broken events: redact, content_hash', ['redact', 'content_hash'], 60, 3000));

  it('agrees on event_id and reference_hash of events with a broken format', () =>
    brokenEventsAgree('broken events: event_id, reference_hash', ['event_id', 'reference_hash'], 40, 4000));

  it('agrees on room IDs from create events', async () => {
    const lines: string[] = [];
    for (const v of VERSIONS) {
      for (const e of sample(pduArb(v, { kinds: ['m.room.create'] }), 60, 5000 + Number(v))) {
        lines.push(
          request('room_id', [
            ['room_version', q(v)],
            ['create_event', text(e)],
          ]),
        );
      }
      // Not create events, and create events with and without a room_id.
      for (const e of sample(
        pduArb(v, { kinds: ['m.room.message', 'm.room.member', 'custom'] }),
        5,
        5100 + Number(v),
      )) {
        lines.push(
          request('room_id', [
            ['room_version', q(v)],
            ['create_event', text(e)],
          ]),
        );
      }
      for (const e of sample(pduArb(v, { kinds: ['m.room.create'] }), 5, 5200 + Number(v))) {
        const withRoomId = objOf([...Object.entries(e), ['room_id', '!r:a.example']]);
        const withoutRoomId = objOf(Object.entries(e).filter(([k]) => k !== 'room_id'));
        const nonEmptyStateKey = objOf([...Object.entries(e), ['state_key', 'x']]);
        for (const c of [withRoomId, withoutRoomId, nonEmptyStateKey]) {
          lines.push(
            request('room_id', [
              ['room_version', q(v)],
              ['create_event', text(c)],
            ]),
          );
        }
      }
    }
    const { theirs } = await expectAgreement('room_id', lines);
    expect(tally(theirs).get('ok')).toBeGreaterThan(lines.length / 2);
  });

  it('agrees on the errors for bad requests', async () => {
    const ev = '{"type":"m.room.message","content":{}}';
    const lines: string[] = [];
    for (const op of ['redact', 'content_hash', 'reference_hash', 'event_id']) {
      lines.push(
        request(op, [['event', ev]]),
        request(op, [
          ['room_version', q('13')],
          ['event', ev],
        ]),
        request(op, [
          ['room_version', '12'],
          ['event', ev],
        ]),
        request(op, [['room_version', q('12')]]),
        request(op, [
          ['room_version', q('12')],
          ['event', '[]'],
        ]),
        request(op, [
          ['room_version', q('12')],
          ['event', '"x"'],
        ]),
        // Floats and out-of-range integers in strict versions.
        request(op, [
          ['room_version', q('6')],
          ['event', '{"type":"m.room.message","content":{"n":1.5}}'],
        ]),
        request(op, [
          ['room_version', q('12')],
          ['event', '{"type":"m.room.message","content":{"n":9007199254740992}}'],
        ]),
      );
    }
    // Unpaired surrogates, kept and dropped by redaction, and a number no
    // float holds (inf in Python) in v1–v5.
    for (const v of ['3', '10']) {
      for (const op of ['redact', 'content_hash', 'reference_hash', 'event_id']) {
        lines.push(
          request(op, [
            ['room_version', q(v)],
            ['event', '{"type":"m.room.message","content":{"body":"\\ud800"}}'],
          ]),
          request(op, [
            ['room_version', q(v)],
            ['event', '{"type":"m.room.member","content":{"membership":"\\udc00"}}'],
          ]),
        );
      }
    }
    lines.push(
      request('content_hash', [
        ['id', q('inf')],
        ['room_version', q('3')],
        ['event', '{"type":"m.room.message","content":{"n":1e400}}'],
      ]),
    );
    lines.push(
      request('room_id', [['room_version', q('12')]]),
      request('room_id', [
        ['room_version', q('12')],
        ['create_event', '1'],
      ]),
      request('room_id', [
        ['room_version', q('x')],
        ['create_event', '{}'],
      ]),
    );
    await expectAgreement('bad requests', lines);
  });
});

describe('Synapse oracle: signing events', () => {
  it('agrees on sign_event of well-formed events, junk keys and existing signatures included', async () => {
    const lines: string[] = [];
    for (const v of VERSIONS) {
      for (const [e, signer, keyId] of sample(
        fc.tuple(pduArb(v), server, fc.constantFrom(KEY_ID, 'ed25519:a_1', 'ed25519:0')),
        120,
        6000 + Number(v),
      )) {
        lines.push(
          request('sign_event', [
            ['room_version', q(v)],
            ['event', text(e)],
            ['server_name', q(signer)],
            ['key_id', q(keyId)],
            ['seed', q(SEEDS[signer] as string)],
          ]),
        );
      }
    }
    const { theirs } = await expectAgreement('sign_event', lines);
    expect(tally(theirs).get('ok')).toBe(lines.length);
  });

  it('agrees on sign_event of events with a broken format, and on bad keys', async () => {
    const lines: string[] = [];
    for (const v of VERSIONS) {
      for (const [e, deform] of sample(fc.tuple(pduArb(v), deformArb(v)), 30, 7000 + Number(v))) {
        lines.push(
          request('sign_event', [
            ['room_version', q(v)],
            ['event', text(deform(e))],
            ['server_name', q('a.example')],
            ['key_id', q(KEY_ID)],
            ['seed', q(SEEDS['a.example'] as string)],
          ]),
        );
      }
    }
    const ev = '{"type":"m.room.message","content":{},"sender":"@u:a.example"}';
    for (const [keyId, seed] of [
      ['ed25519', SEEDS['a.example']],
      ['ed25519:k', 'AAAA'],
      ['ed25519:k', 'not base64!'],
    ] as const) {
      lines.push(
        request('sign_event', [
          ['room_version', q('10')],
          ['event', ev],
          ['server_name', q('a.example')],
          ['key_id', q(keyId)],
          ['seed', q(seed as string)],
        ]),
      );
    }
    lines.push(
      request('sign_event', [
        ['room_version', q('10')],
        ['event', ev],
        ['key_id', q(KEY_ID)],
        ['seed', q(SEEDS['a.example'] as string)],
      ]),
    );
    await expectAgreement('sign_event, broken', lines);
  });
});

// ---------------------------------------------------------------------------
// verify_event.

const MUTATIONS = [
  'none',
  'none',
  'content',
  'toplevel',
  'hash',
  'hashjunk',
  'hashmissing',
  'hashdropped',
  'sigflip',
  'sigjunk',
  'nosigs',
  'drop-sender',
  'drop-idserver',
  'drop-authoriser',
  'wrongkey',
  'unknownkeyid',
  'nokeys',
  'expired',
  'expiredexact',
  'expiredfuture',
  'secondbad',
  'secondunknown',
  'secondexpired',
  'otheralg',
  'onlyotheralg',
  'keyotherserver',
  'keyobject',
] as const;
type Mutation = (typeof MUTATIONS)[number];

type Flavour = 'plain' | '3pid' | 'invite' | 'restricted' | 'no-membership' | 'other-id-server';

/** Events for verify_event: well-formed, sent by a.example, in flavours that change who must sign. */
function verifyEventArb(v: Version): fc.Arbitrary<{ event: Obj; flavour: Flavour }> {
  const flavour = fc.constantFrom<Flavour>(
    'plain',
    'plain',
    '3pid',
    'invite',
    'restricted',
    'no-membership',
    'other-id-server',
  );
  return fc.tuple(pduArb(v), flavour, localpart, unicodeText).map(([e, f, l, name]) => {
    const entries = Object.entries(e).filter(([k]) => k !== 'signatures');
    const set = (k: string, val: Val) => {
      const i = entries.findIndex(([x]) => x === k);
      if (i >= 0) entries[i] = [k, val];
      else entries.push([k, val]);
    };
    set('sender', `@${l}:a.example`);
    if (opaqueIds(v)) set('event_id', `$${l}:${f === 'other-id-server' ? 'b.example' : 'a.example'}`);
    const member = (content: Obj) => {
      set('type', 'm.room.member');
      set('state_key', `@${l}:b.example`);
      set('content', content);
      if (entries.some(([k]) => k === 'room_id') && hashRoomIds(v) === false) set('room_id', '!r:a.example');
      if (hashRoomIds(v)) set('room_id', '!AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    };
    if (f === '3pid') {
      member({
        membership: 'invite',
        third_party_invite: { display_name: name, signed: { mxid: `@${l}:b.example`, token: 'tok', signatures: {} } },
      });
    }
    if (f === 'invite') member({ membership: 'invite', displayname: name });
    if (f === 'restricted') member({ membership: 'join', join_authorised_via_users_server: '@admin:c.example' });
    if (f === 'no-membership') member({ displayname: name });
    return { event: objOf(entries), flavour: f };
  });
}

/** The servers whose signatures an event carries: everyone it names. */
function signersOf(v: Version, e: Obj): string[] {
  const servers = new Set<string>(['a.example']);
  if (opaqueIds(v) && typeof e.event_id === 'string') servers.add(e.event_id.slice(e.event_id.indexOf(':') + 1));
  const content = e.content;
  if (isObj(content) && typeof content.join_authorised_via_users_server === 'string') {
    const jav = content.join_authorised_via_users_server;
    if (jav.includes(':') && (SERVERS as readonly string[]).includes(jav.slice(jav.indexOf(':') + 1))) {
      servers.add(jav.slice(jav.indexOf(':') + 1));
    }
  }
  return [...servers];
}

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Raw);

function flip(sig: string, n: number): string {
  const i = n % sig.length;
  return sig.slice(0, i) + (sig[i] === 'A' ? 'B' : 'A') + sig.slice(i + 1);
}

/** A verify_event request: the event signed by our library, then mutated. */
function verifyRequest(v: Version, e: Obj, how: Mutation, n: number): string | undefined {
  let signed: JsonObject | undefined;
  let eventText = text(e);
  for (const s of signersOf(v, e)) {
    signed = ourSignEvent(v, eventText, s);
    if (signed === undefined) return undefined;
    eventText = encodeLegacy(signed);
  }
  if (signed === undefined) return undefined;
  const event = signed;
  const sigs = event.signatures as JsonObject;
  const keys: JsonObject = {};
  for (const s of SERVERS) keys[s] = { [KEY_ID]: PUBLIC_KEYS[s] as string };
  const ts = typeof event.origin_server_ts === 'number' ? event.origin_server_ts : 0;
  const signerList = Object.keys(sigs);
  const pick = signerList[n % signerList.length] as string;
  const serverSigs = () => sigs[pick] as JsonObject;
  const domain = (id: unknown) => (typeof id === 'string' ? id.slice(id.indexOf(':') + 1) : '');
  switch (how) {
    case 'none':
      break;
    case 'content':
      (event.content as JsonObject).tampered = n;
      break;
    case 'toplevel':
      event.tampered = n;
      break;
    case 'hash':
      (event.hashes as JsonObject).sha256 = encodeBase64(new Uint8Array(32).fill(n % 256));
      break;
    case 'hashjunk':
      (event.hashes as JsonObject).sha256 = [
        'not base64!',
        '',
        '====',
        'AAAA',
        `${(event.hashes as JsonObject).sha256}=`,
      ][n % 5] as string;
      break;
    case 'hashmissing':
      event.hashes = n % 2 === 0 ? {} : { sha512: 'AAAA' };
      break;
    case 'hashdropped':
      delete event.hashes;
      break;
    case 'sigflip':
      serverSigs()[KEY_ID] = flip(serverSigs()[KEY_ID] as string, n);
      break;
    case 'sigjunk':
      serverSigs()[KEY_ID] = ['!!!', '', `${serverSigs()[KEY_ID]}==`, (serverSigs()[KEY_ID] as string).slice(1)][
        n % 4
      ] as string;
      break;
    case 'nosigs':
      delete event.signatures;
      break;
    case 'drop-sender':
      delete sigs[domain(event.sender)];
      break;
    case 'drop-idserver':
      delete sigs[domain(event.event_id)];
      break;
    case 'drop-authoriser':
      delete sigs[domain((event.content as JsonObject).join_authorised_via_users_server)];
      break;
    case 'wrongkey':
      keys[pick] = {
        [KEY_ID]: n % 2 === 0 ? OTHER_PUBLIC_KEY : (PUBLIC_KEYS[SERVERS[(n + 1) % 3] as string] as string),
      };
      break;
    case 'unknownkeyid':
      keys[pick] = { 'ed25519:other': PUBLIC_KEYS[pick] as string };
      break;
    case 'nokeys':
      delete keys[pick];
      break;
    case 'expired':
      keys[pick] = { [KEY_ID]: { key: PUBLIC_KEYS[pick] as string, valid_until_ts: ts - 1 - (n % 1000) } };
      break;
    case 'expiredexact':
      keys[pick] = { [KEY_ID]: { key: PUBLIC_KEYS[pick] as string, valid_until_ts: ts } };
      break;
    case 'expiredfuture':
      keys[pick] = { [KEY_ID]: { key: PUBLIC_KEYS[pick] as string, valid_until_ts: ts + 1 } };
      break;
    case 'secondbad':
      serverSigs()['ed25519:k2'] = flip(serverSigs()[KEY_ID] as string, n);
      (keys[pick] as JsonObject)['ed25519:k2'] = PUBLIC_KEYS[pick] as string;
      break;
    case 'secondunknown':
      serverSigs()['ed25519:k2'] = flip(serverSigs()[KEY_ID] as string, n);
      break;
    case 'secondexpired':
      serverSigs()['ed25519:k2'] = flip(serverSigs()[KEY_ID] as string, n);
      (keys[pick] as JsonObject)['ed25519:k2'] = { key: PUBLIC_KEYS[pick] as string, valid_until_ts: ts - 1 };
      break;
    case 'otheralg':
      serverSigs()['foo:1'] = 'AAAA';
      break;
    case 'onlyotheralg':
      sigs[pick] = { 'foo:1': serverSigs()[KEY_ID] as string };
      break;
    case 'keyotherserver':
      keys[`x${pick}`] = keys[pick] as JsonObject;
      delete keys[pick];
      break;
    case 'keyobject':
      keys[pick] = { [KEY_ID]: { key: PUBLIC_KEYS[pick] as string } };
      break;
  }
  return request('verify_event', [
    ['room_version', q(v)],
    ['event', encodeLegacy(event)],
    ['keys', encodeLegacy(keys)],
  ]);
}

/** Hand-made events for the scenarios whose answer is known. */
function scenarioEvent(v: Version, flavour: Flavour | 'member-invite'): Obj {
  const entries: [string, Val][] = [
    ['type', 'm.room.message'],
    ['content', { body: 'hi' }],
    ['sender', '@u:a.example'],
    ['origin_server_ts', 1_700_000_000_000],
    ['depth', 5],
    ['prev_events', []],
    ['auth_events', []],
    ['hashes', { sha256: 'AAAA' }],
    ['room_id', hashRoomIds(v) ? `!${'R'.repeat(43)}` : '!r:a.example'],
  ];
  if (opaqueIds(v)) entries.push(['event_id', flavour === 'other-id-server' ? '$e:b.example' : '$e:a.example']);
  const member = (content: Obj): [string, Val][] => [
    ['type', 'm.room.member'],
    ['state_key', '@v:b.example'],
    ['content', content],
  ];
  if (flavour === '3pid') entries.push(...member({ membership: 'invite', third_party_invite: { display_name: 'v' } }));
  if (flavour === 'invite') entries.push(...member({ membership: 'invite' }));
  if (flavour === 'restricted') {
    entries.push(...member({ membership: 'join', join_authorised_via_users_server: '@admin:c.example' }));
  }
  if (flavour === 'no-membership') entries.push(...member({ displayname: 'v' }));
  return objOf(entries);
}

type Expected = 'valid' | 'redacted' | 'invalid';
const upTo4 = (v: Version, early: Expected, late: Expected): Expected => (Number(v) <= 4 ? early : late);

/** [flavour, mutation, Synapse's answer] for each version. */
const SCENARIOS: ReadonlyArray<[Flavour, Mutation, (v: Version) => Expected]> = [
  ['plain', 'none', () => 'valid'],
  ['plain', 'content', () => 'redacted'],
  ['plain', 'toplevel', () => 'redacted'],
  // The signatures cover the hashes: a changed hash is a bad signature.
  ['plain', 'hash', () => 'invalid'],
  ['plain', 'hashmissing', () => 'invalid'],
  ['plain', 'hashdropped', () => 'invalid'],
  ['plain', 'sigflip', () => 'invalid'],
  ['plain', 'nosigs', () => 'invalid'],
  ['plain', 'drop-sender', () => 'invalid'],
  ['plain', 'wrongkey', () => 'invalid'],
  ['plain', 'unknownkeyid', () => 'invalid'],
  ['plain', 'nokeys', () => 'invalid'],
  ['plain', 'keyotherserver', () => 'invalid'],
  ['plain', 'keyobject', () => 'valid'],
  // Key validity is enforced from v5: valid until origin_server_ts at least.
  ['plain', 'expired', (v) => upTo4(v, 'valid', 'invalid')],
  ['plain', 'expiredexact', () => 'valid'],
  ['plain', 'expiredfuture', () => 'valid'],
  // Every signature under a usable key must verify; others are skipped.
  ['plain', 'secondbad', () => 'invalid'],
  ['plain', 'secondunknown', () => 'valid'],
  ['plain', 'secondexpired', (v) => upTo4(v, 'invalid', 'valid')],
  ['plain', 'otheralg', () => 'valid'],
  ['plain', 'onlyotheralg', () => 'invalid'],
  // Invites from a third-party invite need not be signed by the sender.
  ['3pid', 'drop-sender', () => 'valid'],
  ['invite', 'drop-sender', () => 'invalid'],
  // From v8 the authorising server of a restricted join must sign.
  ['restricted', 'none', () => 'valid'],
  ['restricted', 'drop-authoriser', (v) => (Number(v) >= 8 ? 'invalid' : 'valid')],
  // A member event without membership fails Synapse's checks (KeyError).
  ['no-membership', 'none', () => 'invalid'],
];

describe('Synapse oracle: verify_event', () => {
  it('gives the expected answer in each scenario, and we agree', async () => {
    const lines: string[] = [];
    const expected: Expected[] = [];
    for (const v of VERSIONS) {
      const scenarios: [Flavour, Mutation, (v: Version) => Expected][] = [...SCENARIOS];
      // v1–v2: the server of the event ID must sign too.
      if (opaqueIds(v)) {
        scenarios.push(
          ['other-id-server', 'none', () => 'valid'],
          ['other-id-server', 'drop-idserver', () => 'invalid'],
        );
      }
      for (const [flavour, how, answer] of scenarios) {
        const line = verifyRequest(v, scenarioEvent(v, flavour), how, 0);
        if (line === undefined) throw new Error(`could not sign the ${flavour} event of v${v}`);
        lines.push(line);
        expected.push(answer(v));
      }
    }
    const { diffs, theirs } = await compare(lines);
    const wrong = theirs
      .map((a, i) => ({ a, i }))
      .filter(({ a, i }) => a.result !== expected[i])
      .map(({ a, i }) => `expected ${expected[i]}, Synapse said ${encodeLegacy(a)} to ${cut(lines[i] as string, 400)}`);
    expect(wrong.slice(0, 5), `${wrong.length} scenarios where Synapse's answer is not the expected one`).toEqual([]);
    expect(diffs.length, report('verify_event scenarios', lines, diffs)).toBe(0);
  });

  it('agrees on signatures and hashes of signed and tampered events', async () => {
    const lines: string[] = [];
    for (const v of VERSIONS) {
      const cases = sample(
        fc.tuple(verifyEventArb(v), fc.constantFrom(...MUTATIONS), fc.nat()),
        PER_VERSION,
        8000 + Number(v),
      );
      for (const [{ event }, how, n] of cases) {
        const line = verifyRequest(v, event, how, n);
        if (line !== undefined) lines.push(line);
      }
    }
    expect(lines.length).toBeGreaterThan(VERSIONS.length * PER_VERSION * 0.9);
    const { theirs } = await expectAgreement('verify_event', lines);
    const results = tally(theirs, 'result');
    for (const r of ['valid', 'redacted', 'invalid']) expect(results.get(r) ?? 0).toBeGreaterThan(50);
  });

  it('agrees on who must sign: 3pid invites, restricted joins, v1–v2 event IDs, key validity', async () => {
    const lines: string[] = [];
    const flavours: Flavour[] = ['3pid', 'invite', 'restricted', 'other-id-server', 'no-membership'];
    const hows: Mutation[] = [
      'none',
      'drop-sender',
      'drop-idserver',
      'drop-authoriser',
      'expired',
      'expiredexact',
      'secondexpired',
    ];
    for (const v of VERSIONS) {
      const events = sample(verifyEventArb(v), 40, 9000 + Number(v));
      for (const f of flavours) {
        const e = events.find((x) => x.flavour === f);
        if (e === undefined) continue;
        for (const how of hows) {
          const line = verifyRequest(v, e.event, how, 7);
          if (line !== undefined) lines.push(line);
        }
      }
    }
    await expectAgreement('verify_event, who signs', lines);
  });

  it('agrees on verify_event of events with a broken format and on bad keys', async () => {
    const lines: string[] = [];
    const keys = encodeLegacy({ 'a.example': { [KEY_ID]: PUBLIC_KEYS['a.example'] as string } });
    for (const v of VERSIONS) {
      for (const [e, deform] of sample(fc.tuple(verifyEventArb(v), deformArb(v)), 20, 9500 + Number(v))) {
        const signed = ourSignEvent(v, text(e.event), 'a.example');
        if (signed === undefined) continue;
        const broken = deform(parseLegacyObj(encodeLegacy(signed)));
        lines.push(
          request('verify_event', [
            ['room_version', q(v)],
            ['event', text(broken)],
            ['keys', keys],
          ]),
        );
      }
    }
    const ev = '{"type":"m.room.message","content":{},"sender":"@u:a.example"}';
    for (const k of [
      '{"a.example":{"ed25519:k1":"AAAA"}}',
      '{"a.example":{"ed25519:k1":1}}',
      '{"a.example":{"ed25519:k1":{"valid_until_ts":1}}}',
      '{"a.example":{"ed25519:k1":{"key":"AAAA","valid_until_ts":"x"}}}',
      '{"a.example":"x"}',
      '[]',
    ]) {
      lines.push(
        request('verify_event', [
          ['room_version', q('10')],
          ['event', ev],
          ['keys', k],
        ]),
      );
    }
    lines.push(
      request('verify_event', [
        ['room_version', q('10')],
        ['event', ev],
      ]),
    );
    lines.push(
      request('verify_event', [
        ['room_version', q('10')],
        ['keys', '{}'],
      ]),
    );
    await expectAgreement('verify_event, broken', lines);
  });
});

/** Parses legacy JSON text into an Obj (numbers as raw text again). */
function parseLegacyObj(s: string): Obj {
  const toVal = (v: JsonValue): Val => {
    if (typeof v === 'bigint') return new Raw(v.toString());
    if (typeof v === 'object' && v !== null && !Array.isArray(v) && !isJsonObject(v)) {
      return new Raw(encodeLegacy(v)); // JsonFloat
    }
    if (Array.isArray(v)) return v.map(toVal);
    if (isJsonObject(v)) return objOf(Object.keys(v).map((k) => [k, toVal(v[k] as JsonValue)] as const));
    return v as Val;
  };
  return toVal(parseLegacy(s)) as Obj;
}
