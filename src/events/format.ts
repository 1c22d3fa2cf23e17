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

import { encodeCanonicalJsonBytes } from '../canonicaljson/encode.js';
import type { CanonicalSpans } from '../canonicaljson/spans.js';
import { isJsonObject, type JsonObject, type JsonValue, setOwn } from '../canonicaljson/value.js';
import { checkNestingAndSize, checkSchema, type FormatCheck, fail, isInteger, type Pdu } from '../hashing/schema.js';
import {
  createEventIdOfRoom,
  domainOf,
  isValidEventId,
  isValidRoomId,
  isValidUserId,
} from '../identifiers/identifiers.js';
import type { RoomVersionRules } from '../roomversions/rules.js';
import { type RequiredSignature, requiredSignatures } from './signers.js';

/** Largest event, as Canonical JSON bytes (spec: "Size limits"). */
export const MAX_PDU_BYTES = 65_536;
/** Largest `sender`, `room_id`, `state_key`, `type` and `event_id`. */
export const MAX_IDENTIFIER_LENGTH = 255;
/** Most `prev_events` an event may list. */
export const MAX_PREV_EVENTS = 20;
/** Most `auth_events` an event may list. */
export const MAX_AUTH_EVENTS = 10;
const MAX_SAFE = 9007199254740991;

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

/**
 * How the format check measures an event: a received PDU's encoding (its
 * parts received as Canonical JSON measured as received), or
 * {@link plainMeasure}.
 */
export interface Measure {
  /** The record of the parse, whose parts the nesting bound takes unwalked. */
  readonly canonicalSpans: CanonicalSpans | undefined;
  /**
   * The size in bytes of the Canonical JSON of the event as Synapse stores
   * (and measures) it: `signatures` always present, `unsigned` replaced by
   * `unsigned`.
   */
  storedSize(unsigned: JsonObject): number;
}

/** The {@link Measure} of an event given as a value: its definition, encoded whole. */
function plainMeasure(event: JsonObject, rules: RoomVersionRules): Measure {
  return {
    canonicalSpans: undefined,
    storedSize(unsigned) {
      const stored: JsonObject = {};
      for (const key of Object.keys(event)) if (key !== 'unsigned') setOwn(stored, key, event[key] as JsonValue);
      // `null` is kept: only a missing member is stored as `{}`.
      if (stored.signatures === undefined) stored.signatures = {};
      stored.unsigned = unsigned;
      return encodeCanonicalJsonBytes(stored, { numbers: rules.json.numbers }).length;
    },
  };
}

/** Fails with the reason (see {@link fail}); returns the signatures the event needs. */
function check(
  event: JsonObject,
  rules: RoomVersionRules,
  measure: Measure,
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
  checkNestingAndSize(event, unsigned, MAX_PDU_BYTES, measure.canonicalSpans);

  // Encoding under the version's number rules refuses floats and integers
  // outside the safe range from v6, and unpaired surrogates in any version.
  let size: number;
  try {
    size = measure.storedSize(unsigned);
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

/** Options for {@link checkPduFormat}. */
export interface FormatOptions {
  /**
   * When the event was received, in milliseconds since the epoch. Synapse
   * then stores `unsigned.age_ts` = this − `unsigned.age`, which counts
   * towards the size limit; without it `age` is dropped, as Synapse does for
   * events it fetched itself.
   */
  readonly receivedTs?: number;
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
 * @param options - the receive time, and which identifier grammars apply.
 * @returns `{ valid: true, pdu }` (`pdu` is `event`, typed as a
 *   {@link Pdu}), or `{ valid: false, reason }` naming the first problem
 *   found. Never throws.
 */
export function checkPduFormat(event: JsonObject, rules: RoomVersionRules, options: FormatOptions = {}): FormatCheck {
  const checked = checkFormatFor(event, rules, plainMeasure(event, rules), options);
  return typeof checked === 'string' ? { valid: false, reason: checked } : { valid: true, pdu: checked.pdu };
}

/**
 * {@link checkPduFormat} measuring with `measure`: the reason, or the event
 * as a {@link Pdu} and the signatures it needs (the schema is checked, so
 * the signature check need not do it again).
 */
export function checkFormatFor(
  event: JsonObject,
  rules: RoomVersionRules,
  measure: Measure,
  options: FormatOptions,
): { readonly pdu: Pdu; readonly needs: RequiredSignature[] } | string {
  try {
    const needs = check(event, rules, measure, options);
    // The checks above hold the event to the schema.
    return { pdu: event as Pdu, needs };
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}
