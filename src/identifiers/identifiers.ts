/**
 * Identifier grammars (spec: Appendices, "Server Name", "Common Identifier
 * Format", "User Identifiers" with "Historical User IDs", "Room IDs",
 * "Room Aliases", "Event IDs", and the room versions' event ID formats):
 * `parse…` functions giving a typed value or an {@link InvalidInputError}
 * that says why, and `isValid…` predicates.
 *
 * @module
 */

import { isIPv6 } from 'node:net';
import { InvalidInputError } from '../errors.js';

/** How event IDs are formed (spec: room versions 1, 3 and 4, "Event IDs"). */
export type EventIdFormat =
  /** v1–v2: `$opaque:server`, chosen by the sender and carried in the event. */
  | 'opaque'
  /** v3: `$` + standard unpadded Base64 of the reference hash. */
  | 'base64'
  /** v4 and later: `$` + URL-safe unpadded Base64 of the reference hash. */
  | 'url-safe-base64';

/**
 * What the room and event ID grammars depend on: the part of a room
 * version's rules they read. Every `RoomVersionRules` (from
 * `matrix-serverlib/roomversions`) is one; the type is narrower so that
 * identifiers, the bottom layer, depend on nothing above them.
 */
export interface IdentifierRules {
  /** The room version's identifier, for error messages. */
  readonly id: string;
  /** The version's event format. */
  readonly eventFormat: {
    /** How event IDs are formed. */
    readonly eventIdFormat: EventIdFormat;
    /** Whether room IDs are `!` + the create event's reference hash (v12, MSC4291). */
    readonly roomIdIsCreateEventHash: boolean;
  };
}

/** A parsed server name. */
export interface ServerName {
  /** The host as written: a DNS name, an IPv4 literal, or `[IPv6]`. */
  readonly host: string;
  /** Which kind of host it is. */
  readonly kind: 'dns' | 'ipv4' | 'ipv6';
  /** The explicit port, if any. */
  readonly port?: number;
}

const DNS_NAME = /^[A-Za-z0-9.-]{1,255}$/;
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const IPV6_CHARS = /^[0-9A-Fa-f:.]{2,45}$/;
const PORT = /^\d{1,5}$/;

function invalid(what: string, value: string): InvalidInputError {
  return new InvalidInputError('M_INVALID_PARAM', `${JSON.stringify(value)} is not a valid ${what}`);
}

/**
 * Parses a server name: `hostname [":" port]`, the hostname a DNS name of
 * letters, digits, `-` and `.` (at most 255), a dotted-quad IPv4 literal
 * (each number at most 255; a dotted quad with a larger number is a DNS
 * name by the grammar), or a bracketed IPv6 literal (RFC 3513); the port
 * 1–5 digits, at most 65535.
 *
 * @param name - the server name.
 * @throws {@link InvalidInputError} `M_INVALID_PARAM` if it is not one.
 */
export function parseServerName(name: string): ServerName {
  let host = name;
  let port: number | undefined;
  const colon = name.lastIndexOf(':');
  const bracket = name.lastIndexOf(']');
  // A colon after any closing bracket starts the port.
  if (colon > bracket) {
    const digits = name.slice(colon + 1);
    if (!PORT.test(digits) || Number(digits) > 65535) throw invalid('server name', name);
    port = Number(digits);
    host = name.slice(0, colon);
  }
  let kind: ServerName['kind'];
  if (host.startsWith('[')) {
    const inner = host.slice(1, -1);
    if (!host.endsWith(']') || !IPV6_CHARS.test(inner) || !isIPv6(inner)) throw invalid('server name', name);
    kind = 'ipv6';
  } else {
    const v4 = IPV4.exec(host);
    if (v4?.slice(1).every((n) => Number(n) <= 255)) {
      kind = 'ipv4';
    } else if (DNS_NAME.test(host)) {
      // Includes dotted quads with a number over 255 ("999.1.1.1"): the
      // grammar's dns-name allows digits and dots, and Synapse accepts them;
      // they are names no address has (discovery refuses them).
      kind = 'dns';
    } else {
      throw invalid('server name', name);
    }
  }
  return port === undefined ? { host, kind } : { host, kind, port };
}

/** Whether `parse` returns rather than throws: the `isValid…` form of a `parse…` function. */
function holds(parse: () => unknown): boolean {
  try {
    parse();
    return true;
  } catch {
    return false;
  }
}

/** Whether `name` is a valid server name (see {@link parseServerName}). Never throws. */
export function isValidServerName(name: string): boolean {
  return holds(() => parseServerName(name));
}

/**
 * The server part of an ID, unchecked: everything after the first colon,
 * as Synapse reads the domain of an ID (`get_domain_from_id`, and
 * `DomainSpecificString.from_string`, which splits at the first colon
 * too). For IDs in events, which are held only as far as Synapse holds
 * them; {@link parseUserId} and the other `parse…` functions check the
 * grammars.
 *
 * @param id - a user, room or event ID, or an alias.
 * @returns the part after the first colon, or `undefined` if there is no
 *   colon. Never throws.
 */
