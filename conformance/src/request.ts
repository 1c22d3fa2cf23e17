/**
 * Reading the fields of a conformance request, with the errcodes that
 * PROTOCOL.md gives for missing and malformed fields.
 *
 * @module
 */

import { StateMap } from 'matrix-serverlib/auth';
import {
  encodeCanonicalJson,
  InvalidInputError,
  isJsonObject,
  JsonFloat,
  type JsonObject,
  type JsonValue,
} from 'matrix-serverlib/canonicaljson';
import { assertEventNesting, type EventKeyLookup, type EventVerifyKey, type Pdu } from 'matrix-serverlib/events';
import { getRoomVersion, type RoomVersionRules } from 'matrix-serverlib/roomversions';
import { decodeBase64, PUBLIC_KEY_LENGTH, verifyKeyFromBytes } from 'matrix-serverlib/signing';

/** A request line: an object with `op`, an optional `id` and op fields. */
export type Request = JsonObject;

function field(req: Request, name: string): JsonValue {
  const v = req[name];
  if (v === undefined) throw new InvalidInputError('M_MISSING_PARAM', `Missing field "${name}"`);
  return v;
}

/** A required string field. */
export function stringField(req: Request, name: string): string {
  const v = field(req, name);
  if (typeof v !== 'string') throw new InvalidInputError('M_INVALID_PARAM', `Field "${name}" must be a string`);
  return v;
}

/** A required object field. */
export function objectField(req: Request, name: string): JsonObject {
  const v = field(req, name);
  if (!isJsonObject(v)) throw new InvalidInputError('M_INVALID_PARAM', `Field "${name}" must be an object`);
  return v;
}

/** A required field holding unpadded Base64 of exactly `length` bytes. */
export function bytesField(req: Request, name: string, length: number): Uint8Array {
  const bytes = decodeBase64(stringField(req, name));
  if (bytes.length !== length) {
    throw new InvalidInputError(
      'M_INVALID_PARAM',
      `Field "${name}" must decode to ${length} bytes, not ${bytes.length}`,
    );
  }
  return bytes;
}

/** The rules of the request's `room_version` (or of `fallback` if absent). */
export function roomVersionField(req: Request, fallback?: string): RoomVersionRules {
  const v = req.room_version;
  if (v === undefined && fallback !== undefined) return getRoomVersion(fallback);
  if (typeof v !== 'string') {
    if (v === undefined) throw new InvalidInputError('M_MISSING_PARAM', 'Missing field "room_version"');
    throw new InvalidInputError('M_UNSUPPORTED_ROOM_VERSION', 'Field "room_version" must be a string');
  }
  return getRoomVersion(v);
}

/**
 * A required event field, held to the room version's JSON rules as if it
 * had been parsed with them (request lines are parsed losslessly): from v6
 * no floats or integers outside the safe range, and no unpaired surrogates
 * or infinite floats in any version. `unsigned` is left out, as Synapse
 * validates received events without it. Then no deeper than Synapse can
 * build an event, `unsigned` included (see {@link assertEventNesting}):
 * every op answers about an event as Synapse would hold it.
 */
export function eventField(req: Request, name: string, rules: RoomVersionRules, what = name): JsonObject {
  const event = req[name];
  if (event === undefined) throw new InvalidInputError('M_MISSING_PARAM', `Missing field "${what}"`);
  if (!isJsonObject(event)) throw new InvalidInputError('M_INVALID_PARAM', `Field "${what}" must be an object`);
  const { unsigned: _unsigned, ...rest } = event;
  encodeCanonicalJson(rest, { numbers: rules.json.numbers });
  assertEventNesting(event);
  return event;
}

/** A required list field. */
export function listField(req: Request, name: string): JsonValue[] {
  const v = field(req, name);
  if (!Array.isArray(v)) throw new InvalidInputError('M_INVALID_PARAM', `Field "${name}" must be a list`);
  return v;
}

/**
 * A required list of events, each held to the room version's JSON rules as
 * {@link eventField} holds one.
 */
export function eventListField(req: Request, name: string, rules: RoomVersionRules): JsonObject[] {
  return listField(req, name).map((event, i) => eventField({ [name]: event }, name, rules, `${name}[${i}]`));
}

/**
 * A required list of state events, as a state map: each element held to
 * the room version's JSON rules as {@link eventField} holds one, then to
 * `schema` (which gives the event to keep), one element after the other (the first bad one decides the
 * error); then each must be a state event and no two may share a type and
 * state key (`M_INVALID_PARAM`).
 */
export function stateField(
  req: Request,
  name: string,
  rules: RoomVersionRules,
  schema: (event: JsonObject, rules: RoomVersionRules) => Pdu,
): StateMap {
  const events = listField(req, name).map((event, i) =>
    schema(eventField({ [name]: event }, name, rules, `${name}[${i}]`), rules),
  );
  return new StateMap(events);
}

/** An optional list of strings. */
export function stringListField(req: Request, name: string): string[] | undefined {
  const v = req[name];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) {
    throw new InvalidInputError('M_INVALID_PARAM', `Field "${name}" must be a list of strings`);
  }
  return v as string[];
}

/**
 * The protocol's `keys` field, `{server: {key_id: key}}`, each key either
 * unpadded Base64 (valid forever) or `{key, valid_until_ts}`, decoded once,
 * as a lookup. Every entry must be well formed (a malformed key is a bad
 * request, whether or not anything names it); entries under key IDs that
 * are not `ed25519:…` are then left out, as Synapse's key fetchers leave
 * out keys of algorithms they do not support.
 */
export function keysField(req: Request, name = 'keys'): EventKeyLookup {
  const keys = objectField(req, name);
  const found = new Map<string, Map<string, EventVerifyKey>>();
  for (const server of Object.keys(keys)) {
    const forServer = keys[server];
    if (!isJsonObject(forServer)) {
      throw new InvalidInputError('M_INVALID_PARAM', `"${name}" of ${server} is not an object`);
    }
    const serverKeys = new Map<string, EventVerifyKey>();
    found.set(server, serverKeys);
    for (const keyId of Object.keys(forServer)) {
      const entry = forServer[keyId];
      const b64 = isJsonObject(entry) ? entry.key : entry;
      const until = isJsonObject(entry) ? entry.valid_until_ts : undefined;
      const untilMs =
        until === undefined
          ? Number.POSITIVE_INFINITY
          : typeof until === 'number' || typeof until === 'bigint'
            ? Number(until)
            : until instanceof JsonFloat
              ? until.value
              : Number.NaN;
      if (typeof b64 !== 'string' || Number.isNaN(untilMs)) {
        throw new InvalidInputError('M_INVALID_PARAM', `Malformed key ${keyId} of ${server} in "${name}"`);
      }
      const bytes = decodeBase64(b64);
      if (bytes.length !== PUBLIC_KEY_LENGTH) {
        throw new InvalidInputError('M_INVALID_PARAM', `Key ${keyId} of ${server} is not 32 bytes`);
      }
      if (!keyId.startsWith('ed25519:')) continue;
      serverKeys.set(keyId, { key: verifyKeyFromBytes(bytes), validUntilTs: untilMs });
    }
  }
  return (server, keyId) => found.get(server)?.get(keyId);
}
