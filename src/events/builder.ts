/**
 * Building a finished PDU from a proto-event: fill in what the sending
 * server decides (timestamp, v1–v2 event ID), hash, sign, and check that
 * the result is a well-formed PDU of the room version before anyone sees it.
 *
 * @module
 */

import { randomBytes } from 'node:crypto';
import type { JsonObject } from '../canonicaljson/value.js';
import { InvalidInputError } from '../errors.js';
import { eventId } from '../hashing/ids.js';
import type { Pdu } from '../hashing/schema.js';
import type { EventIdString } from '../identifiers/identifiers.js';
import type { RoomVersionRules } from '../roomversions/rules.js';
import { encodeBase64Url } from '../signing/base64.js';
import type { SigningKey } from '../signing/ed25519.js';
import { checkPduFormat } from './format.js';
import { signEvent } from './signatures.js';

/** What the sending server supplies to {@link buildEvent}. */
export interface BuildOptions {
  /** Our server name: the signing entity, and the domain of v1–v2 event IDs. */
  readonly serverName: string;
  /** Our key ID, e.g. `ed25519:a_1`. */
  readonly keyId: string;
  /** Our signing key. */
  readonly key: SigningKey;
  /** The clock for `origin_server_ts`; default `Date.now`. */
  readonly now?: () => number;
}

/** A finished event and its ID. */
export interface BuiltEvent {
  /** The signed PDU, ready to send. */
  readonly event: Pdu;
  /**
   * Its event ID: `$…`, as the event is held to the spec's grammars (a
   * received v1–v2 event's own `event_id` need not be, as Synapse does not
   * hold it so).
   */
  readonly eventId: EventIdString;
}

/** Keys that only the signing step may set. */
const COMPUTED = ['hashes', 'signatures', 'unsigned'];

/**
 * Turns a proto-event into a signed PDU of the room version.
 *
 * The proto-event holds what the caller decides: `type`, `sender`,
 * `room_id` (none for a v12 create event), `state_key` for state events,
 * `content`, `prev_events`, `auth_events` (in the version's format: event
 * IDs, or `[event_id, hashes]` pairs in v1–v2) and `depth`. This adds
 * `origin_server_ts` if missing, a `$random:serverName` event ID in v1–v2 if
 * missing, the content hash and our signature. Any `hashes`, `signatures`
 * or `unsigned` in the proto-event are dropped: only signing sets them.
 *
 * @param proto - the proto-event; not modified.
 * @param rules - the room version's rules.
 * @param options - our server name, key and clock.
 * @returns the signed event and its ID.
 * @throws {@link InvalidInputError} `M_BAD_JSON` naming what is wrong if the
 *   result would not be a well-formed PDU of the version, identifiers held
 *   to the spec's grammars.
 */
export function buildEvent(proto: JsonObject, rules: RoomVersionRules, options: BuildOptions): BuiltEvent {
  const draft: JsonObject = { ...proto };
  for (const key of COMPUTED) delete draft[key];
  if (draft.origin_server_ts === undefined) draft.origin_server_ts = (options.now ?? Date.now)();
  if (rules.eventFormat.eventIdFormat === 'opaque' && draft.event_id === undefined) {
    draft.event_id = `$${encodeBase64Url(randomBytes(18))}:${options.serverName}`;
  }
  const event = signEvent(draft, rules, options.serverName, options.keyId, options.key);
  const format = checkPduFormat(event, rules, { identifiers: 'spec' });
  if (!format.valid) {
    throw new InvalidInputError('M_BAD_JSON', `The built event is not a valid PDU: ${format.reason}`);
  }
  // The format check held event_id (v1–v2) to the grammar; from v3 the ID is `$` and a hash.
  return { event: format.pdu, eventId: eventId(event, rules) as EventIdString };
}
