/**
 * Small helpers for reading untrusted JSON in this area.
 *
 * @module
 */

import type { JsonObject, JsonValue } from '../canonicaljson/value.js';

/**
 * Signed JSON of key responses is encoded as Synapse's signedjson encodes
 * it: whatever numbers the object holds, floats and big integers included.
 */
export const SIGNED_JSON = { numbers: 'legacy' } as const;

/** The own member `key` of `obj`, never one inherited from a prototype. */
export function own(obj: JsonObject, key: string): JsonValue | undefined {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}
