/**
 * The conformance operations (CONFORMANCE.md): each takes a request object
 * and returns the result fields, or throws {@link InvalidInputError}.
 *
 * @module
 */

import { encodeCanonicalJson } from '../canonicaljson/encode.js';
import { parseJson } from '../canonicaljson/parse.js';
import type { JsonObject } from '../canonicaljson/value.js';
import { encodeBase64 } from '../signing/base64.js';
import { PUBLIC_KEY_LENGTH, SEED_LENGTH, SigningKey, verifyKeyFromBytes } from '../signing/ed25519.js';
import { signJson, verifyJson } from '../signing/signedjson.js';
import { bytesField, objectField, type Request, roomVersionField, stringField } from './request.js';

/** An operation: request in, result fields out. */
export type Operation = (req: Request) => JsonObject;

// Signed JSON is room-version agnostic in the spec and in Synapse's
// signedjson, which encodes whatever numbers the object holds: so do we.
const SIGNED_JSON = { numbers: 'legacy' } as const;

/** The operations by name. */
export const operations: ReadonlyMap<string, Operation> = new Map<string, Operation>([
  [
    'canonical_json',
    (req) => {
      const numbers = roomVersionField(req, '12').json.numbers;
      const value = parseJson(stringField(req, 'json'), { numbers });
      return { canonical: encodeCanonicalJson(value, { numbers }) };
    },
  ],
  [
    'public_key',
    (req) => ({ public_key: encodeBase64(new SigningKey(bytesField(req, 'seed', SEED_LENGTH)).publicKey) }),
  ],
  [
    'sign_json',
    (req) => {
      const key = new SigningKey(bytesField(req, 'seed', SEED_LENGTH));
      const signed = signJson(
        objectField(req, 'object'),
        stringField(req, 'server_name'),
        stringField(req, 'key_id'),
        key,
        SIGNED_JSON,
      );
      return { signed };
    },
  ],
  [
    'verify_json',
    (req) => {
      const key = verifyKeyFromBytes(bytesField(req, 'public_key', PUBLIC_KEY_LENGTH));
      const check = verifyJson(
        objectField(req, 'object'),
        stringField(req, 'server_name'),
        stringField(req, 'key_id'),
        key,
        SIGNED_JSON,
      );
      return check.valid ? { valid: true } : { valid: false, reason: check.reason };
    },
  ],
]);
