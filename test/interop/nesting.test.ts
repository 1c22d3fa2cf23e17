/**
 * Differential tests for events nested at Synapse's limit (issue 14): every
 * op that takes an event, in all 12 room versions, with events nesting 127
 * and 128 levels deep (the event object being the first) in the content,
 * in a key of their own, in `unsigned` (which Synapse cuts down before it
 * builds a received event) and in the room state a member event carries
 * there, and in the events of the lists some ops take.
 *
 * Synapse builds every event it holds by parsing its Canonical JSON with
 * its Rust event parser, which refuses 128 levels; the oracle makes every
 * op meet that parser (see `check_nesting` in oracle/oracle.py). Besides
 * agreeing with us, the oracle's answers must show the boundary: Synapse's
 * parser refusing at 128 and not at 127.
 */
import { describe, expect, it } from 'vitest';
import { type JsonObject, type JsonValue, parseJson } from '../../src/canonicaljson/index.js';
import { MAX_EVENT_DEPTH } from '../../src/events/index.js';
import { encodeBase64, SigningKey } from '../../src/signing/index.js';
import { envelope } from './envelope.js';
import { askSynapse, type Difference, ourDifferingAnswer } from './oracle.js';
import { LEGACY } from './rawjson.js';

const VERSIONS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12'] as const;

const SEED = new Uint8Array(32).fill(5);
const PUBLIC_KEY = encodeBase64(new SigningKey(SEED).publicKey);

/** `containers` arrays and objects, alternating, around a string. */
function nested(containers: number): JsonValue {
  let v: JsonValue = 'x';
  for (let i = 0; i < containers; i++) v = i % 2 === 0 ? [v] : { k: v };
  return v;
}

/** Well-formed in every version, signed (as check_pdu_format requires) by the sender's server. */
const event = (v: string, fields: JsonObject): JsonObject =>
  envelope<JsonValue>(v, {
    type: 'm.room.message',
    content: { body: 'hi' },
    signatures: { hs: { 'ed25519:1': 'c2ln' } },
    ...fields,
  }) as JsonObject;

const member = (v: string, fields: JsonObject): JsonObject =>
  event(v, { type: 'm.room.member', state_key: '@admin:hs', content: { membership: 'join' }, ...fields });

/**
 * Events nesting `levels` deep, by where the deepest part is; and whether
 * Synapse builds a received event (check_pdu_format) from that part.
 */
const PLACEMENTS: ReadonlyArray<{
  readonly where: string;
  readonly make: (v: string, levels: number) => JsonObject;
  readonly received: boolean;
}> = [
  { where: 'content', make: (v, l) => event(v, { content: { body: 'hi', deep: nested(l - 2) } }), received: true },
  { where: 'a key of its own', make: (v, l) => event(v, { deep: nested(l - 1) }), received: true },
  { where: 'unsigned', make: (v, l) => event(v, { unsigned: { deep: nested(l - 2) } }), received: false },
  {
    where: 'unsigned.invite_room_state of a member event',
    make: (v, l) => member(v, { unsigned: { invite_room_state: [nested(l - 3)] } }),
    received: true,
  },
];

/** A request line. */
const line = (op: string, v: string, fields: JsonObject): string => JSON.stringify({ op, room_version: v, ...fields });

/** One request per op that takes an event, about `e`. */
function eventLines(v: string, e: JsonObject): string[] {
  const create: JsonObject = { ...e, type: 'm.room.create', state_key: '', content: { ...(e.content as JsonObject) } };
  if (v === '12') delete create.room_id;
  return [
    ...['redact', 'content_hash', 'reference_hash', 'event_id', 'check_pdu_format', 'auth_types'].map((op) =>
      line(op, v, { event: e }),
    ),
    line('room_id', v, { create_event: create }),
    line('sign_event', v, { event: e, server_name: 'hs', key_id: 'ed25519:1', seed: encodeBase64(SEED) }),
    line('verify_event', v, { event: e, keys: { hs: { 'ed25519:1': PUBLIC_KEY } } }),
    // No auth events named, so that none has to be supplied.
    line('check_auth', v, { event: { ...e, auth_events: [] }, auth_events: [] }),
    line('soft_fail', v, { event: e, current_state: [] }),
    line('visible_to_user', v, { event: e, state: [], user_id: '@admin:hs', joined_after: false }),
    line('visible_to_server', v, { event: e, state: [], server_name: 'hs' }),
  ];
}

/** Requests whose lists of events hold `e` (a state event). */
function listLines(v: string, e: JsonObject): string[] {
  const plain = event(v, {});
  return [
    line('check_auth', v, { event: { ...plain, auth_events: [] }, auth_events: [e] }),
    line('soft_fail', v, { event: plain, current_state: [e] }),
    line('visible_to_user', v, { event: plain, state: [e], user_id: '@admin:hs', joined_after: false }),
    line('visible_to_server', v, { event: plain, state: [e], server_name: 'hs' }),
  ];
}

/** Whether an answer is Synapse's Rust event parser refusing the nesting. */
function refusedNesting(answer: string): boolean {
  const a = parseJson(answer, LEGACY) as JsonObject;
  const prose = JSON.stringify([a.reason, (a.error as JsonObject | undefined)?.message]);
  const refused = a.ok === false || a.valid === false || a.result === 'invalid';
  return refused && prose.includes('recursion limit exceeded');
}

describe('Synapse oracle: events nested at the limit of Synapse’s event parser', () => {
  it('agrees on every op that takes an event, and the boundary is 127 levels accepted, 128 refused', async () => {
    expect(MAX_EVENT_DEPTH).toBe(127);
    const lines: string[] = [];
    /** For each line, whether Synapse must refuse its nesting. */
    const refused: boolean[] = [];
    for (const v of VERSIONS) {
      for (const levels of [127, 128]) {
        for (const { make, received } of PLACEMENTS) {
          for (const l of eventLines(v, make(v, levels))) {
            lines.push(l);
            // A received event is built from unsigned as Synapse cuts it down.
            const pdu = l.startsWith('{"op":"check_pdu_format"');
            refused.push(levels === 128 && (received || !pdu));
          }
        }
        const state = member(v, { content: { membership: 'join', deep: nested(levels - 2) } });
        for (const l of listLines(v, state)) {
          lines.push(l);
          refused.push(levels === 128);
        }
      }
    }
    const theirs = await askSynapse(lines);
    const diffs: Difference[] = [];
    lines.forEach((request, i) => {
      const synapse = theirs[i] as string;
      const ours = ourDifferingAnswer(request, synapse, true);
      if (ours !== undefined) diffs.push({ request: request.slice(0, 300), synapse, ours });
    });
    expect(diffs.slice(0, 3), `${diffs.length} of ${lines.length} answered differently`).toEqual([]);
    const wrong = lines.filter((_, i) => refusedNesting(theirs[i] as string) !== refused[i]);
    expect(
      wrong.slice(0, 3).map((l) => l.slice(0, 300)),
      `${wrong.length} misplaced boundaries`,
    ).toEqual([]);
  });
});
