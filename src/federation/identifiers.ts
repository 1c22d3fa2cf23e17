/**
 * Identifier grammars (spec: Appendices, "Server Name", "Common Identifier
 * Format", "User Identifiers" with "Historical User IDs", "Room IDs",
 * "Event IDs", and the room versions' event ID formats).
 *
 * @module
 */

import { isIPv6 } from 'node:net';
import { InvalidInputError } from '../errors.js';
import type { RoomVersionRules } from '../roomversions/rules.js';

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

/** Whether `name` is a valid server name (see {@link parseServerName}). */
export function isValidServerName(name: string): boolean {
  try {
    parseServerName(name);
    return true;
  } catch {
    return false;
  }
}

/** Splits `sigil localpart ":" server_name` at the first colon. */
function split(id: string, sigil: string): { localpart: string; serverName: string } | undefined {
  if (!id.startsWith(sigil)) return undefined;
  const colon = id.indexOf(':');
  if (colon < 0) return undefined;
  const serverName = id.slice(colon + 1);
  return isValidServerName(serverName) ? { localpart: id.slice(1, colon), serverName } : undefined;
}

const USER_LOCALPART = /^[a-z0-9._=\-/+]+$/;
/** Historical localparts: any non-surrogate code points but `:` and NUL. */
const HISTORICAL_LOCALPART = /^[^:\u0000]*$/;
const MAX_USER_ID_BYTES = 255;

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
    Buffer.byteLength(id, 'utf8') > MAX_USER_ID_BYTES
  ) {
    throw invalid('user ID', id);
  }
  return { ...parts, compliant: USER_LOCALPART.test(parts.localpart) };
}

/** Whether `id` is a valid user ID (see {@link parseUserId}). */
export function isValidUserId(id: string): boolean {
  try {
    parseUserId(id);
    return true;
  } catch {
    return false;
  }
}

const OPAQUE = /^[^:\u0000]+$/;
const HASH_STANDARD = /^[A-Za-z0-9+/]{43}$/;
const HASH_URL_SAFE = /^[A-Za-z0-9_-]{43}$/;

/**
 * Whether `id` is a room ID of the room version: from v12 `!` and the
 * URL-safe unpadded Base64 of a SHA-256 hash (43 characters); before,
 * `!opaque_id:server_name`.
 *
 * @param id - the room ID.
 * @param rules - the room version's rules.
 */
export function isValidRoomId(id: string, rules: RoomVersionRules): boolean {
  if (!id.startsWith('!') || !id.isWellFormed()) return false;
  if (rules.eventFormat.roomIdIsCreateEventHash) return HASH_URL_SAFE.test(id.slice(1));
  const parts = split(id, '!');
  return parts !== undefined && OPAQUE.test(parts.localpart);
}

/**
 * Whether `id` is an event ID of the room version: `$opaque_id:server_name`
 * in v1–v2, `$` and 43 characters of standard Base64 in v3, of URL-safe
 * Base64 from v4.
 *
 * @param id - the event ID.
 * @param rules - the room version's rules.
 */
export function isValidEventId(id: string, rules: RoomVersionRules): boolean {
  if (!id.startsWith('$') || !id.isWellFormed()) return false;
  switch (rules.eventFormat.eventIdFormat) {
    case 'opaque': {
      const parts = split(id, '$');
      return parts !== undefined && OPAQUE.test(parts.localpart);
    }
    case 'base64':
      return HASH_STANDARD.test(id.slice(1));
    case 'url-safe-base64':
      return HASH_URL_SAFE.test(id.slice(1));
  }
}

/**
 * Whether `alias` is a room alias `#localpart:server_name`, at most 255
 * bytes.
 *
 * @param alias - the alias.
 */
export function isValidRoomAlias(alias: string): boolean {
  const parts = split(alias, '#');
  return (
    parts !== undefined &&
    OPAQUE.test(parts.localpart) &&
    alias.isWellFormed() &&
    Buffer.byteLength(alias, 'utf8') <= MAX_USER_ID_BYTES
  );
}
