/**
 * Ed25519 signing and verification on `node:crypto`, accepting exactly the
 * signatures libsodium accepts.
 *
 * Which signatures count as valid is consensus-critical: if we accept an
 * event Synapse (PyNaCl, so libsodium) refuses, or the reverse, a room splits.
 * OpenSSL (behind `node:crypto`) and libsodium both verify with the
 * cofactorless equation and compare encodings of R, but libsodium also
 * refuses, before any arithmetic:
 * - S not below the group order L (malleated signatures, S + L);
 * - R of small order (one of the blacklisted encodings, sign bit ignored);
 * - a public key whose encoding is not canonical (y ≥ p) or of small order.
 * We make those checks here and leave the equation to OpenSSL.
 *
 * When `sodium-native` is installed, libsodium itself verifies messages
 * up to 32 KiB instead (it makes the same checks), about twice as fast:
 * see `backend.ts`.
 *
 * OpenSSL 3.5 (Node 24) was found to refuse small-order keys and R by
 * itself on every Ed25519 edge-case vector; OpenSSL 3.0 (Node 20) accepts
 * them, so the checks stay.
 *
 * @module
 */

import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign, verify } from 'node:crypto';
import { InvalidInputError } from '../errors.js';
import { SODIUM_MAX_MESSAGE, sodiumBinding } from './backend.js';
import { encodeBase64 } from './base64.js';

/**
 * Node's `util.inspect.custom`: a registered symbol, named here so that the
 * declarations of the keys need no `node:util` types (they must work for a
 * TypeScript project without `@types/node`).
 */
const INSPECT: unique symbol = Symbol.for('nodejs.util.inspect.custom');

/** Length of an Ed25519 seed, in bytes. */
export const SEED_LENGTH = 32;
/** Length of an Ed25519 public key, in bytes. */
export const PUBLIC_KEY_LENGTH = 32;
/** Length of an Ed25519 signature, in bytes. */
export const SIGNATURE_LENGTH = 64;

// DER prefixes that wrap a raw 32-byte key for node:crypto (RFC 8410).
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** The group order L = 2^252 + 27742317777372353535851937790883648493, little-endian. */
const L = Uint8Array.from(Buffer.from('edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010', 'hex'));

/**
 * Encodings of the points of order 1, 2, 4 and 8 (and their non-canonical
 * aliases) that libsodium's `ge25519_has_small_order` refuses, compared with
 * the sign bit of the last byte cleared.
 */
const SMALL_ORDER = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
].map((h) => Uint8Array.from(Buffer.from(h, 'hex')));

/** Whether a point encoding (bytes `off`..`off+31` of `b`) is of small order. */
function hasSmallOrder(b: Uint8Array, off: number): boolean {
  outer: for (const bad of SMALL_ORDER) {
    for (let i = 0; i < 31; i++) if (b[off + i] !== bad[i]) continue outer;
    if (((b[off + 31] as number) & 0x7f) === bad[31]) return true;
  }
  return false;
}

/** Whether the encoding's y coordinate is below p = 2^255 - 19. */
function isCanonicalPoint(b: Uint8Array): boolean {
  if (((b[31] as number) & 0x7f) !== 0x7f) return true;
  for (let i = 30; i > 0; i--) if (b[i] !== 0xff) return true;
  return (b[0] as number) < 0xed;
}

/** Whether S (signature bytes 32..63, little-endian) is below L. */
function isCanonicalScalar(sig: Uint8Array): boolean {
  for (let i = 31; i >= 0; i--) {
    const s = sig[32 + i] as number;
    const l = L[i] as number;
    if (s !== l) return s < l;
  }
  return false;
}

/**
 * The `node:crypto` key object of each {@link VerifyKey} once built, `null`
 * for a key libsodium would not use. Kept beside the class rather than in a
 * private field so that `VerifyKey` stays structurally typed (two copies of
 * the library accept each other's keys).
 */
const keyObjects = new WeakMap<VerifyKey, KeyObject | null>();

