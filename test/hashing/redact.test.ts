import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../../src/canonicaljson/index.js';
import { contentHash, eventId, redactEvent, referenceHash, roomIdOfCreateEvent } from '../../src/hashing/index.js';
import { getRoomVersion, InvalidInputError, SPEC_ROOM_VERSIONS } from '../../src/roomversions/index.js';

const rv = getRoomVersion;

/** An event with every top-level key any version might keep, plus junk. */
function event(type: string, content: JsonObject, extra: JsonObject = {}): JsonObject {
  return {
    event_id: '$e:x',
    type,
    room_id: '!r:x',
    sender: '@u:x',
    state_key: '',
    content,
    hashes: { sha256: 'h' },
    signatures: { x: { 'ed25519:1': 's' } },
    depth: 5,
    prev_events: [],
    auth_events: [],
    origin: 'x',
    origin_server_ts: 1,
    membership: 'join',
    prev_state: [],
    unsigned: { age_ts: 1 },
    junk: 1,
    age_ts: 2,
    ...extra,
  };
}

const TOP_V1_V10 = [
  'auth_events',
  'content',
  'depth',
  'event_id',
  'hashes',
  'membership',
  'origin',
  'origin_server_ts',
  'prev_events',
  'prev_state',
  'room_id',
  'sender',
  'signatures',
  'state_key',
  'type',
];
const TOP_V11 = TOP_V1_V10.filter((k) => !['membership', 'origin', 'prev_state'].includes(k));

describe('redactEvent: top-level keys (spec v1 and v11 redaction lists)', () => {
  it.each(SPEC_ROOM_VERSIONS)('v%s', (id) => {
    const keys = Object.keys(redactEvent(event('m.room.message', { body: 'x' }), rv(id))).sort();
    expect(keys).toEqual(Number(id) >= 11 ? TOP_V11 : TOP_V1_V10);
  });
});