export function serverNameOf(id: string): string | undefined {
  const colon = id.indexOf(':');
  return colon < 0 ? undefined : id.slice(colon + 1);
}

/**
 * {@link serverNameOf} for an identifier an event carries, which must have
 * a server part.
 *
 * @param id - the value of the event's key.
 * @param what - the key, for the error message.
 * @throws {@link InvalidInputError} `M_BAD_JSON` if `id` is not a string
 *   with a colon.
 */
export function domainOf(id: unknown, what: string): string {
  const serverName = typeof id === 'string' ? serverNameOf(id) : undefined;
  if (serverName === undefined) {
    throw new InvalidInputError('M_BAD_JSON', `The event's ${what} is not an identifier with a server name`);
  }
  return serverName;
}

/**
 * The create event's ID in a room whose ID is that event's hash (v12,
 * MSC4291): the same hash after `$` in place of `!`.
 */
export function createEventIdOfRoom(roomId: string): string {
  return `$${roomId.slice(1)}`;
}

/**
 * The room ID a create event's ID makes (v12, MSC4291): the same hash
 * after `!` in place of `$`.
 */
export function roomIdOfCreateEventId(eventId: string): string {
  return `!${eventId.slice(1)}`;
}

/** Splits `sigil localpart ":" server_name` at the first colon. */
function split(id: string, sigil: string): { localpart: string; serverName: string } | undefined {
  if (!id.startsWith(sigil)) return undefined;
  const serverName = serverNameOf(id);
  if (serverName === undefined || !isValidServerName(serverName)) return undefined;
  return { localpart: id.slice(1, id.length - serverName.length - 1), serverName };
}

const USER_LOCALPART = /^[a-z0-9._=\-/+]+$/;
/** Historical localparts: any non-surrogate code points but `:` and NUL. */
const HISTORICAL_LOCALPART = /^[^:\u0000]*$/;
/**
 * User IDs, room IDs, event IDs and aliases, sigil and domain included,
 * "MUST NOT exceed 255 bytes" (spec: Appendices, "User Identifiers", "Room
 * IDs", "Event IDs", "Room Aliases").
 */
const MAX_ID_BYTES = 255;

/**
 * A user ID as text, `@…`: a string with its sigil in its type, so that a
 * room ID or an event ID given where a user ID is taken does not compile
 * (the federation client's paths take all three, side by side). A `'@…'`
 * literal is one; {@link isValidUserId} narrows any other string.
 */
export type UserIdString = `@${string}`;

/** A room ID as text, `!…`: see {@link UserIdString}; {@link isValidRoomId} narrows a string. */
export type RoomIdString = `!${string}`;

/** An event ID as text, `$…`: see {@link UserIdString}; {@link isValidEventId} narrows a string. */
export type EventIdString = `$${string}`;

/** A parsed user ID. */
export interface UserId {
  /** The localpart. */
  readonly localpart: string;
  /** The server name. */
  readonly serverName: string;
  /** Whether the localpart uses only the current grammar's characters. */
  readonly compliant: boolean;
}

/**
 * Parses a user ID `@localpart:server_name`, at most 255 bytes. Localparts
 * of the historical grammar (any code points but `:` and NUL, even empty)
 * are accepted, as servers must for events over federation; `compliant`
 * says whether it follows the current grammar (`a-z 0-9 . _ = - / +`).
 *
 * @param id - the user ID.
 * @throws {@link InvalidInputError} `M_INVALID_PARAM` if it is not one.
 */
export function parseUserId(id: string): UserId {
  const parts = split(id, '@');
  if (
    parts === undefined ||
    !HISTORICAL_LOCALPART.test(parts.localpart) ||
    !id.isWellFormed() ||
    Buffer.byteLength(id, 'utf8') > MAX_ID_BYTES
  ) {
    throw invalid('user ID', id);
  }
  return { ...parts, compliant: USER_LOCALPART.test(parts.localpart) };
}

/** Whether `id` is a valid user ID (see {@link parseUserId}). Never throws. */
export function isValidUserId(id: string): id is UserIdString {
  return holds(() => parseUserId(id));
}

const OPAQUE = /^[^:\u0000]+$/;
const HASH_STANDARD = /^[A-Za-z0-9+/]{43}$/;
const HASH_URL_SAFE = /^[A-Za-z0-9_-]{43}$/;

/** A parsed room ID or event ID. */
export interface OpaqueId {
  /**
   * What follows the sigil: the localpart of `!opaque_id:domain` and
   * `$opaque_id:domain`, or the whole Base64 hash of the formats without a
   * domain (event IDs from v3, room IDs from v12).
   */
  readonly opaqueId: string;
  /** The domain, for the formats that have one. */
  readonly serverName?: string;
}

/** A parsed room ID: see {@link parseRoomId}. */
export type RoomId = OpaqueId;

/** A parsed event ID: see {@link parseEventId}. */
export type EventId = OpaqueId;

/** A parsed room alias. */
export interface RoomAlias {
  /** The localpart (after `#`, before the first `:`). */
  readonly localpart: string;
  /** The server name of the homeserver that created the alias. */
  readonly serverName: string;
}

