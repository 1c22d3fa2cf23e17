/**
 * The auth rules for `m.room.create` (room versions, "Authorization rules",
 * rule 1), which need no other event.
 *
 * @module
 */

import { isIPv6 } from 'node:net';
import type { JsonValue } from '../canonicaljson/value.js';
import type { Pdu } from '../hashing/schema.js';
import { domainOf, serverNameOf } from '../identifiers/identifiers.js';
import { isKnownRoomVersion, type RoomVersionRules } from '../roomversions/rules.js';
import { own, pyInt, show } from './pyvalue.js';
import { reject } from './result.js';

/** The most a creator's user ID may be, in code points and in UTF-8 bytes. */
const MAX_USER_ID = 255;

/** Synapse's host grammar: dot-separated labels of ASCII letters, digits and `-`. */
const HOST = /^[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*$/;

/**
 * Whether Synapse accepts `name` as a server name where it validates one
 * (`parse_and_validate_server_name`), which is looser than the spec's
 * grammar: a port is anything Python's `int()` reads (no range check), a
 * host is labels of letters, digits and `-` (no IPv4 octet check), and an
 * IPv6 literal has no zone ID.
 */
function isServerNameAsSynapseParsesIt(name: string): boolean {
  let host = name;
  if (!name.endsWith(']')) {
    const colon = name.lastIndexOf(':');
    if (colon >= 0) {
      try {
        pyInt(name.slice(colon + 1));
      } catch {
        return false;
      }
      host = name.slice(0, colon);
    }
  }
  if (host.startsWith('[')) {
    const literal = host.slice(1, -1);
    return host.endsWith(']') && literal !== '' && !literal.includes('%') && isIPv6(literal);
  }
  return HOST.test(host);
}

/**
 * Whether `id` is a user ID as Synapse checks `additional_creators`
 * entries: `@`, a localpart, `:`, a server name Synapse accepts, at most
 * 255 code points and 255 bytes of UTF-8.
 */
function isCreatorId(id: JsonValue | undefined): boolean {
  if (typeof id !== 'string' || !id.startsWith('@') || !id.isWellFormed()) return false;
  const serverName = serverNameOf(id);
  if (serverName === undefined || !isServerNameAsSynapseParsesIt(serverName)) return false;
  return Buffer.byteLength(id, 'utf8') <= MAX_USER_ID;
}

/**
 * Checks a create event:
 * - it has no `prev_events`;
 * - before v12, the room ID's server is the sender's; from v12 it has no
 *   `room_id` at all (the room ID is its hash);
 * - `content.room_version`, if present, is a version this library knows
 *   (absent means "1");
 * - v1–v10: `content.creator` is present;
 * - from v12: `content.additional_creators`, if present, is a list of
 *   valid user IDs.
 *
 * @throws {@link Rejection} under rule `create`.
 */
export function checkCreate(event: Pdu, rules: RoomVersionRules): void {
  const prev = event.prev_events;
  if (Array.isArray(prev) && prev.length > 0) reject('create', 'The create event has prev_events');
  if (rules.eventFormat.roomIdIsCreateEventHash) {
    if (Object.hasOwn(event, 'room_id'))
      reject('create', 'A create event of this room version must not have a room_id');
  } else if (domainOf(event.room_id, 'room_id') !== domainOf(event.sender, 'sender')) {
    reject('create', "The room ID's server is not the sender's");
  }
  const content = event.content;
  const version = Object.hasOwn(content, 'room_version') ? content.room_version : '1';
  if (typeof version !== 'string' || !isKnownRoomVersion(version)) {
    reject('create', `content.room_version ${show(version)} is not a known room version`);
  }
  if (!rules.auth.implicitRoomCreator && !Object.hasOwn(content, 'creator')) {
    reject('create', 'The create event has no content.creator');
  }
  if (rules.auth.privilegedCreators && Object.hasOwn(content, 'additional_creators')) {
    const additional = own(content, 'additional_creators');
    if (!Array.isArray(additional)) reject('create', 'content.additional_creators must be a list');
    for (const id of additional) {
      if (!isCreatorId(id)) reject('create', `content.additional_creators has ${show(id)}, not a user ID`);
    }
  }
}