describe('redactEvent: content keys by event type and version', () => {
  const content: Record<string, JsonObject> = {
    'm.room.member': {
      membership: 'join',
      displayname: 'x',
      join_authorised_via_users_server: '@a:b',
      third_party_invite: { signed: { mxid: '@u:x', token: 't', signatures: {} }, display_name: 'd' },
    },
    'm.room.create': { creator: '@u:x', room_version: '1', 'm.federate': false },
    'm.room.join_rules': { join_rule: 'restricted', allow: [{ type: 'm.room_membership' }], other: 1 },
    'm.room.power_levels': {
      ban: 50,
      events: {},
      events_default: 0,
      invite: 0,
      kick: 50,
      notifications: { room: 50 },
      redact: 50,
      state_default: 50,
      users: {},
      users_default: 0,
      other: 1,
    },
    'm.room.aliases': { aliases: ['#a:x'], other: 1 },
    'm.room.history_visibility': { history_visibility: 'shared', other: 1 },
    'm.room.redaction': { redacts: '$x', reason: 'r' },
    'm.room.message': { body: 'x', msgtype: 'm.text' },
    'm.room.name': { name: 'x' },
  };
  // Expected content keys per type: [v1–v5, v6–v7, v8, v9–v10, v11–v12], from the spec.
  const expected: Record<string, string[][]> = {
    'm.room.member': [
      ['membership'],
      ['membership'],
      ['membership'],
      ['join_authorised_via_users_server', 'membership'],
      ['join_authorised_via_users_server', 'membership', 'third_party_invite'],
    ],
    'm.room.create': [['creator'], ['creator'], ['creator'], ['creator'], ['creator', 'm.federate', 'room_version']],
    'm.room.join_rules': [
      ['join_rule'],
      ['join_rule'],
      ['allow', 'join_rule'],
      ['allow', 'join_rule'],
      ['allow', 'join_rule'],
    ],
    'm.room.power_levels': [
      ...Array(4).fill([
        'ban',
        'events',
        'events_default',
        'kick',
        'redact',
        'state_default',
        'users',
        'users_default',
      ]),
      ['ban', 'events', 'events_default', 'invite', 'kick', 'redact', 'state_default', 'users', 'users_default'],
    ],
    'm.room.aliases': [['aliases'], [], [], [], []],
    'm.room.history_visibility': Array(5).fill(['history_visibility']),
    'm.room.redaction': [[], [], [], [], ['redacts']],
    'm.room.message': Array(5).fill([]),
    'm.room.name': Array(5).fill([]),
  };
  const era = (id: string) => {
    const n = Number(id);
    return n <= 5 ? 0 : n <= 7 ? 1 : n === 8 ? 2 : n <= 10 ? 3 : 4;
  };
  for (const [type, c] of Object.entries(content)) {
    it.each(SPEC_ROOM_VERSIONS)(`${type} in v%s`, (id) => {
      const redacted = redactEvent(event(type, c), rv(id)).content as JsonObject;
      expect(Object.keys(redacted).sort()).toEqual(expected[type]?.[era(id)]);
    });
  }

  it('keeps only `signed` of third_party_invite in v11+, {} when it lacks one, nothing when not an object (as Synapse)', () => {
    const c = content['m.room.member'] as JsonObject;
    expect((redactEvent(event('m.room.member', c), rv('11')).content as JsonObject).third_party_invite).toEqual({
      signed: { mxid: '@u:x', token: 't', signatures: {} },
    });
    for (const tpi of ['x', [1], null]) {
      const r = redactEvent(event('m.room.member', { membership: 'invite', third_party_invite: tpi }), rv('11'));
      expect(r.content).toEqual({ membership: 'invite' });
    }
    const noSigned = redactEvent(
      event('m.room.member', { membership: 'invite', third_party_invite: { a: 1 } }),
      rv('11'),
    );
    expect(noSigned.content).toEqual({ membership: 'invite', third_party_invite: {} });
    const nullSigned = { membership: 'invite', third_party_invite: { signed: null } };
    expect(redactEvent(event('m.room.member', nullSigned), rv('12')).content).toEqual(nullSigned);
  });

  it('refuses an event without content or string type (as Synapse does)', () => {
    const e = event('m.room.member', {});
    delete e.content;
    expect(() => redactEvent(e, rv('10'))).toThrow(InvalidInputError);
    expect(() => redactEvent({ ...event('x', {}), type: 5 }, rv('10'))).toThrow(InvalidInputError);
    // As documented: M_BAD_JSON, saying what is missing.
    expect(() => redactEvent(e, rv('10'))).toThrow(expect.objectContaining({ errcode: 'M_BAD_JSON' }));
    expect(() => redactEvent(e, rv('10'))).toThrow(/content/);
    expect(() => redactEvent({ ...event('x', {}), type: 5 }, rv('10'))).toThrow(
      expect.objectContaining({ errcode: 'M_BAD_JSON', message: expect.stringMatching(/type/) }),
    );
  });

  it('keeps third_party_invite.signed for member events only (v11 on; Synapse drops it from a message)', () => {
    const content = { body: 'x', third_party_invite: { signed: { mxid: '@u:x' } } };
    expect(redactEvent(event('m.room.message', content), rv('11')).content).toEqual({});
  });

  it('gives empty content when content is not an object, and never modifies its input', () => {
    for (const c of ['x', [1], null]) {
      const e = event('m.room.member', {});
      e.content = c;
      const before = structuredClone(e);
      expect(redactEvent(e, rv('10')).content).toEqual({});
      expect(e).toEqual(before);
    }
  });

  it('is idempotent', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...Object.keys(content)),
        fc.constantFrom(...SPEC_ROOM_VERSIONS),
        fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 })),
        (type, id, extra) => {
          const once = redactEvent(
            event(type, { ...content[type], ...(extra as JsonObject) }, extra as JsonObject),
            rv(id),
          );
          expect(redactEvent(once, rv(id))).toEqual(once);
        },
      ),
    );
  });
});

