/**
 * Format checks on a PDU received over federation: the checks that need no
 * other event (spec: server-server API, "Checks performed on receipt of a
 * PDU", step 1, and the PDU definitions of each room version).
 *
 * What is checked, and in what form, follows Synapse, since events it
 * accepts and we refuse (or the reverse) split a room: required keys and
 * their types per event format, depth in [0, 2^53-1], Canonical JSON
 * numbers from v6, the 65,536-byte limit on the event and the 255 limits
 * (in code points and in UTF-8 bytes) on its identifiers, the counts of
 * `prev_events` (20) and `auth_events` (10), and v12's rules for the create
 * event and room IDs.
 *
 * @module
 */

import type { DEFAULT_MAX_DEPTH } from '../canonicaljson/parse.js';
import { type CanonicalSpans, recordedExtent } from '../canonicaljson/spans.js';
import { isJsonObject, JsonFloat, type JsonObject, type JsonValue } from '../canonicaljson/value.js';
import { InvalidInputError } from '../errors.js';
import {
  createEventIdOfRoom,
  domainOf,
  isValidEventId,
  isValidRoomId,
  isValidUserId,
} from '../identifiers/identifiers.js';
import type { RoomVersionRules } from '../roomversions/rules.js';
import { PduEncoding } from './encoding.js';
import { type RequiredSignature, requiredSignatures } from './signers.js';

/** The outcome of {@link checkPduFormat}. */
export type FormatCheck =
  | {
      /** The event is well-formed for its room version. */
      readonly valid: true;
    }
  | {
      /** The event is malformed and must be rejected. */
      readonly valid: false;
      /** What is wrong, naming the key. */
      readonly reason: string;
    };

/** Largest event, as Canonical JSON bytes (spec: "Size limits"). */
export const MAX_PDU_BYTES = 65_536;
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
/** Largest `sender`, `room_id`, `state_key`, `type` and `event_id`. */
export const MAX_IDENTIFIER_LENGTH = 255;
/** Most `prev_events` an event may list. */
export const MAX_PREV_EVENTS = 20;
/** Most `auth_events` an event may list. */
export const MAX_AUTH_EVENTS = 10;
const MAX_SAFE = 9007199254740991;
const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

class Malformed extends Error {}

function fail(reason: string): never {
  throw new Malformed(reason);
}

const isInteger = (v: JsonValue | undefined): boolean =>
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

