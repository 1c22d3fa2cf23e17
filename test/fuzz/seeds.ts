/**
 * Valid inputs the fuzzing campaign starts from: signed events of every room
 * version, small rooms whose auth events a candidate cites, key responses
 * direct and through a notary, and signed X-Matrix requests. Built with the
 * library's own builders and a fixed key: the campaign asks whether hostile
 * variants of them are handled, not whether these are right (the vector and
 * oracle tests answer that).
 */

import type { JsonObject } from '../../src/canonicaljson/index.js';
import { encodeCanonicalJson } from '../../src/canonicaljson/index.js';
import { buildEvent } from '../../src/events/index.js';
import { signRequest } from '../../src/federation/index.js';
import { notaryQueryResponse, serverKeysResponse } from '../../src/keys/index.js';
import { getRoomVersion, SPEC_ROOM_VERSIONS } from '../../src/roomversions/index.js';
import { SigningKey } from '../../src/signing/index.js';
import { Room } from '../auth/room.js';

/** The server every seed event and request comes from. */
export const ORIGIN = 'origin.example';
/** Its key ID. */
export const KEY_ID = 'ed25519:a';
/** Its signing key (fixed, so runs replay). */
export const KEY = new SigningKey(new Uint8Array(32).fill(7));
/** A notary's name and key. */
export const NOTARY = 'notary.example';
export const NOTARY_KEY = new SigningKey(new Uint8Array(32).fill(8));
/** The time every check runs at. */
export const NOW = 1_700_000_000_000;

const HASH = 'A'.repeat(43);

function protoEvent(version: string, type: string, content: JsonObject, stateKey?: string): JsonObject {
  const rules = getRoomVersion(version);
  const opaque = rules.eventFormat.eventIdFormat === 'opaque';
  const ref = (c: string) => (opaque ? [`$${c}:${ORIGIN}`, { sha256: HASH }] : `$${c.repeat(43)}`);
  const proto: JsonObject = {
    type,
    room_id: rules.eventFormat.roomIdIsCreateEventHash ? `!${'R'.repeat(43)}` : `!r:${ORIGIN}`,
    sender: `@u:${ORIGIN}`,
    content,
    depth: 12,
    prev_events: [ref('P')],
    auth_events: [ref('A'), ref('B'), ref('C')],
    unsigned: { age_ts: NOW },
  };
  if (stateKey !== undefined) proto.state_key = stateKey;
  return proto;
}

/** The wire text of signed seed events of one room version. */
export function eventSeeds(version: string): string[] {
  const rules = getRoomVersion(version);
  const signing = { serverName: ORIGIN, keyId: KEY_ID, key: KEY, now: () => NOW };
  const users: JsonObject = {};
  for (let i = 0; i < 40; i++) users[`@user${i}:${ORIGIN}`] = i * 2;
  const protos = [
    protoEvent(version, 'm.room.message', { body: 'hello 😀 "quoted" \\ back', msgtype: 'm.text' }),
    protoEvent(version, 'm.room.member', { membership: 'join', displayname: 'U', avatar_url: null }, `@u:${ORIGIN}`),
    protoEvent(
      version,
      'm.room.power_levels',
      { users, users_default: 0, events: { 'm.room.name': 50 }, state_default: 50, notifications: { room: 50 } },
      '',
    ),
    protoEvent(version, 'm.room.join_rules', { join_rule: 'restricted', allow: [{ type: 'm.room_membership' }] }, ''),
  ];
  return protos.map((p) => encodeCanonicalJson(buildEvent(p, rules, signing).event));
}

/** A small room of one version, and candidate events against it. */
export function authSeeds(version: string): { room: Room; candidates: string[] } {
  const room = new Room(version, `@alice:${ORIGIN}`);
  const alice = `@alice:${ORIGIN}`;
  const bob = `@bob:${ORIGIN}`;
  room.member(alice, 'join');
  room.add('m.room.power_levels', '', alice, {
    users: { [alice]: 100, [bob]: 50 },
    users_default: 0,
    events: { 'm.room.name': 50 },
    state_default: 50,
    ban: 50,
    kick: 50,
    redact: 50,
    invite: 0,
    notifications: { room: 50 },
  });
  room.add('m.room.join_rules', '', alice, { join_rule: 'public' });
  room.member(bob, 'join');
  const candidates = [
    room.make('m.room.message', undefined, bob, { body: 'hi', msgtype: 'm.text' }).event,
    room.make('m.room.member', `@carol:${ORIGIN}`, bob, { membership: 'invite' }).event,
    room.make('m.room.member', bob, alice, { membership: 'ban' }).event,
    room.make('m.room.power_levels', '', alice, { users: { [alice]: 100, [bob]: 100 }, users_default: 0 }).event,
    room.make('m.room.name', '', bob, { name: 'n' }).event,
  ];
  return { room, candidates: candidates.map((e) => encodeCanonicalJson(e, { numbers: 'legacy' })) };
}

/** The versions the campaign covers: every version of the spec. */
export const VERSIONS: readonly string[] = SPEC_ROOM_VERSIONS;

/** Key responses: the origin's own, and a notary's answer carrying it. */
export function keySeeds(): string[] {
  const direct = serverKeysResponse({
    serverName: ORIGIN,
    keys: { [KEY_ID]: KEY },
    oldVerifyKeys: { 'ed25519:old': { key: NOTARY_KEY.verifyKey, expiredTs: NOW - 1000 } },
    validUntilTs: NOW + 86_400_000,
  });
  const notary = notaryQueryResponse([direct], {
    serverName: NOTARY,
    keys: { 'ed25519:n': NOTARY_KEY },
  });
  return [encodeCanonicalJson(direct), encodeCanonicalJson(notary)];
}

/** A request our destination receives. */
export interface SeedRequest {
  readonly method: string;
  readonly uri: string;
  readonly content?: JsonObject;
}

/** The destination of every seed request. */
export const DESTINATION = 'dest.example';

/** Requests with their signed `Authorization` headers. */
export function requestSeeds(): { request: SeedRequest; header: string }[] {
  const requests: SeedRequest[] = [
    { method: 'GET', uri: '/_matrix/federation/v1/version' },
    { method: 'PUT', uri: '/_matrix/federation/v1/send/1?x=%20y', content: { pdus: [], edus: [{ a: 1 }] } },
  ];
  return requests.map((request) => ({
    request,
    header: signRequest({ ...request, origin: ORIGIN, destination: DESTINATION }, KEY_ID, KEY),
  }));
}
