import { describe, expect, it } from 'vitest';
import { encodeCanonicalJsonBytes, JsonFloat, type JsonObject, type JsonValue } from '../../src/canonicaljson/index.js';
import { checkFormatFor } from '../../src/events/format.js';
import {
  assertEventNesting,
  checkEventSchema,
  checkPduFormat,
  MAX_EVENT_DEPTH,
  MAX_PDU_BYTES,
  parsePdu,
} from '../../src/events/index.js';
import { receivedEncoding } from '../../src/events/received.js';
import { eventId } from '../../src/hashing/index.js';
import { getRoomVersion, SPEC_ROOM_VERSIONS } from '../../src/roomversions/index.js';
import { errcode } from '../helpers.js';

const rv = getRoomVersion;

/** A well-formed event for the version (v1–v2 with their event reference pairs). */
function good(id: string, extra: JsonObject = {}): JsonObject {
  const opaque = rv(id).eventFormat.eventIdFormat === 'opaque';
  const ref = (n: string) => (opaque ? [`$${n}:x`, { sha256: 'h' }] : `$${n}`);
  const v12 = rv(id).eventFormat.roomIdIsCreateEventHash;
  return {
    type: 'm.room.message',
    room_id: v12 ? '!AAAA' : '!r:x',
    sender: '@u:x',
    content: { body: 'hi' },
    depth: 3,
    prev_events: [ref('p')],
    auth_events: [ref('a')],
    origin_server_ts: 1_700_000_000_000,
    hashes: { sha256: 'h' },
    signatures: { x: { 'ed25519:1': 's' } },
    ...(opaque ? { event_id: '$e:x' } : {}),
    ...extra,
  };
}

function invalid(event: JsonObject, id: string, reason: RegExp): void {
  const r = checkPduFormat(event, rv(id));
  expect(r.valid, `expected ${reason} to refuse ${Object.keys(event).join(',')}`).toBe(false);
  if (!r.valid) expect(r.reason).toMatch(reason);
}

