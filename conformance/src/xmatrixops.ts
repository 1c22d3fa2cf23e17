/**
 * The X-Matrix request authentication conformance operations:
 * `parse_x_matrix`, `sign_request`, `verify_request`.
 *
 * @module
 */

import { InvalidInputError, type JsonValue } from 'matrix-serverlib/canonicaljson';
import { checkRequestSignature, parseXMatrix, signRequest } from 'matrix-serverlib/federation';
import { parseServerName } from 'matrix-serverlib/identifiers';
import { SEED_LENGTH, SigningKey } from 'matrix-serverlib/signing';
import type { Operation } from './ops.js';
import { bytesField, keysField, objectField, type Request, stringField } from './request.js';

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
      // `keys` must be an object before anything else is read, as in the oracle.
      objectField(req, 'keys');
      const now = nowTs(req);
      parseServerName(destination);
      const lookup = keysField(req);
      const check = checkRequestSignature(
        { method, uri, destination, authorization: headers, ...content(req) },
        lookup,
        { now },
      );
      return check.valid ? { valid: true, origin: check.origin } : { valid: false, origin: null, reason: check.reason };
    },
  ],
];