function checkLength(value: JsonValue | undefined, key: string): void {
  // A UTF-16 unit is at most three UTF-8 bytes and at least part of a code
  // point: short strings are within both limits without counting.
  if (typeof value !== 'string' || value.length * 3 <= MAX_IDENTIFIER_LENGTH) return;
  // Synapse checks both, code points in every version and UTF-8 bytes too.
  let codePoints = 0;
  for (const _ of value) codePoints++;
  if (codePoints > MAX_IDENTIFIER_LENGTH) fail(`${key} is longer than ${MAX_IDENTIFIER_LENGTH} characters`);
  if (Buffer.byteLength(value, 'utf8') > MAX_IDENTIFIER_LENGTH)
    fail(`${key} is longer than ${MAX_IDENTIFIER_LENGTH} bytes`);
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
function checkSchema(event: JsonObject, rules: RoomVersionRules, unsigned: JsonValue | undefined): void {
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
 * `unsigned` as Synapse keeps it: cut down to `invite_room_state` and
 * `knock_room_state` of member events and, when the receive time is known,
 * `age_ts` = receive time − `age`.
 */
function unsignedAsSynapseKeepsIt(event: JsonObject, receivedTs: number | undefined): JsonObject {
  const unsigned: JsonObject = {};
  const received = event.unsigned;
  if (received === undefined) return unsigned;
  if (!isJsonObject(received)) fail('unsigned must be an object');
  if (event.type === 'm.room.member') {
    for (const key of ['invite_room_state', 'knock_room_state']) {
      if (received[key] !== undefined) unsigned[key] = received[key] as JsonValue;
    }
  }
  const age = received.age;
  if (receivedTs !== undefined && typeof age === 'number' && Number.isInteger(age)) unsigned.age_ts = receivedTs - age;
  return unsigned;
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
function checkNestingAndSize(
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

/** The spec's identifier grammars, for {@link FormatOptions.identifiers} `spec`. */
function checkIdentifiers(event: JsonObject, rules: RoomVersionRules): void {
  const user = (v: JsonValue | undefined, what: string) => {
    if (typeof v !== 'string' || !isValidUserId(v)) fail(`${what} is not a valid user ID`);
  };
  const eventRef = (v: JsonValue | undefined, what: string) => {
    if (typeof v !== 'string' || !isValidEventId(v, rules)) {
      fail(`${what} is not a valid event ID for room version ${rules.id}`);
    }
  };
  user(event.sender, 'sender');
  if (typeof event.room_id === 'string' && !isValidRoomId(event.room_id, rules)) {
    fail(`room_id is not a valid room ID for room version ${rules.id}`);
  }
  if (rules.eventFormat.eventIdFormat === 'opaque') eventRef(event.event_id, 'event_id');
  for (const key of ['prev_events', 'auth_events']) {
    for (const ref of event[key] as JsonValue[]) eventRef(Array.isArray(ref) ? ref[0] : ref, `an entry of ${key}`);
  }
  const content = event.content as JsonObject;
  if (event.type === 'm.room.member') {
    user(event.state_key, 'the state_key of a member event');
    if (content.join_authorised_via_users_server !== undefined) {
      user(content.join_authorised_via_users_server, 'join_authorised_via_users_server');
    }
  }
  if (event.type === 'm.room.redaction') {
    const redacts = rules.redaction.v11 ? content.redacts : event.redacts;
    if (redacts !== undefined) eventRef(redacts, 'redacts');
  }
}

/** Throws {@link Malformed}; returns the signatures the event needs. */
function check(
  event: JsonObject,
  rules: RoomVersionRules,
  encoding: PduEncoding,
  options: FormatOptions,
): RequiredSignature[] {
  const receivedTs = options.receivedTs;
  if (event.type === undefined) fail('type is missing');
  if (event.depth === undefined) fail('depth is missing');
  const unsigned = unsignedAsSynapseKeepsIt(event, receivedTs);
  if (!isInteger(event.depth)) fail('depth must be an integer');
  const depth = event.depth as number | bigint;
  if (depth < 0) fail('depth must not be negative');
  if (depth > MAX_SAFE) fail('depth must not exceed 2^53 - 1');
  // Before anything is encoded: nesting Synapse cannot build, and a body
  // too large by a bound that costs at most the limit's worth of values.
  checkNestingAndSize(event, unsigned, MAX_PDU_BYTES, encoding.canonicalSpans);

  // Encoding under the version's number rules refuses floats and integers
  // outside the safe range from v6, and unpaired surrogates in any version.
  let size: number;
  try {
    size = encoding.storedSize(unsigned);
  } catch (e) {
    // An event received as Canonical JSON is measured through its redaction,
    // which cannot be made without `type` or `content`: name the missing
    // key, as the measure of an event encoded again would let the schema do.
    checkSchema(event, rules, unsigned);
    fail(e instanceof Error ? e.message : String(e));
  }

  const isCreate = event.type === 'm.room.create' && event.state_key === '';
  if (rules.eventFormat.roomIdIsCreateEventHash && typeof event.room_id === 'string' && event.room_id !== '') {
    const createId = createEventIdOfRoom(event.room_id);
    if (Array.isArray(event.auth_events) && event.auth_events.includes(createId)) {
      fail('auth_events must not contain the create event');
    }
  }
  checkSchema(event, rules, unsigned);

  const prev = event.prev_events as JsonValue[];
  const auth = event.auth_events as JsonValue[];
  if (prev.length > MAX_PREV_EVENTS) fail(`more than ${MAX_PREV_EVENTS} prev_events`);
  // From v12 the create event is an implicit auth event of every other event.
  const implicit = rules.eventFormat.roomIdIsCreateEventHash && !isCreate ? 1 : 0;
  if (auth.length + implicit > MAX_AUTH_EVENTS) fail(`more than ${MAX_AUTH_EVENTS} auth_events`);
  if (options.identifiers === 'spec') checkIdentifiers(event, rules);

  if (size > MAX_PDU_BYTES) fail(`the event is ${size} bytes, more than ${MAX_PDU_BYTES}`);
  checkLength(event.sender, 'sender');
  checkLength(event.room_id, 'room_id');
  if (event.state_key !== undefined) checkLength(event.state_key, 'state_key');
  checkLength(event.type, 'type');
  checkLength(event.event_id, 'event_id');

  // Every server that must sign has to appear in `signatures` at all (the
  // signatures themselves are checked later, with keys).
  const signatures = isJsonObject(event.signatures) ? event.signatures : {};
  let needs: RequiredSignature[];
  try {
    needs = requiredSignatures(event, rules);
  } catch (e) {
    fail(e instanceof Error ? e.message : String(e));
  }
  const servers = needs.map((n) => n.serverName);
  // v1–v2: the event ID's server must appear even when the sender is exempt
  // (invites from third-party invites), as Synapse requires at this stage.
  if (rules.signatures.eventIdServerSigns) servers.push(domainOf(event.event_id, 'event_id'));
  for (const serverName of servers) {
    if (signatures[serverName] === undefined) fail(`the event is not signed by ${serverName}`);
  }
  return needs;
}

/**
 * Checks that an event has the keys and types its room version requires of
 * every event: what must hold before an event ID can be computed at all
 * (the parser's part of {@link checkPduFormat}, without limits).
 *
 * @param event - the event.
 * @param rules - the room version's rules.
 * @returns `{ valid: true }`, or `{ valid: false, reason }`. Never throws.
 */
export function checkEventSchema(event: JsonObject, rules: RoomVersionRules): FormatCheck {
  try {
    checkNestingAndSize(event, event.unsigned, Number.POSITIVE_INFINITY, undefined);
    checkSchema(event, rules, event.unsigned);
    return { valid: true };
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
    throw e instanceof Malformed ? new InvalidInputError('M_BAD_JSON', e.message) : e;
  }
}

/**
 * {@link checkEventSchema} for code that cannot go on without an event.
 *
 * @param event - the event.
 * @param rules - the room version's rules.
 * @throws {@link InvalidInputError} `M_BAD_JSON` with the reason.
 */
export function assertEventSchema(event: JsonObject, rules: RoomVersionRules): void {
  const schema = checkEventSchema(event, rules);
  if (!schema.valid)
    throw new InvalidInputError('M_BAD_JSON', `Not an event of room version ${rules.id}: ${schema.reason}`);
}

/** Options for {@link checkPduFormat}. */
export interface FormatOptions {
  /**
   * When the event was received, in milliseconds since the epoch. Synapse
   * then stores `unsigned.age_ts` = this − `unsigned.age`, which counts
   * towards the size limit; without it `age` is dropped, as Synapse does for
   * events it fetched itself.
   */
  readonly receivedTs?: number;
  /** The event's encoding, to share with other checks of the same event. */
  readonly encoding?: PduEncoding;
  /**
   * `synapse` (the default) checks identifiers only as far as Synapse does
   * (a server part where a signature depends on it), so that we accept what
   * the network accepts. `spec` also holds `sender`, `room_id`, event IDs
   * in `event_id`, `prev_events`, `auth_events` and `redacts`, member state
   * keys and `join_authorised_via_users_server` to the spec's grammars for
   * the room version (historical user IDs allowed): for events we create,
   * and for tools that want to know whether an event follows the spec.
   */
  readonly identifiers?: 'synapse' | 'spec';
}

/**
 * Checks that a PDU is well-formed for its room version, before its
 * signatures and auth rules are looked at.
 *
 * @param event - the event as received (parsed with the version's number
 *   rules, or with legacy rules: strict versions are re-checked here).
 * @param rules - the room version's rules.
 * @param options - the receive time, and an encoding to share.
 * @returns `{ valid: true }`, or `{ valid: false, reason }` naming the
 *   first problem found. Never throws.
 */
export function checkPduFormat(event: JsonObject, rules: RoomVersionRules, options: FormatOptions = {}): FormatCheck {
  const checked = checkFormatFor(event, rules, options.encoding ?? new PduEncoding(event, rules), options);
  return typeof checked === 'string' ? { valid: false, reason: checked } : { valid: true };
}

/**
 * {@link checkPduFormat} for {@link checkIncomingPdu}: the reason, or the
 * signatures the event needs (the schema is checked, so the signature check
 * need not do it again).
 */
export function checkFormatFor(
  event: JsonObject,
  rules: RoomVersionRules,
  encoding: PduEncoding,
  options: FormatOptions,
): RequiredSignature[] | string {
  try {
    return check(event, rules, encoding, options);
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}