function keyObjectOf(key: VerifyKey): KeyObject | null {
  let built = keyObjects.get(key);
  if (built === undefined) {
    const bytes = key.bytes;
    built = null;
    if (isCanonicalPoint(bytes) && !hasSmallOrder(bytes, 0)) {
      try {
        built = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, bytes]), format: 'der', type: 'spki' });
      } catch {
        // Not a point on the curve: libsodium's decoding fails too.
      }
    }
    keyObjects.set(key, built);
  }
  return built;
}

/**
 * The copy of each {@link VerifyKey}'s bytes that libsodium verifies with,
 * taken when the key first verifies on the `sodium` backend, as the
 * `node:crypto` key object is on the `node` backend: a caller who later
 * writes into `key.bytes` changes the verdicts of neither.
 */
const sodiumKeys = new WeakMap<VerifyKey, Uint8Array>();

function sodiumKeyOf(key: VerifyKey): Uint8Array {
  let bytes = sodiumKeys.get(key);
  if (bytes === undefined) {
    bytes = Uint8Array.from(key.bytes);
    sodiumKeys.set(key, bytes);
  }
  return bytes;
}

/**
 * An Ed25519 public key checked against libsodium's rules, with the
 * `node:crypto` key object built once, when the key first verifies. Build
 * it once per key and reuse it: creating key objects costs more than
 * verifying.
 *
 * Which implementation verifies is chosen for the whole process by
 * {@link setVerifyBackend}; both accept exactly what libsodium accepts.
 *
 * The checks and the key object wait for the first use because a key
 * response may list thousands of keys of which one signs anything: built
 * eagerly, 12,000 listed keys cost 0.7 s of CPU at every check of the
 * response (issue 14).
 */
export class VerifyKey {
  /** The 32 raw public key bytes. */
  readonly bytes: Uint8Array;

  /**
   * @param bytes - the 32-byte public key.
   * @throws {@link InvalidInputError} `M_INVALID_PARAM` if not 32 bytes.
   */
  constructor(bytes: Uint8Array) {
    if (bytes.length !== PUBLIC_KEY_LENGTH) {
      throw new InvalidInputError('M_INVALID_PARAM', `Ed25519 public keys are 32 bytes, not ${bytes.length}`);
    }
    this.bytes = Uint8Array.from(bytes);
  }

  /**
   * Whether libsodium would use this key at all. Keys that are not canonical
   * or of small order verify nothing. Decided by this library's checks and
   * `node:crypto`'s decoding of the point, whichever backend verifies.
   * Never throws.
   */
  get usable(): boolean {
    return keyObjectOf(this) !== null;
  }

  /**
   * Verifies an Ed25519 signature as libsodium's
   * `crypto_sign_verify_detached` does.
   *
   * @param message - the signed bytes.
   * @param signature - the signature; anything but 64 bytes is invalid.
   * @returns whether the signature is valid. Never throws.
   */
  verify(message: Uint8Array, signature: Uint8Array): boolean {
    if (signature.length !== SIGNATURE_LENGTH) return false;
    const sodium = sodiumBinding();
    if (sodium !== null && message.length <= SODIUM_MAX_MESSAGE) {
      return sodium.crypto_sign_verify_detached(signature, message, sodiumKeyOf(this));
    }
    const key = keyObjectOf(this);
    if (key === null) return false;
    if (!isCanonicalScalar(signature) || hasSmallOrder(signature, 0)) return false;
    return verify(null, message, key, signature);
  }
}

/**
 * A bounded cache of {@link VerifyKey}s by raw key bytes, so that verifying
 * with a key given as bytes or Base64 does not rebuild the key object.
 */
const verifyKeyCache = new Map<string, VerifyKey>();
const VERIFY_KEY_CACHE_SIZE = 4096;

/**
 * Returns the {@link VerifyKey} for raw public key bytes, from a bounded
 * cache (the oldest entries are dropped past 4096 keys).
 *
 * @param bytes - the 32-byte public key.
 * @throws {@link InvalidInputError} `M_INVALID_PARAM` if not 32 bytes.
 */
export function verifyKeyFromBytes(bytes: Uint8Array): VerifyKey {
  const id = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  let key = verifyKeyCache.get(id);
  if (key === undefined) {
    key = new VerifyKey(bytes);
    if (verifyKeyCache.size >= VERIFY_KEY_CACHE_SIZE) {
      const oldest = verifyKeyCache.keys().next().value;
      if (oldest !== undefined) verifyKeyCache.delete(oldest);
    }
    verifyKeyCache.set(id, key);
  }
  return key;
}

