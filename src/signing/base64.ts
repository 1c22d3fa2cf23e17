/**
 * Unpadded Base64 (spec: Appendices, "Unpadded Base64").
 *
 * Encoding is strict: the spec's alphabet, no padding. Decoding follows what
 * Synapse accepts (Python's `unpaddedbase64.decode_base64`, which pads by
 * length and calls `base64.b64decode` in its non-validating mode): both
 * alphabets, padded or not, trailing bits ignored (the spec's own example
 * signing seed has non-zero trailing bits), characters outside the alphabet
 * skipped. Signatures and keys from remote servers are decoded this way
 * because refusing what Synapse accepts would split a room.
 *
 * @module
 */

import { InvalidInputError } from '../errors.js';

/**
 * Encodes bytes as unpadded standard Base64. Never throws.
 *
 * @param bytes - any bytes.
 */
export function encodeBase64(bytes: Uint8Array): string {
  const s = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  return stripPadding(s);
}

/**
 * Encodes bytes as unpadded URL-safe Base64 (RFC 4648 §5), as used for
 * event IDs from room version 4. Never throws.
 *
 * @param bytes - any bytes.
 */
export function encodeBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

function stripPadding(s: string): string {
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 0x3d) end--;
  return end === s.length ? s : s.slice(0, end);
}

/** Sextet value of each ASCII code; 64 for '=', 255 for anything else. */
const SEXTET = new Uint8Array(256).fill(255);
for (let i = 0; i < 64; i++) {
  SEXTET['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.charCodeAt(i)] = i;
}
SEXTET[0x2d] = 62; // '-' (URL-safe)
SEXTET[0x5f] = 63; // '_' (URL-safe)
SEXTET[0x3d] = 64; // '='

function invalid(message: string): InvalidInputError {
  return new InvalidInputError('M_INVALID_PARAM', message);
}

/**
 * Decodes Base64 the way Synapse does: standard or URL-safe, padded or
 * unpadded, non-zero trailing bits ignored, characters outside the alphabet
 * skipped.
 *
 * @param input - the Base64 text.
 * @returns the decoded bytes.
 * @throws {@link InvalidInputError} `M_INVALID_PARAM` if the input has a
 *   character outside ASCII, or its data characters cannot form whole bytes
 *   (one more than a multiple of four, or padding that does not fit).
 */
export function decodeBase64(input: string): Uint8Array {
  // Clean unpadded input (the usual case) decodes the same natively: one
  // alphabet, no junk, no padding, a length that is not 1 mod 4. Node
  // ignores trailing bits as Python does.
  if (input.length % 4 !== 1 && CLEAN.test(input)) {
    const b = Buffer.from(input, input.includes('-') || input.includes('_') ? 'base64url' : 'base64');
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  }
  return decodeLikePython(input);
}

/** Unpadded text in one alphabet, nothing else. */
const CLEAN = /^(?:[A-Za-z0-9+/]*|[A-Za-z0-9_-]*)$/;

function decodeLikePython(input: string): Uint8Array {
  // unpaddedbase64 appends '=' to make the whole length (junk included) a
  // multiple of four, or three '=' when it is one more than a multiple.
  const padded = (3 - ((input.length + 3) % 4)) as 0 | 1 | 2 | 3;
  const total = input.length + padded;
  const out = new Uint8Array(Math.floor((total * 3) / 4));
  let n = 0;
  let quad = 0;
  let left = 0;
  let pads = 0;
  for (let i = 0; i < total; i++) {
    const c = i < input.length ? input.charCodeAt(i) : 0x3d;
    if (c > 0x7f) throw invalid('Base64 text contains a character outside ASCII');
    const v = SEXTET[c] as number;
    if (v === 64) {
      // Padding ends the data once it completes a quantum; elsewhere it is
      // skipped (binascii's non-strict rules).
      if (quad >= 2 && quad + ++pads >= 4) return out.subarray(0, n);
      continue;
    }
    if (v === 255) continue;
    pads = 0;
    // Each character completes the byte it can, as binascii does, so a
    // quantum cut short by padding still yields its whole bytes.
    switch (quad) {
      case 0:
        left = v;
        quad = 1;
        break;
      case 1:
        out[n++] = (left << 2) | (v >> 4);
        left = v & 0x0f;
        quad = 2;
        break;
      case 2:
        out[n++] = ((left << 4) | (v >> 2)) & 0xff;
        left = v & 0x03;
        quad = 3;
        break;
      default:
        out[n++] = ((left << 6) | v) & 0xff;
        quad = 0;
    }
  }
  if (quad === 1) throw invalid('Base64 text has one data character more than a multiple of four');
  if (quad !== 0) throw invalid('Base64 text has incorrect padding');
  return out.subarray(0, n);
}
