/**
 * Content hashes and reference hashes (spec: server-server API, "Calculating
 * the content hash for an event" and "Calculating the reference hash for an
 * event").
 *
 * @module
 */

import type { ParseOptions } from '../canonicaljson/parse.js';
import type { CanonicalSpans } from '../canonicaljson/spans.js';
import type { JsonObject } from '../canonicaljson/value.js';
import type { RoomVersionRules } from '../roomversions/rules.js';
import { PduEncoding } from './encoding.js';
import { assertEventSchema } from './schema.js';

/**
 * The SHA-256 content hash of an event: the hash of its Canonical JSON
 * without `unsigned`, `signatures` and `hashes` (and, as Synapse does, the
 * old internal keys `age_ts`, `outlier` and `destinations`).
 *
 * @param event - the event.
 * @param rules - the room version's rules (they decide the number rules).
 * @param canonicalSpans - the record made when the event was parsed, if any
 *   ({@link ParseOptions.canonicalSpans}): parts received as Canonical JSON
 *   are hashed as received.
 * @returns the 32-byte digest; `hashes.sha256` holds it in unpadded Base64.
 * @throws {@link InvalidInputError} `M_BAD_JSON` if the event cannot be
 *   encoded as Canonical JSON under the version's rules.
 */
export function contentHash(event: JsonObject, rules: RoomVersionRules, canonicalSpans?: CanonicalSpans): Buffer {
  return new PduEncoding(event, rules, canonicalSpans).contentHash();
}

/**
 * The SHA-256 reference hash of an event: the hash of the Canonical JSON of
 * its redacted form without `signatures` and `unsigned`. Event IDs from v3
 * and v12 room IDs are made from it.
 *
 * @param event - the event.
 * @param rules - the room version's rules.
 * @param canonicalSpans - the record made when the event was parsed, if any
 *   ({@link ParseOptions.canonicalSpans}): parts received as Canonical JSON
 *   are hashed as received.
 * @returns the 32-byte digest.
 * @throws {@link InvalidInputError} `M_BAD_JSON` if the event lacks the keys
 *   and types every event of the version has (see {@link assertEventSchema}),
 *   or cannot be encoded as Canonical JSON under the version's rules.
 */
export function referenceHash(event: JsonObject, rules: RoomVersionRules, canonicalSpans?: CanonicalSpans): Buffer {
  assertEventSchema(event, rules);
  return new PduEncoding(event, rules, canonicalSpans).referenceHash();
}
