/**
 * Signing and verifying JSON objects (spec: Appendices, "Signing JSON").
 *
 * The signed bytes are the Canonical JSON of the object without its
 * `signatures` and `unsigned` members; the signature goes under
 * `signatures[entity][key ID]` in unpadded Base64.
 *
 * @module
 */

import { encodeCanonicalJsonBytes } from '../canonicaljson/encode.js';
import type { NumberRules } from '../canonicaljson/parse.js';
import { isJsonObject, type JsonObject, type JsonValue, setOwn } from '../canonicaljson/value.js';
import { InvalidInputError } from '../errors.js';
import { decodeBase64, encodeBase64 } from './base64.js';
import type { SigningKey, VerifyKey } from './ed25519.js';
import { parseKeyId } from './keyid.js';

/** Options for {@link signJson}, {@link verifyJson} and {@link signedBytes}. */
export interface SignedJsonOptions {
  /**
   * Number rules for the Canonical JSON that is signed; default `strict`.
   * Use `legacy` for events of room versions 1–5.
   */
  numbers?: NumberRules;
}

/**
 * The bytes a signature on `object` covers: its Canonical JSON without
 * `signatures` and `unsigned`.
 *
 * @param object - a JSON object.
 * @param options - number rules.
 * @throws {@link InvalidInputError} `M_BAD_JSON` if the object cannot be
 *   encoded under the rules.
 */
export function signedBytes(object: JsonObject, options: SignedJsonOptions = {}): Uint8Array {
  const rest: JsonObject = {};
  for (const key of Object.keys(object)) {
    if (key !== 'signatures' && key !== 'unsigned') setOwn(rest, key, object[key] as JsonValue);
  }
  return encodeCanonicalJsonBytes(rest, options);
}

/**
 * Signs a JSON object, returning a copy with the signature added under
 * `signatures[entity][keyId]`. Existing signatures (of other entities or
 * keys) are kept; `unsigned` is kept but not signed.
 *
 * @param object - the object to sign; it is not modified.
 * @param entity - the signing entity, usually our server name.
 * @param keyId - the key identifier, e.g. `ed25519:a_1`.
 * @param key - the signing key.
 * @param options - number rules.
 * @throws {@link InvalidInputError} `M_INVALID_PARAM` for a malformed key
 *   ID or `signatures` member; `M_BAD_JSON` if the object cannot be encoded.
 */
export function signJson<T extends JsonObject>(
  object: T,
  entity: string,
  keyId: string,
  key: SigningKey,
  options: SignedJsonOptions = {},
): T {
  parseKeyId(keyId);
  const existing = object.signatures;
  if (existing !== undefined && !isJsonObject(existing)) {
    throw new InvalidInputError('M_INVALID_PARAM', 'The object\'s "signatures" member is not an object');
  }
  const mine = existing?.[entity];
  if (mine !== undefined && !isJsonObject(mine)) {
    throw new InvalidInputError(
      'M_INVALID_PARAM',
      `The object's signatures for ${JSON.stringify(entity)} are not an object`,
    );
  }
  const signature = encodeBase64(key.sign(signedBytes(object, options)));
  const entitySignatures: JsonObject = { ...mine };
  setOwn(entitySignatures, keyId, signature);
  const signatures: JsonObject = { ...existing };
  setOwn(signatures, entity, entitySignatures);
  const out: JsonObject = {};
  for (const k of Object.keys(object)) setOwn(out, k, object[k] as JsonValue);
  out.signatures = signatures;
  return out as T;
}

/** The outcome of {@link verifyJson}: valid, or not with the reason. */
export type SignatureCheck =
  | {
      /** The signature is present and valid. */
      valid: true;
    }
  | {
      /** The signature is missing, malformed or wrong. */
      valid: false;
      /** Why, in a sentence. */
      reason: string;
    };

/**
 * Checks an entity's signature on a JSON object, following the spec's
 * "Checking for a Signature" and accepting exactly what Synapse accepts:
 * Base64 decoded leniently, Ed25519 verified with libsodium's rules.
 *
 * @param object - the signed object.
 * @param entity - whose signature to check.
 * @param keyId - which of its keys.
 * @param key - the public key for `keyId`.
 * @param options - number rules.
 * @returns `{ valid: true }`, or `{ valid: false, reason }` when the
 *   signature is missing, malformed or wrong, or the object cannot be
 *   encoded under the rules. Never throws.
 */
export function verifyJson(
  object: JsonObject,
  entity: string,
  keyId: string,
  key: VerifyKey,
  options: SignedJsonOptions = {},
): SignatureCheck {
  const signatures = object.signatures;
  if (!isJsonObject(signatures)) return { valid: false, reason: 'The object has no signatures' };
  const mine = signatures[entity];
  const encoded = isJsonObject(mine) ? mine[keyId] : undefined;
  if (encoded === undefined) {
    return { valid: false, reason: `No signature from ${entity} with key ${keyId}` };
  }
  if (typeof encoded !== 'string') return { valid: false, reason: `The signature from ${entity} is not a string` };
  let signature: Uint8Array;
  let message: Uint8Array;
  try {
    signature = decodeBase64(encoded);
    message = signedBytes(object, options);
  } catch (e) {
    return { valid: false, reason: e instanceof InvalidInputError ? e.message : String(e) };
  }
  if (!key.verify(message, signature)) {
    return { valid: false, reason: `The signature from ${entity} with key ${keyId} does not match` };
  }
  return { valid: true };
}
