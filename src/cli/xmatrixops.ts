/**
 * The X-Matrix request authentication conformance operations:
 * `parse_x_matrix`, `sign_request`, `verify_request`.
 *
 * @module
 */

import { isJsonObject, type JsonObject, type JsonValue } from '../canonicaljson/value.js';
import { InvalidInputError } from '../errors.js';
import { parseServerName } from '../federation/identifiers.js';
import { checkRequestSignature, parseXMatrix, signRequest } from '../federation/xmatrix.js';
import type { EventKeyLookup, EventVerifyKey } from '../hashing/signatures.js';
import { decodeBase64 } from '../signing/base64.js';
import { PUBLIC_KEY_LENGTH, SEED_LENGTH, SigningKey, verifyKeyFromBytes } from '../signing/ed25519.js';
import type { Operation } from './ops.js';
import { bytesField, objectField, type Request, stringField } from './request.js';

/** The optional `content`: any JSON value; `null` is no body, as for Synapse. */
function content(req: Request): { content?: JsonValue } {
  const v = req.content;
  return v === undefined || v === null ? {} : { content: v };
}

/** `authorization`: one header value or a list of them, in order. */
function authorization(req: Request): string | string[] {
  const v = req.authorization;
  if (v === undefined) throw new InvalidInputError('M_MISSING_PARAM', 'Missing field "authorization"');
  if (typeof v === 'string') return v;
  if (!Array.isArray(v) || !v.every((h) => typeof h === 'string')) {
    throw new InvalidInputError('M_INVALID_PARAM', 'Field "authorization" must be a string or a list of strings');
  }
  return v as string[];
}

/** The optional `now_ts` (an integer); default the current time. */
function nowTs(req: Request): number {
  const v = req.now_ts;
  if (v === undefined) return Date.now();
  if (typeof v === 'bigint') return Number(v);
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    throw new InvalidInputError('M_INVALID_PARAM', 'Field "now_ts" must be an integer');
  }
  return v;
}

/**
 * The protocol's `keys` map, `{server: {key_id: key}}`, each key either
 * unpadded Base64 (valid forever) or `{key, valid_until_ts}`. Every entry
 * must be well formed; entries under key IDs that are not `ed25519:…` are
 * then left out, as Synapse's key fetchers leave out keys of algorithms
 * they do not support.
 */
function keyLookup(keys: JsonObject): EventKeyLookup {
  const found = new Map<string, Map<string, EventVerifyKey>>();
  for (const server of Object.keys(keys)) {
    const forServer = keys[server];
    if (!isJsonObject(forServer)) {
      throw new InvalidInputError('M_INVALID_PARAM', `"keys" of ${server} is not an object`);
    }
    const serverKeys = new Map<string, EventVerifyKey>();
    found.set(server, serverKeys);
    for (const keyId of Object.keys(forServer)) {
      const entry = forServer[keyId];
      const b64 = isJsonObject(entry) ? entry.key : entry;
      const until = isJsonObject(entry) ? entry.valid_until_ts : undefined;
      if (typeof b64 !== 'string' || (until !== undefined && typeof until !== 'number' && typeof until !== 'bigint')) {
        throw new InvalidInputError('M_INVALID_PARAM', `Malformed key ${keyId} of ${server} in "keys"`);
      }
      const bytes = decodeBase64(b64);
      if (bytes.length !== PUBLIC_KEY_LENGTH) {
        throw new InvalidInputError('M_INVALID_PARAM', `Key ${keyId} of ${server} is not 32 bytes`);
      }
      if (!keyId.startsWith('ed25519:')) continue;
      serverKeys.set(keyId, {
        key: verifyKeyFromBytes(bytes),
        validUntilTs: until === undefined ? Number.POSITIVE_INFINITY : Number(until),
      });
    }
  }
  return (server, keyId) => found.get(server)?.get(keyId);
}

/** The operations by name. */
export const xMatrixOperations: ReadonlyArray<readonly [string, Operation]> = [
  [
    'parse_x_matrix',
    (req) => {
      const auth = parseXMatrix(stringField(req, 'header'));
      return { origin: auth.origin, destination: auth.destination ?? null, key: auth.key, sig: auth.sig };
    },
  ],
  [
    'sign_request',
    (req) => {
      const method = stringField(req, 'method');
      const uri = stringField(req, 'uri');
      const origin = stringField(req, 'origin');
      const destination = stringField(req, 'destination');
      const keyId = stringField(req, 'key_id');
      stringField(req, 'seed');
      const key = new SigningKey(bytesField(req, 'seed', SEED_LENGTH));
      return { authorization: signRequest({ method, uri, origin, destination, ...content(req) }, keyId, key) };
    },
  ],
  [
    'verify_request',
    (req) => {
      const method = stringField(req, 'method');
      const uri = stringField(req, 'uri');
      const destination = stringField(req, 'destination');
      const headers = authorization(req);
      const keys = objectField(req, 'keys');
      const now = nowTs(req);
      parseServerName(destination);
      const lookup = keyLookup(keys);
      const check = checkRequestSignature(
        { method, uri, destination, authorization: headers, ...content(req) },
        lookup,
        { now },
      );
      return check.valid ? { valid: true, origin: check.origin } : { valid: false, origin: null, reason: check.reason };
    },
  ],
];