describe('redactEvent: v12 create events', () => {
  it('drops a room_id a v12 create event should not have, and keeps it for other events and versions', () => {
    const create = { type: 'm.room.create', state_key: '', room_id: '!x', content: {}, sender: '@u:x' };
    expect(redactEvent(create, rv('12')).room_id).toBeUndefined();
    expect(redactEvent(create, rv('11')).room_id).toBe('!x');
    expect(redactEvent({ ...create, type: 'm.room.member' }, rv('12')).room_id).toBe('!x');
  });

  it('drops the room_id of every v12 m.room.create event, whatever its state key, as Synapse does', () => {
    // Synapse's redact_event_dict (asked through the oracle) drops room_id
    // from a v12 m.room.create event with the state key "x" or none, so
    // that event's ID is the hash without it; v11 keeps it.
    const create = {
      type: 'm.room.create',
      room_id: '!r',
      sender: '@u:x',
      content: { room_version: '12' },
      auth_events: [],
      prev_events: [],
      depth: 1,
      origin_server_ts: 1,
      hashes: { sha256: 'aGFzaA' },
      signatures: {},
    };
    expect(redactEvent(create, rv('12')).room_id).toBeUndefined();
    expect(redactEvent({ ...create, state_key: 'x' }, rv('12')).room_id).toBeUndefined();
    expect(redactEvent({ ...create, state_key: 'x' }, rv('11')).room_id).toBe('!r');
    // Synapse's event ID for it (the oracle's event_id op).
    expect(eventId({ ...create, state_key: 'x' }, rv('12'))).toBe('$ysLcuotNUI1cCPer60AM_X60OPsHTM5R-rrdLezd2Q8');
  });
});

describe('hashes and IDs', () => {
  const ev: JsonObject = {
    type: 'm.room.message',
    room_id: '!r:x',
    sender: '@u:x',
    content: { body: 'hi' },
    depth: 1,
    prev_events: [],
    auth_events: [],
    origin_server_ts: 5,
    hashes: { sha256: 'x' },
    unsigned: { age: 1 },
  };

  it("the content hash ignores unsigned, signatures, hashes (and Synapse's age_ts, outlier, destinations) only", () => {
    const base = contentHash(ev, rv('10'));
    for (const k of ['unsigned', 'signatures', 'hashes', 'age_ts', 'outlier', 'destinations']) {
      expect(contentHash({ ...ev, [k]: { changed: true } }, rv('10'))).toEqual(base);
    }
    expect(contentHash({ ...ev, content: { body: 'ho' } }, rv('10'))).not.toEqual(base);
    expect(contentHash({ ...ev, other: 1 }, rv('10'))).not.toEqual(base);
  });

  it('the reference hash covers only what redaction keeps', () => {
    const base = referenceHash(ev, rv('10'));
    expect(referenceHash({ ...ev, content: { body: 'changed' } }, rv('10'))).toEqual(base);
    expect(referenceHash({ ...ev, signatures: { a: {} }, unsigned: { b: 1 } }, rv('10'))).toEqual(base);
    expect(referenceHash({ ...ev, depth: 2 }, rv('10'))).not.toEqual(base);
  });

  it('event IDs: opaque in v1–v2, standard Base64 in v3, URL-safe from v4', () => {
    expect(eventId({ ...ev, event_id: '$abc:x' }, rv('1'))).toBe('$abc:x');
    expect(() => eventId(ev, rv('2'))).toThrow(InvalidInputError);
    // Find an event whose hash has + or / so the two alphabets differ.
    for (let d = 1; ; d++) {
      const v3 = eventId({ ...ev, depth: d }, rv('3'));
      if (/[+/]/.test(v3)) {
        const v4 = eventId({ ...ev, depth: d }, rv('4'));
        expect(v4).toBe(v3.replaceAll('+', '-').replaceAll('/', '_'));
        expect(v3).toMatch(/^\$[A-Za-z0-9+/]{43}$/);
        expect(v4).toMatch(/^\$[A-Za-z0-9_-]{43}$/);
        expect(eventId({ ...ev, depth: d }, rv('12'))).toBe(v4);
        break;
      }
    }
  });

  it("v12 room IDs are ! + the create event's reference hash, URL-safe", () => {
    const create: JsonObject = {
      type: 'm.room.create',
      state_key: '',
      sender: '@u:x',
      content: { room_version: '12' },
      depth: 1,
      prev_events: [],
      auth_events: [],
      origin_server_ts: 1,
      hashes: { sha256: 'x' },
    };
    const id = roomIdOfCreateEvent(create, rv('12'));
    expect(id).toBe(`!${eventId(create, rv('12')).slice(1)}`);
    expect(() => roomIdOfCreateEvent({ ...create, room_id: id }, rv('12'))).toThrow(InvalidInputError);
    expect(roomIdOfCreateEvent({ ...create, room_id: '!r:x' }, rv('11'))).toBe('!r:x');
    expect(() => roomIdOfCreateEvent(create, rv('11'))).toThrow(InvalidInputError);
    expect(() => roomIdOfCreateEvent({ ...create, type: 'm.room.member' }, rv('12'))).toThrow(InvalidInputError);
  });
});
