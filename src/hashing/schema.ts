/**
 * What an event must be to be hashed at all: the keys and types every event
 * of its room version has (what Synapse's event parser requires before it
 * computes an event ID), and nesting Synapse can build. The hashes and IDs
 * check it; the format check of a received PDU (`matrix-serverlib/events`)
 * builds on it.
 *
 * @module
 */

import type { DEFAULT_MAX_DEPTH } from '../canonicaljson/parse.js';
import { type CanonicalSpans, recordedExtent } from '../canonicaljson/spans.js';
import { isJsonObject, JsonFloat, type JsonObject, type JsonValue } from '../canonicaljson/value.js';
import { InvalidInputError } from '../errors.js';
import type { RoomVersionRules } from '../roomversions/rules.js';

/**
 * Marks a {@link Pdu}: a type of its own, which a JSON object does not have
 * until a check gives it. It exists only in the types.
 */
declare const PDU: unique symbol;

/**
 * An event of the keys and types its room version requires of every event,
 * as the schema check found it (the checks that produce one:
 * {@link checkEventSchema} and {@link assertEventSchema}, and from
 * `matrix-serverlib/events` the PDU format check, the check of a received
 * PDU, and the event builder): what the auth rules, signing and state
 * resolution take, so that they read its members without casting. The
 * object is the event itself, not a copy: change it and it is no longer
 * what was checked.
 */
export interface Pdu extends JsonObject {
  /** The mark of a checked event: no such member exists. */
  readonly [PDU]: true;
  /** The event type. */
  readonly type: string;
  /** The user who sent it. */
  readonly sender: string;
  /** The content. */
  readonly content: JsonObject;
  /** The room; absent only from v12 create events (MSC4291). */
  readonly room_id?: string;
  /** The state key, for state events. */
  readonly state_key?: string;
  /** The depth: a 64-bit integer (a `bigint` only beyond 2^53 - 1 in v1–v5). */
  readonly depth: number | bigint;
  /** The sender's timestamp: a 64-bit integer. */
  readonly origin_server_ts: number | bigint;
  /** The events it follows: IDs, or in v1–v2 `[event ID, hashes]` pairs. */
  readonly prev_events: EventReference[];
  /** The events that authorise it, as {@link Pdu.prev_events}. */
  readonly auth_events: EventReference[];
  /** Its hashes by algorithm, in unpadded Base64. */
  readonly hashes: { [algorithm: string]: string };
  /** Its signatures by server and key ID. */
  readonly signatures?: { [serverName: string]: { [keyId: string]: string } };
  /** Data that is not signed: an object when present. */
  readonly unsigned?: JsonObject;
  /** The event ID, carried in the event in v1–v2 only. */
  readonly event_id?: string;
}

/**
 * An entry of `prev_events` or `auth_events`: an event ID, or in room
 * versions 1 and 2 an event ID and the event's hashes by algorithm.
 */
export type EventReference = string | [eventId: string, hashes: { [algorithm: string]: string }];

/** The outcome of {@link checkEventSchema} and of the PDU format check. */
export type FormatCheck =
  | {
      /** The event is well-formed for its room version. */
      readonly valid: true;
      /** The event, as a {@link Pdu}. */
      readonly pdu: Pdu;
    }
  | {
      /** The event is malformed and must be rejected. */
      readonly valid: false;
      /** What is wrong, naming the key. */
      readonly reason: string;
    };

/**
 * Deepest nesting of arrays and objects in an event, the event object
 * itself being level 1. The spec sets no limit, but Synapse builds every
 * event it holds (received ones in `event_from_pdu_json`, after cutting
 * `unsigned` down; its own in the event builder) with
 * `make_event_from_dict`, which parses the event's Canonical JSON with its
 * Rust event parser (serde_json), whose recursion limit refuses 128 levels
 * and more wherever they are (checked against Synapse 1.163 by the oracle).
 * An event Synapse cannot build is one it rejects: accepting it splits the
 * room. Plain JSON keeps {@link DEFAULT_MAX_DEPTH}.
 */
export const MAX_EVENT_DEPTH = 127;

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

/** What a check that finds the event malformed throws: its message is the reason. */
export class Malformed extends Error {}

/** Throws {@link Malformed} with `reason`. */
export function fail(reason: string): never {
  throw new Malformed(reason);
}

