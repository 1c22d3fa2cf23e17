import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../../src/canonicaljson/index.js';
import {
  buildEvent,
  checkEventSignatures,
  checkMembershipTemplate,
  checkPduFormat,
  type MembershipRequest,
  signMembershipTemplate,
} from '../../src/events/index.js';
import { eventId, InvalidInputError, roomIdOfCreateEvent } from '../../src/hashing/index.js';
import { getRoomVersion, SPEC_ROOM_VERSIONS } from '../../src/roomversions/index.js';
import { SigningKey } from '../../src/signing/index.js';

const key = new SigningKey(new Uint8Array(32).fill(3));
const options = { serverName: 'ours.example', keyId: 'ed25519:a', key, now: () => 1_700_000_000_000 };
const lookup = () => ({ key: key.verifyKey, validUntilTs: Number.POSITIVE_INFINITY });

function proto(id: string): JsonObject {
  const opaque = getRoomVersion(id).eventFormat.eventIdFormat === 'opaque';
  return {
    type: 'm.room.message',
    room_id: getRoomVersion(id).eventFormat.roomIdIsCreateEventHash ? `!${'R'.repeat(43)}` : '!r:ours.example',
    sender: '@u:ours.example',
    content: { body: 'hi' },
    depth: 2,
    prev_events: opaque ? [['$p:ours.example', { sha256: 'x' }]] : [`$${'P'.repeat(43)}`],
    auth_events: [],
    hashes: { sha256: 'forged' },
    signatures: { evil: { 'ed25519:x': 'y' } },
  };
}

describe('buildEvent', () => {
  it.each(SPEC_ROOM_VERSIONS)('builds a valid, verifiable PDU in v%s', (id) => {
    const rules = getRoomVersion(id);
    const { event, eventId: built } = buildEvent(proto(id), rules, options);
    expect(checkPduFormat(event, rules)).toEqual({ valid: true, pdu: event });
    expect(checkEventSignatures(event, rules, lookup)).toEqual({ result: 'valid' });
    expect(built).toBe(eventId(event, rules));
    expect(event.origin_server_ts).toBe(1_700_000_000_000);
    expect(Object.keys(event.signatures as JsonObject)).toEqual(['ours.example']);
    if (rules.eventFormat.eventIdFormat === 'opaque') expect(built).toMatch(/^\$[A-Za-z0-9_-]{24}:ours\.example$/);
  });

  it('builds a v12 create event without a room ID, whose hash is the room ID', () => {
    const rules = getRoomVersion('12');
    const { event } = buildEvent(
      {
        type: 'm.room.create',
        state_key: '',
        sender: '@u:ours.example',
        content: { room_version: '12' },
        depth: 1,
        prev_events: [],
        auth_events: [],
      },
      rules,
      options,
    );
    expect(event.room_id).toBeUndefined();
    expect(roomIdOfCreateEvent(event, rules)).toMatch(/^![A-Za-z0-9_-]{43}$/);
  });

  it('refuses to build what would not be a valid PDU', () => {
    expect(() => buildEvent({ ...proto('10'), depth: -1 }, getRoomVersion('10'), options)).toThrow(InvalidInputError);
    expect(() => buildEvent({ ...proto('10'), content: { n: 1.5 } }, getRoomVersion('10'), options)).toThrow(
      InvalidInputError,
    );
  });
});