function invalidBecause(what: string, value: string, why: string): InvalidInputError {
  // A value that is too long is not repeated whole.
  const shown = value.length > 100 ? `${JSON.stringify(value.slice(0, 100))}…` : JSON.stringify(value);
  return new InvalidInputError('M_INVALID_PARAM', `${shown} is not a valid ${what}: ${why}`);
}

/** The checks every room ID, event ID and alias shares: sigil, well-formed, at most 255 bytes. */
function checkCommon(id: string, sigil: string, what: string): void {
  if (!id.startsWith(sigil)) throw invalidBecause(what, id, `it does not start with ${sigil}`);
  if (!id.isWellFormed()) throw invalidBecause(what, id, 'it holds an unpaired surrogate');
  const bytes = Buffer.byteLength(id, 'utf8');
  if (bytes > MAX_ID_BYTES) throw invalidBecause(what, id, `it is ${bytes} bytes, more than ${MAX_ID_BYTES}`);
}

/** `sigil localpart ":" server_name`, the localpart any code points but `:` and NUL. */
function parseWithDomain(id: string, sigil: string, what: string): { localpart: string; serverName: string } {
  if (serverNameOf(id) === undefined) throw invalidBecause(what, id, 'it has no ":" before a server name');
  const parts = split(id, sigil);
  if (parts === undefined) throw invalidBecause(what, id, 'its domain is not a valid server name');
  if (!OPAQUE.test(parts.localpart)) throw invalidBecause(what, id, 'its localpart is empty or holds NUL');
  return parts;
}

/**
 * Parses a room ID of the room version: from v12 `!` and the URL-safe
 * unpadded Base64 of a SHA-256 hash (43 characters); before,
 * `!opaque_id:server_name`, the localpart any code points but `:` and NUL.
 * Either way at most 255 bytes.
 *
 * @param id - the room ID.
 * @param rules - the room version's rules.
 * @returns the opaque part, and the server name for the format with one.
 * @throws {@link InvalidInputError} `M_INVALID_PARAM`, saying why, if it
 *   is not one.
 */
export function parseRoomId(id: string, rules: IdentifierRules): RoomId {
  const what = `room ID for room version ${rules.id}`;
  checkCommon(id, '!', what);
  if (rules.eventFormat.roomIdIsCreateEventHash) {
    if (!HASH_URL_SAFE.test(id.slice(1)))
      throw invalidBecause(what, id, 'it is not ! and 43 URL-safe Base64 characters');
    return { opaqueId: id.slice(1) };
  }
  const { localpart, serverName } = parseWithDomain(id, '!', what);
  return { opaqueId: localpart, serverName };
}

/** Whether `id` is a room ID of the room version (see {@link parseRoomId}). Never throws. */
export function isValidRoomId(id: string, rules: IdentifierRules): id is RoomIdString {
  return holds(() => parseRoomId(id, rules));
}

/**
 * Parses an event ID of the room version: `$opaque_id:server_name` in
 * v1–v2, `$` and 43 characters of standard Base64 in v3, of URL-safe
 * Base64 from v4; at most 255 bytes.
 *
 * @param id - the event ID.
 * @param rules - the room version's rules.
 * @returns the opaque part, and the server name in v1–v2.
 * @throws {@link InvalidInputError} `M_INVALID_PARAM`, saying why, if it
 *   is not one.
 */
export function parseEventId(id: string, rules: IdentifierRules): EventId {
  const what = `event ID for room version ${rules.id}`;
  checkCommon(id, '$', what);
  switch (rules.eventFormat.eventIdFormat) {
    case 'opaque': {
      const { localpart, serverName } = parseWithDomain(id, '$', what);
      return { opaqueId: localpart, serverName };
    }
    case 'base64':
      if (!HASH_STANDARD.test(id.slice(1))) throw invalidBecause(what, id, 'it is not $ and 43 Base64 characters');
      return { opaqueId: id.slice(1) };
    case 'url-safe-base64':
      if (!HASH_URL_SAFE.test(id.slice(1))) {
        throw invalidBecause(what, id, 'it is not $ and 43 URL-safe Base64 characters');
      }
      return { opaqueId: id.slice(1) };
  }
}

/** Whether `id` is an event ID of the room version (see {@link parseEventId}). Never throws. */
export function isValidEventId(id: string, rules: IdentifierRules): id is EventIdString {
  return holds(() => parseEventId(id, rules));
}

/**
 * Parses a room alias `#localpart:server_name`, the localpart any code
 * points but `:` and NUL, at most 255 bytes.
 *
 * @param alias - the alias.
 * @returns its localpart and server name.
 * @throws {@link InvalidInputError} `M_INVALID_PARAM`, saying why, if it
 *   is not one.
 */
export function parseRoomAlias(alias: string): RoomAlias {
  checkCommon(alias, '#', 'room alias');
  return parseWithDomain(alias, '#', 'room alias');
}

/** Whether `alias` is a room alias (see {@link parseRoomAlias}). Never throws. */
export function isValidRoomAlias(alias: string): boolean {
  return holds(() => parseRoomAlias(alias));
}