/** Whether `v` is an integer as Synapse's event parser reads one: a 64-bit signed integer. */
export const isInteger = (v: JsonValue | undefined): boolean =>
  (typeof v === 'number' && Number.isInteger(v)) || (typeof v === 'bigint' && v >= I64_MIN && v <= I64_MAX);

function checkStringMap(v: JsonValue | undefined, what: string): void {
  if (!isJsonObject(v)) fail(`${what} must be an object`);
  for (const key of Object.keys(v)) if (typeof v[key] !== 'string') fail(`${what} must map to strings`);
}

function checkEventRefs(v: JsonValue | undefined, key: string, rules: RoomVersionRules): void {
  if (!Array.isArray(v)) fail(`${key} must be an array`);
  for (const ref of v) {
    if (rules.eventFormat.eventIdFormat === 'opaque') {
      // v1–v2: [event_id, {algorithm: hash}] pairs.
      if (!Array.isArray(ref) || ref.length !== 2 || typeof ref[0] !== 'string') {
        fail(`${key} must hold [event_id, hashes] pairs in room version ${rules.id}`);
      }
      checkStringMap(ref[1], `the hashes in ${key}`);
    } else if (typeof ref !== 'string') {
      fail(`${key} must hold event ID strings in room version ${rules.id}`);
    }
  }
}

/** Types Synapse's event parser requires of the `unsigned` keys it knows. */
function checkUnsignedTypes(unsigned: JsonValue | undefined): void {
  if (unsigned === undefined) return;
  if (!isJsonObject(unsigned)) fail('unsigned must be an object');
  const { age_ts, replaces_state, prev_sender } = unsigned;
  if (age_ts !== undefined && typeof age_ts !== 'number' && typeof age_ts !== 'bigint') {
    fail('unsigned.age_ts must be a number');
  }
  if (replaces_state !== undefined && typeof replaces_state !== 'string')
    fail('unsigned.replaces_state must be a string');
  if (prev_sender !== undefined && typeof prev_sender !== 'string') fail('unsigned.prev_sender must be a string');
  for (const key of ['invite_room_state', 'knock_room_state']) {
    const v = unsigned[key];
    if (v !== undefined && v !== null && !Array.isArray(v)) fail(`unsigned.${key} must be an array`);
  }
}

/**
 * The keys and types every event of the version must have to be an event at
 * all (what Synapse's event parser requires before it computes an event ID).
 */
export function checkSchema(event: JsonObject, rules: RoomVersionRules, unsigned: JsonValue | undefined): void {
  if (!isJsonObject(event.content)) fail('content must be an object');
  if (!isInteger(event.depth)) fail('depth must be an integer');
  checkStringMap(event.hashes, 'hashes');
  if (!isInteger(event.origin_server_ts)) fail('origin_server_ts must be an integer');
  if (typeof event.sender !== 'string') fail('sender must be a string');
  if (typeof event.type !== 'string') fail('type must be a string');
  if (event.state_key !== undefined && typeof event.state_key !== 'string') fail('state_key must be a string');
  if (event.signatures !== undefined) {
    if (!isJsonObject(event.signatures)) fail('signatures must be an object');
    for (const server of Object.keys(event.signatures)) {
      checkStringMap(event.signatures[server], `signatures of ${server}`);
    }
  }
  checkUnsignedTypes(unsigned);
  if (rules.eventFormat.eventIdFormat === 'opaque') {
    if (typeof event.event_id !== 'string') fail(`event_id must be a string in room version ${rules.id}`);
  } else if (event.event_id !== undefined) {
    fail(`events of room version ${rules.id} must not carry an event_id`);
  }
  const isCreate = event.type === 'm.room.create' && event.state_key === '';
  if (!rules.eventFormat.roomIdIsCreateEventHash) {
    if (typeof event.room_id !== 'string') fail('room_id must be a string');
  } else if (isCreate) {
    if (event.room_id !== undefined) fail(`create events of room version ${rules.id} must not have a room_id`);
  } else if (typeof event.room_id !== 'string' || !event.room_id.startsWith('!')) {
    fail('room_id must be a string starting with "!"');
  }
  checkEventRefs(event.prev_events, 'prev_events', rules);
  checkEventRefs(event.auth_events, 'auth_events', rules);
}

