/**
 * The server key conformance operations: `server_keys` and
 * `check_server_keys` (PROTOCOL.md).
 *
 * @module
 */

import { InvalidInputError, isJsonObject, type JsonObject, type JsonValue } from 'matrix-serverlib/canonicaljson';
import { checkServerKeys, type OldVerifyKey, serverKeysResponse } from 'matrix-serverlib/keys';
import {
  decodeBase64,
  encodeBase64,
  PUBLIC_KEY_LENGTH,
  parseKeyId,
  SEED_LENGTH,
  SigningKey,
  verifyKeyFromBytes,
} from 'matrix-serverlib/signing';
import type { Operation } from './ops.js';
import { bytesField, objectField, type Request, stringField } from './request.js';

function invalid(message: string): InvalidInputError {
  return new InvalidInputError('M_INVALID_PARAM', message);
}

/** A timestamp field: an integer in Canonical JSON's range. */
function timestamp(value: JsonValue | undefined, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw invalid(`${what} must be an integer in Canonical JSON's range`);
  }
  return value;
}

/** The optional `old_verify_keys`: `{key_id: {key, expired_ts}}`. */
function oldVerifyKeys(req: Request): Record<string, OldVerifyKey> {
  const old = req.old_verify_keys;
  const out: Record<string, OldVerifyKey> = {};
  if (old === undefined) return out;
  if (!isJsonObject(old)) throw invalid('Field "old_verify_keys" must be an object');
  for (const keyId of Object.keys(old)) {
    if (!keyId.startsWith('ed25519:')) throw invalid(`Old key ${keyId} is not an ed25519 key`);
    const entry = old[keyId];
    const b64 = isJsonObject(entry) && Object.hasOwn(entry, 'key') ? entry.key : undefined;
    if (typeof b64 !== 'string') throw invalid(`Old key ${keyId} has no "key" string`);
    const bytes = decodeBase64(b64);
    if (bytes.length !== PUBLIC_KEY_LENGTH) throw invalid(`Old key ${keyId} is not 32 bytes`);
    const expired = Object.hasOwn(entry as JsonObject, 'expired_ts') ? (entry as JsonObject).expired_ts : undefined;
    if (expired === undefined) throw invalid(`Old key ${keyId} has no expired_ts`);
    parseKeyId(keyId);
    Object.defineProperty(out, keyId, {
      value: { key: verifyKeyFromBytes(bytes), expiredTs: timestamp(expired, `expired_ts of ${keyId}`) },
      enumerable: true,
    });
  }
  return out;
}

/** An integer field of any size (`now_ts`). */
function integerField(req: Request, name: string): number | bigint {
  const v = req[name];
  if (v === undefined) throw new InvalidInputError('M_MISSING_PARAM', `Missing field "${name}"`);
  if (typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v))) return v;
  throw invalid(`Field "${name}" must be an integer`);
}

/** The operations by name. */
export const keyOperations: ReadonlyArray<readonly [string, Operation]> = [
  [
    'server_keys',
    (req) => {
      const serverName = stringField(req, 'server_name');
      const keyId = stringField(req, 'key_id');
      parseKeyId(keyId);
      const key = new SigningKey(bytesField(req, 'seed', SEED_LENGTH));
      if (req.valid_until_ts === undefined) {
        throw new InvalidInputError('M_MISSING_PARAM', 'Missing field "valid_until_ts"');
      }
      const validUntilTs = timestamp(req.valid_until_ts, 'Field "valid_until_ts"');
      const response = serverKeysResponse({
        serverName,
        keys: { [keyId]: key },
        oldVerifyKeys: oldVerifyKeys(req),
        validUntilTs,
      });
      return { response };
    },
  ],
  [
    'check_server_keys',
    (req) => {
      const serverName = stringField(req, 'server_name');
      const response = objectField(req, 'response');
      integerField(req, 'now_ts');
      const check = checkServerKeys(response, { serverName });
      if (!check.valid) return { valid: false, verify_keys: {}, reason: check.reason };
      // Each key's time exactly as the response has it (integers of 64 bits
      // may be beyond a double).
      const old = isJsonObject(response.old_verify_keys) ? response.old_verify_keys : {};
      const verifyKeys: JsonObject = {};
      for (const [keyId, k] of check.verifyKeys) {
        const until = k.old ? (old[keyId] as JsonObject).expired_ts : response.valid_until_ts;
        Object.defineProperty(verifyKeys, keyId, {
          value: { key: encodeBase64(k.key.bytes), valid_until_ts: until as JsonValue },
          enumerable: true,
        });
      }
      return { valid: true, verify_keys: verifyKeys, reason: '' };
    },
  ],
];
