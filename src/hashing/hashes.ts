/**
 * Content hashes and reference hashes (spec: server-server API, "Calculating
 * the content hash for an event" and "Calculating the reference hash for an
 * event"), as their definitions say: SHA-256 of the Canonical JSON of the
 * event less some keys. These are the plain definitions, used for every
 * event given as a value; the checks of a received PDU take a faster path
 * held equal to them (`parsePdu` in `matrix-serverlib/events`).
 *
 * @module
 */

import { hash } from 'node:crypto';
import { encodeCanonicalJsonBytes } from '../canonicaljson/encode.js';
import { type JsonObject, type JsonValue, setOwn } from '../canonicaljson/value.js';
import type { RoomVersionRules } from '../roomversions/rules.js';
import { signedBytes } from '../signing/signedjson.js';
import { redactEvent } from './redact.js';
import { assertEventSchema } from './schema.js';

/**
 * Top-level keys left out of the content hash. The spec names `unsigned`,
 * `signatures` and `hashes`; Synapse also drops `age_ts`, `outlier` and
 * `destinations` (old internal fields), and events whose hash Synapse accepts
 * must hash the same here, or a room splits over them. None of the three
 * survives redaction, so the signatures and event ID never cover them.
 */
export const NOT_IN_CONTENT_HASH: ReadonlySet<string> = new Set([
  'unsigned',
  'signatures',
  'hashes',
  'age_ts',
  'outlier',
  'destinations',
]);

/** SHA-256. */
function sha256(bytes: Uint8Array): Uint8Array {
  return hash('sha256', bytes, 'buffer');
}

/**
 * The SHA-256 content hash of an event: the hash of its Canonical JSON
 * without `unsigned`, `signatures` and `hashes` (and, as Synapse does, the
 * old internal keys `age_ts`, `outlier` and `destinations`).
 *
 * @param event - the event.
 * @param rules - the room version's rules (they decide the number rules).
 * @returns the 32-byte digest; `hashes.sha256` holds it in unpadded Base64.
 * @throws {@link InvalidInputError} `M_BAD_JSON` if the event cannot be
 *   encoded as Canonical JSON under the version's rules.
 */
export function contentHash(event: JsonObject, rules: RoomVersionRules): Uint8Array {
  const covered: JsonObject = {};
  for (const key of Object.keys(event)) {
    if (!NOT_IN_CONTENT_HASH.has(key)) setOwn(covered, key, event[key] as JsonValue);
  }
  return sha256(encodeCanonicalJsonBytes(covered, { numbers: rules.json.numbers }));
}

/**
 * The SHA-256 reference hash of an event: the hash of the Canonical JSON of
 * its redacted form without `signatures` and `unsigned` (the bytes its
 * signatures cover). Event IDs from v3 and v12 room IDs are made from it.
 *
 * @param event - the event.
 * @param rules - the room version's rules.
 * @returns the 32-byte digest.
 * @throws {@link InvalidInputError} `M_BAD_JSON` if the event lacks the keys
 *   and types every event of the version has (see {@link assertEventSchema}),
 *   or cannot be encoded as Canonical JSON under the version's rules.
 */
export function referenceHash(event: JsonObject, rules: RoomVersionRules): Uint8Array {
  assertEventSchema(event, rules);
  return sha256(signedBytes(redactEvent(event, rules), { numbers: rules.json.numbers }));
}