/**
 * Walks `event`, with `unsigned` in place of its own `unsigned` member
 * (none if undefined), iteratively: fails if it nests deeper than
 * {@link MAX_EVENT_DEPTH} levels, or if its Canonical JSON is certainly
 * more than `maxBytes` bytes. That lower bound counts each string's quotes
 * and UTF-16 length (a unit is at least a byte of UTF-8, an escape more),
 * each member's key, quotes and colon, each container's brackets and
 * commas, and a byte for any other value: so it passes `maxBytes` before
 * `maxBytes` values are visited, and a body far too large is refused after
 * that much work, before anything is encoded. A part recorded in `spans`
 * counts its recorded length and height, unwalked.
 */
export function checkNestingAndSize(
  event: JsonObject,
  unsigned: JsonValue | undefined,
  maxBytes: number,
  spans: CanonicalSpans | undefined,
): void {
  const containers: object[] = [event];
  const levels: number[] = [1];
  let bytes = 0;
  const tooDeep = () => fail(`the event nests deeper than ${MAX_EVENT_DEPTH} levels`);
  // A value's share of the bound; containers not recorded are counted when
  // popped.
  const measure = (v: unknown, level: number): number => {
    if (typeof v === 'string') return v.length + 2;
    if (typeof v !== 'object' || v === null || v instanceof JsonFloat) return 1;
    const recorded = spans === undefined ? undefined : recordedExtent(spans, v);
    if (recorded === undefined) {
      containers.push(v);
      levels.push(level + 1);
      return 0;
    }
    if (level + recorded.height > MAX_EVENT_DEPTH) tooDeep();
    return recorded.length;
  };
  for (;;) {
    const container = containers.pop();
    if (container === undefined) return;
    const level = levels.pop() as number;
    if (level > MAX_EVENT_DEPTH) tooDeep();
    let members = 0;
    if (Array.isArray(container)) {
      for (const v of container) bytes += measure(v, level);
      members = container.length;
    } else {
      const object = container as Record<string, unknown>;
      for (const key of Object.keys(object)) {
        let v = object[key];
        if (level === 1 && key === 'unsigned') {
          if (unsigned === undefined) continue;
          v = unsigned;
        }
        bytes += key.length + 3 + measure(v, level);
        members++;
        if (bytes > maxBytes) break;
      }
    }
    bytes += 2 + Math.max(members - 1, 0);
    if (bytes > maxBytes) fail(`the event is more than ${maxBytes} bytes`);
  }
}

/**
 * Checks that an event has the keys and types its room version requires of
 * every event: what must hold before an event ID can be computed at all
 * (the parser's part of {@link events!checkPduFormat}, without limits).
 *
 * @param event - the event.
 * @param rules - the room version's rules.
 * @returns `{ valid: true, pdu }` (`pdu` is `event`), or
 *   `{ valid: false, reason }`. Never throws.
 */
export function checkEventSchema(event: JsonObject, rules: RoomVersionRules): FormatCheck {
  try {
    checkNestingAndSize(event, event.unsigned, Number.POSITIVE_INFINITY, undefined);
    checkSchema(event, rules, event.unsigned);
    return { valid: true, pdu: event as Pdu };
  } catch (e) {
    return { valid: false, reason: e instanceof Error ? e.message : String(e) };
  }
}

/**
 * Refuses an event that nests deeper than {@link MAX_EVENT_DEPTH} levels,
 * one Synapse cannot build, whatever else is right or wrong with it: for
 * code that takes events as values (its `unsigned` as given) and must not
 * answer about one Synapse could never hold. Iterative.
 *
 * @param event - the event.
 * @throws {@link InvalidInputError} `M_BAD_JSON`.
 */
export function assertEventNesting(event: JsonObject): void {
  try {
    checkNestingAndSize(event, event.unsigned, Number.POSITIVE_INFINITY, undefined);
  } catch (e) {
    throw e instanceof Malformed ? new InvalidInputError('M_BAD_JSON', e.message, { cause: e }) : e;
  }
}

/**
 * {@link checkEventSchema} for code that cannot go on without an event:
 * afterwards `event` is a {@link Pdu}.
 *
 * @param event - the event.
 * @param rules - the room version's rules.
 * @throws {@link InvalidInputError} `M_BAD_JSON` with the reason.
 */
export function assertEventSchema(event: JsonObject, rules: RoomVersionRules): asserts event is Pdu {
  const schema = checkEventSchema(event, rules);
  if (!schema.valid)
    throw new InvalidInputError('M_BAD_JSON', `Not an event of room version ${rules.id}: ${schema.reason}`);
}
