/**
 * Content hashes and reference hashes (spec: server-server API, "Calculating
 * the content hash for an event" and "Calculating the reference hash for an
 * event").
 *
 * @module
 */

import { createHash } from 'node:crypto';
import { encodeCanonicalJsonBytes } from '../canonicaljson/encode.js';
import type { JsonObject, JsonValue } from '../canonicaljson/value.js';
import { setOwn } from '../canonicaljson/value.js';
import type { RoomVersionRules } from '../roomversions/rules.js';
import { redactEvent } from './redact.js';

/**
 * Top-level keys left out of the content hash. The spec names `unsigned`,
 * `signatures` and `hashes`; Synapse also drops `age_ts`, `outlier` and
 * `destinations` (old internal fields), and events whose hash Synapse accepts
 * must hash the same here, or a room splits over them. None of the three
 * survives redaction, so the signatures and event ID never cover them.
 */
const NOT_IN_CONTENT_HASH = new Set(['unsigned', 'signatures', 'hashes', 'age_ts', 'outlier', 'destinations']);

function without(event: JsonObject, drop: ReadonlySet<string>): JsonObject {
  const out: JsonObject = {};
  for (const key of Object.keys(event)) if (!drop.has(key)) setOwn(out, key, event[key] as JsonValue);
  return out;
}

/**
 * The SHA-256 content hash of an event: the hash of its Canonical JSON
 * without `unsigned`, `signatures` and `hashes`.
 *
 * @param event - the event.
 * @param rules - the room version's rules (they decide the number rules).
 * @returns the 32-byte digest; `hashes.sha256` holds it in unpadded Base64.
 * @throws {@link InvalidInputError} `M_BAD_JSON` if the event cannot be
 *   encoded as Canonical JSON under the version's rules.
 */
export function contentHash(event: JsonObject, rules: RoomVersionRules): Buffer {
  const bytes = encodeCanonicalJsonBytes(without(event, NOT_IN_CONTENT_HASH), { numbers: rules.json.numbers });
  return createHash('sha256').update(bytes).digest();
}

const NOT_IN_REFERENCE_HASH = new Set(['signatures', 'unsigned']);

/**
 * The SHA-256 reference hash of an event: the hash of the Canonical JSON of
 * its redacted form without `signatures` and `unsigned`. Event IDs from v3
 * and v12 room IDs are made from it.
 *
 * @param event - the event.
 * @param rules - the room version's rules.
 * @returns the 32-byte digest.
 * @throws {@link InvalidInputError} `M_BAD_JSON` if the redacted event
 *   cannot be encoded as Canonical JSON under the version's rules.
 */
export function referenceHash(event: JsonObject, rules: RoomVersionRules): Buffer {
  const redacted = without(redactEvent(event, rules), NOT_IN_REFERENCE_HASH);
  const bytes = encodeCanonicalJsonBytes(redacted, { numbers: rules.json.numbers });
  return createHash('sha256').update(bytes).digest();
}
