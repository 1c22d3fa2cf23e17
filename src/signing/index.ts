/**
 * Signed JSON: unpadded Base64, Ed25519 keys and key IDs, signing and
 * verifying JSON objects with libsodium's acceptance rules.
 *
 * Guides: [Parsing, encoding and signing JSON](../../docs/canonical-json-and-signing.md);
 * [Verifying signatures with libsodium](../../docs/verification-backends.md).
 *
 * @example
 * ```ts
 * import { SigningKey, signJson, verifyJson } from 'matrix-serverlib/signing';
 * const key = SigningKey.generate();
 * const signed = signJson({ hello: 'world' }, 'example.org', 'ed25519:1', key);
 * verifyJson(signed, 'example.org', 'ed25519:1', key.verifyKey); // { valid: true }
 * ```
 *
 * Verification runs on libsodium when the optional peer dependency
 * `sodium-native` is installed, else on `node:crypto`, with the same
 * verdicts: {@link verifyBackend} says which, {@link setVerifyBackend}
 * chooses.
 *
 * @module signing
 */

export { InvalidInputError, MatrixServerlibError } from '../errors.js';
export {
  setVerifyBackend,
  type VerifyBackend,
  type VerifyBackendChoice,
  verifyBackend,
} from './backend.js';
export { decodeBase64, encodeBase64, encodeBase64Url } from './base64.js';
export {
  PUBLIC_KEY_LENGTH,
  SEED_LENGTH,
  SIGNATURE_LENGTH,
  SigningKey,
  VerifyKey,
  verifyKeyFromBytes,
} from './ed25519.js';
export { isKeyId, type KeyId, parseKeyId } from './keyid.js';
export { type SignatureCheck, type SignedJsonOptions, signedBytes, signJson, verifyJson } from './signedjson.js';