describe('membership templates from make_join, make_leave and make_knock', () => {
  const request: MembershipRequest = {
    membership: 'join',
    roomId: '!r:remote.example',
    userId: '@u:ours.example',
    supportedVersions: ['10', '11'],
  };
  const template = (extra: JsonObject = {}, content: JsonObject = { membership: 'join' }): JsonObject => ({
    room_version: '10',
    event: {
      type: 'm.room.member',
      room_id: '!r:remote.example',
      sender: '@u:ours.example',
      state_key: '@u:ours.example',
      content,
      depth: 10,
      prev_events: [`$${'P'.repeat(43)}`],
      auth_events: [`$${'A'.repeat(43)}`, `$${'B'.repeat(43)}`],
      origin: 'remote.example',
      origin_server_ts: 5,
      ...extra,
    },
  });

  it('accepts and signs what we asked for, replacing what we compute', () => {
    const signed = signMembershipTemplate(
      template({ hashes: { sha256: 'x' }, signatures: { r: {} } }),
      request,
      options,
    );
    expect(signed.valid).toBe(true);
    if (signed.valid) {
      expect(signed.event.origin_server_ts).toBe(1_700_000_000_000);
      expect(Object.keys(signed.event.signatures as JsonObject)).toEqual(['ours.example']);
      expect(checkEventSignatures(signed.event, getRoomVersion('10'), lookup)).toEqual({ result: 'valid' });
    }
    const via = { membership: 'join', join_authorised_via_users_server: '@admin:remote.example' };
    expect(checkMembershipTemplate(template({}, via), request).valid).toBe(true);
  });

  const attacks: [string, JsonObject | unknown][] = [
    ['not an object', 'x'],
    ['no room version', { event: template().event as JsonObject }],
    ['a version we did not offer', { ...template(), room_version: '9' }],
    ['an unknown version', { ...template(), room_version: 'evil' }],
    ['no event', { room_version: '10' }],
    ['another event type', template({ type: 'm.room.power_levels' })],
    ['another room', template({ room_id: '!other:remote.example' })],
    ['another sender', template({ sender: '@victim:ours.example' })],
    ['another state key', template({ state_key: '@victim:ours.example' })],
    ['another membership', template({}, { membership: 'ban' })],
    ['extra content', template({}, { membership: 'join', displayname: 'x', 'm.relates_to': {} })],
    ['no content', template({ content: 'join' })],
    ['a non-string authorising user', template({}, { membership: 'join', join_authorised_via_users_server: 5 })],
  ];
  it.each(attacks)('refuses %s', (_what, response) => {
    const check = checkMembershipTemplate(response, request);
    expect(check.valid).toBe(false);
    if (!check.valid) expect(check.reason.length).toBeGreaterThan(0);
    expect(signMembershipTemplate(response, request, options).valid).toBe(false);
  });

  it('refuses a restricted-join authoriser before v8, knocking before v7, and malformed templates', () => {
    const v7 = { ...request, supportedVersions: ['7'] };
    const via = { membership: 'join', join_authorised_via_users_server: '@a:remote.example' };
    expect(checkMembershipTemplate({ ...template({}, via), room_version: '7' }, v7).valid).toBe(false);
    const knock = { ...request, membership: 'knock' as const, supportedVersions: ['6'] };
    expect(checkMembershipTemplate({ ...template({}, { membership: 'knock' }), room_version: '6' }, knock).valid).toBe(
      false,
    );
    expect(signMembershipTemplate(template({ depth: -5 }), request, options).valid).toBe(false);
  });
});

describe('verifyEvent with an async key lookup', () => {
  it('fetches the keys of each required server once, all at once, then checks', async () => {
    const { verifyEvent } = await import('../../src/events/index.js');
    const rules = getRoomVersion('10');
    const { event } = buildEvent(proto('10'), rules, options);
    const asked: [string, readonly string[]][] = [];
    const result = await verifyEvent(event, rules, async (server, keyIds) => {
      asked.push([server, keyIds]);
      return new Map([['ed25519:a', { key: key.verifyKey, validUntilTs: Number.POSITIVE_INFINITY }]]);
    });
    expect(result).toEqual({ result: 'valid' });
    expect(asked).toEqual([['ours.example', ['ed25519:a']]]);
    const failing = await verifyEvent(event, rules, async () => {
      throw new Error('network down');
    });
    expect(failing).toMatchObject({ result: 'invalid', reason: expect.stringMatching(/network down/) });
    const unknown = await verifyEvent(event, rules, () => new Map());
    expect(unknown.result).toBe('invalid');
  });
});