describe('checkPduFormat', () => {
  it.each(SPEC_ROOM_VERSIONS)('accepts a well-formed event in v%s', (id) => {
    const event = good(id);
    const format = checkPduFormat(event, rv(id));
    expect(format).toEqual({ valid: true, pdu: event });
    // The event itself, typed as a checked PDU: not a copy.
    if (format.valid) expect(format.pdu).toBe(event);
  });

  it.each(SPEC_ROOM_VERSIONS)('refuses missing or ill-typed keys in v%s', (id) => {
    for (const key of [
      'type',
      'depth',
      'content',
      'hashes',
      'origin_server_ts',
      'sender',
      'prev_events',
      'auth_events',
    ]) {
      const e = good(id);
      delete e[key];
      invalid(e, id, new RegExp(key));
    }
    invalid(good(id, { content: [] }), id, /content/);
    invalid(good(id, { hashes: { sha256: 1 } }), id, /hashes/);
    invalid(good(id, { state_key: null }), id, /state_key/);
    invalid(good(id, { signatures: { x: 'y' } }), id, /signatures/);
    invalid(good(id, { unsigned: 'x' }), id, /unsigned/);
    invalid(good(id, { origin_server_ts: new JsonFloat(1) }), id, /origin_server_ts|float/i);
    invalid(good(id, { sender: 5 }), id, /sender/);
  });

  it('checks depth: an integer in [0, 2^53-1]', () => {
    expect(checkPduFormat(good('10', { depth: 0 }), rv('10')).valid).toBe(true);
    expect(checkPduFormat(good('10', { depth: 2 ** 53 - 1 }), rv('10')).valid).toBe(true);
    invalid(good('10', { depth: -1 }), '10', /negative/);
    invalid(good('5', { depth: 2n ** 53n }), '5', /2\^53/);
    invalid(good('10', { depth: '3' }), '10', /depth/);
    invalid(good('10', { depth: true }), '10', /depth/);
    invalid(good('5', { depth: new JsonFloat(3) }), '5', /depth/);
  });

  it('refuses floats and large integers anywhere from v6, accepts them before', () => {
    const content = { body: 'x', n: new JsonFloat(1.5), big: 2n ** 60n };
    expect(checkPduFormat(good('5', { content }), rv('5')).valid).toBe(true);
    invalid(good('6', { content }), '6', /float|integer|range/i);
    // Synapse keeps only some of `unsigned` and validates what it keeps.
    expect(
      checkPduFormat(good('12', { unsigned: { age: new JsonFloat(1), other: new JsonFloat(2) } }), rv('12')).valid,
    ).toBe(true);
    const member = { type: 'm.room.member', state_key: '@u:x', content: { membership: 'join' } };
    invalid(good('12', { ...member, unsigned: { invite_room_state: [new JsonFloat(1)] } }), '12', /float/i);
    invalid(good('12', { ...member, unsigned: { invite_room_state: 'x' } }), '12', /invite_room_state/);
  });

  it('refuses unpaired surrogates in any version', () => {
    invalid(good('3', { content: { body: '\ud800' } }), '3', /surrogate/);
  });

  it('carries event IDs in v1–v2 and refuses them from v3', () => {
    const e = good('1');
    delete e.event_id;
    invalid(e, '1', /event_id/);
    invalid(good('3', { event_id: '$x' }), '3', /event_id/);
    invalid(good('12', { event_id: '$x' }), '12', /event_id/);
  });

  it('checks the shape of prev_events and auth_events per version', () => {
    invalid(good('1', { prev_events: ['$p:x'] }), '1', /pairs/);
    invalid(good('2', { prev_events: [['$p:x', { sha256: 'h' }, 3]] }), '2', /pairs/);
    invalid(good('2', { auth_events: [['$p:x', { sha256: 1 }]] }), '2', /hashes/);
    invalid(good('4', { prev_events: [['$p', {}]] }), '4', /strings/);
  });

  it('limits prev_events to 20 and auth_events to 10 (9 explicit in v12, where the create event is implicit)', () => {
    const refs = (n: number) => Array.from({ length: n }, (_, i) => `$${i}`);
    expect(checkPduFormat(good('10', { prev_events: refs(20), auth_events: refs(10) }), rv('10')).valid).toBe(true);
    invalid(good('10', { prev_events: refs(21) }), '10', /prev_events/);
    invalid(good('10', { auth_events: refs(11) }), '10', /auth_events/);
    expect(checkPduFormat(good('12', { auth_events: refs(9) }), rv('12')).valid).toBe(true);
    invalid(good('12', { auth_events: refs(10) }), '12', /auth_events/);
  });

  it('applies v12 rules: create events have no room_id, others a ! room ID, the create event never in auth_events', () => {
    const create = good('12', { type: 'm.room.create', state_key: '', prev_events: [], auth_events: [] });
    delete create.room_id;
    expect(checkPduFormat(create, rv('12')).valid).toBe(true);
    invalid({ ...create, room_id: '!AAAA' }, '12', /room_id/);
    invalid(good('12', { room_id: 'AAAA' }), '12', /room_id/);
    invalid(good('12', { auth_events: ['$AAAA'] }), '12', /create event/);
    const noRoom = good('11');
    delete noRoom.room_id;
    invalid(noRoom, '11', /room_id/);
  });

  it('limits identifiers to 255 characters and 255 UTF-8 bytes', () => {
    // Senders need a server part that signed; the rest of the length is the localpart.
    const sender = (body: string) => `@${body}:x`;
    const cases: [string, (body: string) => string][] = [
      ['sender', sender],
      ['type', (b) => b],
      ['state_key', (b) => b],
    ];
    for (const [key, make] of cases) {
      const pad = 255 - make('').length;
      expect(checkPduFormat(good('10', { [key]: make('a'.repeat(pad)) }), rv('10')).valid).toBe(true);
      invalid(good('10', { [key]: make('a'.repeat(pad + 1)) }), '10', new RegExp(`${key}.*characters`));
      // Two-byte characters: within 255 characters but over 255 bytes.
      invalid(good('10', { [key]: make('é'.repeat(Math.ceil((pad + 1) / 2))) }), '10', new RegExp(`${key}.*bytes`));
      // Astral characters: 2 UTF-16 units and 4 bytes each, 1 code point.
      invalid(good('11', { [key]: make('😀'.repeat(Math.ceil((pad + 1) / 4))) }), '11', new RegExp(`${key}.*bytes`));
    }
    invalid(good('1', { event_id: `$${'a'.repeat(253)}:x` }), '1', /event_id/);
  });

  it('requires an entry in signatures for every server that must sign (as Synapse), and server parts in IDs', () => {
    invalid(good('10', { signatures: {} }), '10', /not signed by x/);
    expect(checkPduFormat(good('10', { signatures: { x: {} } }), rv('10')).valid).toBe(true);
    invalid(good('10', { sender: '@u' }), '10', /sender/);
    invalid(good('1', { event_id: '$e:y' }), '1', /not signed by y/);
    const restricted = {
      type: 'm.room.member',
      state_key: '@u:x',
      content: { membership: 'join', join_authorised_via_users_server: '@a:z' },
    };
    invalid(good('8', restricted), '8', /not signed by z/);
    expect(checkPduFormat(good('7', restricted), rv('7')).valid).toBe(true);
    const thirdParty = {
      type: 'm.room.member',
      state_key: '@v:y',
      content: { membership: 'invite', third_party_invite: {} },
    };
    expect(checkPduFormat(good('10', { ...thirdParty, signatures: {} }), rv('10')).valid).toBe(true);
    invalid(good('10', { type: 'm.room.member', state_key: '@u:x', content: {} }), '10', /membership/);
  });

  it('limits the event to 65,536 bytes of Canonical JSON, signatures and unsigned included', () => {
    const base = good('10', { content: { body: '' } });
    const size = (e: JsonObject) => encodeCanonicalJsonBytes({ ...e, unsigned: {} }).length;
    const pad = MAX_PDU_BYTES - size(base);
    const exact = good('10', { content: { body: 'x'.repeat(pad) } });
    expect(size(exact)).toBe(MAX_PDU_BYTES);
    // No unsigned on the wire, but Synapse always writes "unsigned":{}: it counts.
    expect(exact.unsigned).toBeUndefined();
    expect(checkPduFormat(exact, rv('10')).valid).toBe(true);
    invalid(good('10', { content: { body: 'x'.repeat(pad + 1) } }), '10', /65536/);
    // unsigned.age only counts when the receive time is known (age_ts = received - age).
    const aged = good('10', { content: { body: 'x'.repeat(pad - 20) }, unsigned: { age: 5 } });
    expect(checkPduFormat(aged, rv('10')).valid).toBe(true);
    expect(checkPduFormat(aged, rv('10'), { receivedTs: 1_700_000_000_005 }).valid).toBe(false);
  });

  it('limits nesting to 127 levels, the event object the first, as Synapse builds events (issue 14)', () => {
    expect(MAX_EVENT_DEPTH).toBe(127);
    // Arrays and objects alternating, `containers` deep.
    const nested = (containers: number): JsonValue => {
      let v: JsonValue = 'x';
      for (let i = 0; i < containers; i++) v = i % 2 === 0 ? [v] : { k: v };
      return v;
    };
    // Each with the event nesting `levels` deep: in the content, in a key
    // of its own, in the room state a member event carries in unsigned.
    const placements: Record<string, (levels: number) => JsonObject> = {
      content: (levels) => good('10', { content: { body: 'hi', deep: nested(levels - 2) } }),
      'top-level key': (levels) => good('10', { deep: nested(levels - 1) }),
      'unsigned.invite_room_state': (levels) =>
        good('10', {
          type: 'm.room.member',
          state_key: '@u:x',
          content: { membership: 'join' },
          unsigned: { invite_room_state: [nested(levels - 3)] },
        }),
    };
    for (const [where, event] of Object.entries(placements)) {
      expect(checkPduFormat(event(127), rv('10')).valid, where).toBe(true);
      invalid(event(128), '10', /nests deeper than 127 levels/);
      // Received as its Canonical JSON (deep parts are recorded and
      // measured by their recorded height, not walked).
      for (const levels of [127, 128]) {
        const pdu = parsePdu(encodeCanonicalJsonBytes(event(levels)), rv('10'));
        const format = checkFormatFor(pdu.event, pdu.rules, receivedEncoding(pdu), {});
        expect(typeof format !== 'string', `${where} ${levels}`).toBe(levels === 127);
      }
      // The schema (what Synapse's event parser needs) and what depends on it.
      expect(checkEventSchema(event(127), rv('10')).valid).toBe(true);
      expect(checkEventSchema(event(128), rv('10')).valid).toBe(false);
      expect(errcode(() => eventId(event(128), rv('10')))).toBe('M_BAD_JSON');
      expect(() => assertEventNesting(event(127))).not.toThrow();
      expect(errcode(() => assertEventNesting(event(128)))).toBe('M_BAD_JSON');
    }
    // Synapse keeps only the invite and knock room state of unsigned (of
    // member events), and builds the received event from what it kept.
    const junk = good('10', { unsigned: { junk: nested(200) } });
    expect(checkPduFormat(junk, rv('10')).valid).toBe(true);
    expect(errcode(() => assertEventNesting(junk))).toBe('M_BAD_JSON');
    // Nesting far past the parser's own limit, given as a value: refused
    // without a stack overflow.
    invalid(good('10', { content: { deep: nested(100_000) } }), '10', /nests deeper/);
  });

  it('refuses a body far too large before any work per member (issue 14)', () => {
    // 40,000 members, each counted by the reads of its value: the bound
    // (at least 5 bytes a member) passes 65,536 bytes within 13,108 of
    // them, where encoding the event would read every one.
    const members = 40_000;
    const event = good('10');
    for (let i = 0; i < members; i++) event[`k${i}`] = 0;
    let reads = 0;
    const counted = new Proxy(event, {
      get(target, key, receiver) {
        if (typeof key === 'string' && key.startsWith('k')) reads++;
        return Reflect.get(target, key, receiver);
      },
    });
    invalid(counted, '10', /65536/);
    expect(reads).toBeLessThan(65_536 / 5);
  });

  it('never throws, whatever the event', () => {
    for (const e of [
      {},
      { type: 1, depth: {} },
      { type: 'x', depth: 1, unsigned: [] },
      { type: 'x', depth: 1, content: { a: undefined } },
    ]) {
      for (const id of SPEC_ROOM_VERSIONS) expect(checkPduFormat(e as JsonObject, rv(id)).valid).toBe(false);
    }
  });
});