/** What {@link SigningKey} shows in place of its seed when printed or serialised. */
const REDACTED = '[redacted]';

/**
 * An Ed25519 signing key: the public key and, kept private, the seed and a
 * ready `node:crypto` private key object.
 *
 * The seed is the server's private key: whoever reads it can sign events
 * and requests as the server, and Matrix has no way to revoke a key other
 * servers have fetched. So it is a private field, and printing the key (`console.log`,
 * `util.inspect`, `util.format`, an error's `cause`) or serialising it
 * (`JSON.stringify`) shows the public key and `[redacted]`; only
 * {@link SigningKey.exportSeed} gives the seed out.
 */
export class SigningKey {
  /** The matching public key. */
  readonly verifyKey: VerifyKey;
  readonly #seed: Uint8Array;
  readonly #privateKey: KeyObject;

  /**
   * @param seed - the 32-byte seed (copied: later changes to the array do
   *   not change the key).
   * @throws {@link InvalidInputError} `M_INVALID_PARAM` if not 32 bytes
   *   (the message gives the length, never the bytes).
   */
  constructor(seed: Uint8Array) {
    if (seed.length !== SEED_LENGTH) {
      throw new InvalidInputError('M_INVALID_PARAM', `Ed25519 seeds are 32 bytes, not ${seed.length}`);
    }
    this.#seed = Uint8Array.from(seed);
    this.#privateKey = createPrivateKey({
      key: Buffer.concat([PKCS8_PREFIX, this.#seed]),
      format: 'der',
      type: 'pkcs8',
    });
    const spki = createPublicKey(this.#privateKey).export({ format: 'der', type: 'spki' });
    this.verifyKey = new VerifyKey(spki.subarray(SPKI_PREFIX.length));
  }

  /** Generates a new random signing key. Never throws. */
  static generate(): SigningKey {
    const { privateKey } = generateKeyPairSync('ed25519');
    const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' });
    return new SigningKey(pkcs8.subarray(PKCS8_PREFIX.length));
  }

  /** The 32-byte public key. Never throws. */
  get publicKey(): Uint8Array {
    return this.verifyKey.bytes;
  }

  /**
   * Signs bytes.
   *
   * @param message - the bytes to sign.
   * @returns the 64-byte signature. Never throws.
   */
  sign(message: Uint8Array): Uint8Array {
    return sign(null, message, this.#privateKey);
  }

  /**
   * A copy of the 32-byte seed, for storing the key: a Synapse signing key
   * file holds `ed25519 <version> <unpadded Base64 of the seed>`, and
   * `new SigningKey(seed)` rebuilds the key from it.
   *
   * **Warning:** the seed is the private key. Whoever reads it can sign
   * events and requests as this server, and Matrix has no way to revoke a
   * key other servers have fetched. Write it only to storage that only the
   * server can read (a file of mode 0600), never to logs, error messages,
   * responses or telemetry.
   *
   * @returns a new array each call (changing it does not change the key).
   *   Never throws.
   */
  exportSeed(): Uint8Array {
    return Uint8Array.from(this.#seed);
  }

  /**
   * What `JSON.stringify` writes for the key: the public key (unpadded
   * Base64) and `seed: "[redacted]"`, never the seed.
   *
   * @returns `{ publicKey, seed: "[redacted]" }`. Never throws.
   */
  toJSON(): {
    /** The public key, unpadded Base64. */
    publicKey: string;
    /** Always `"[redacted]"`. */
    seed: string;
  } {
    return { publicKey: encodeBase64(this.publicKey), seed: REDACTED };
  }

  /**
   * What `util.inspect` (and so `console.log` and `util.format`) shows for
   * the key: its public key, and the seed as `[redacted]`.
   *
   * @returns `SigningKey { publicKey: '…', seed: [redacted] }`. Never throws.
   */
  [INSPECT](): string {
    return `SigningKey { publicKey: '${encodeBase64(this.publicKey)}', seed: ${REDACTED} }`;
  }
}