describe('checkPduFormat with identifiers: spec', () => {
  const spec = { identifiers: 'spec' } as const;
  const id43 = (c: string) => `$${c.repeat(43)}`;
  const v10 = (extra: JsonObject = {}) => good('10', { prev_events: [id43('P')], auth_events: [id43('A')], ...extra });
  it('accepts events whose identifiers follow the grammars', () => {
    expect(checkPduFormat(v10(), rv('10'), spec).valid).toBe(true);
    const v1 = good('1', { prev_events: [['$p:x', { sha256: 'h' }]], auth_events: [] });
    expect(checkPduFormat(v1, rv('1'), spec).valid).toBe(true);
  });
  it.each([
    ['sender', { sender: '@u:x y', signatures: { 'x y': { k: 's' } } }, /sender/],
    ['room_id', { room_id: 'r:x' }, /room_id/],
    ['prev_events', { prev_events: ['$short'] }, /prev_events/],
    ['auth_events', { auth_events: [`$${'A'.repeat(42)}+`] }, /auth_events/],
    ['member state_key', { type: 'm.room.member', state_key: 'nobody', content: { membership: 'join' } }, /state_key/],
    ['redacts', { type: 'm.room.redaction', redacts: 'x' }, /redacts/],
  ] as [string, JsonObject, RegExp][])('refuses a bad %s, which Synapse would accept', (_what, extra, reason) => {
    expect(checkPduFormat(v10(extra), rv('10')).valid).toBe(true);
    const r = checkPduFormat(v10(extra), rv('10'), spec);
    expect(r.valid).toBe(false);
    if (!r.valid) expect(r.reason).toMatch(reason);
  });
});
