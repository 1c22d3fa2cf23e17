/**
 * Ed25519 signatures made by hand, for the points where verifiers differ:
 * public keys and R of mixed or small order, non-canonical encodings,
 * signatures that satisfy only the cofactored equation. The group
 * arithmetic is libsodium's (sodium-native's `crypto_core_ed25519_*`);
 * which signatures are valid is then judged by libsodium's
 * `crypto_sign_verify_detached`, the reference.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';

/** sodium-native: the reference verifier and the group arithmetic. */
export const sodium = createRequire(import.meta.url)('sodium-native') as {
  crypto_sign_verify_detached(sig: Uint8Array, msg: Uint8Array, pk: Uint8Array): boolean;
  crypto_sign_seed_keypair(pk: Uint8Array, sk: Uint8Array, seed: Uint8Array): void;
  crypto_sign_detached(sig: Uint8Array, msg: Uint8Array, sk: Uint8Array): void;
  crypto_scalarmult_ed25519_base_noclamp(q: Uint8Array, n: Uint8Array): void;
  crypto_core_ed25519_add(r: Uint8Array, p: Uint8Array, q: Uint8Array): void;
};

/** The order of the prime-order subgroup, L = 2^252 + 27742317777372353535851937790883648493. */
export const L = 2n ** 252n + 27742317777372353535851937790883648493n;

/** n as 32 bytes, little-endian. */
export function toLE(n: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = Number((n >> BigInt(8 * i)) & 0xffn);
  return out;
}

/** Little-endian bytes as a number. */
export function fromLE(b: Uint8Array): bigint {
  let n = 0n;
  for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i] as number);
  return n;
}

/** [k]B for a scalar 0 ≤ k < L. */
function base(k: bigint): Uint8Array {
  const q = toLE(1n);
  if (k !== 0n) sodium.crypto_scalarmult_ed25519_base_noclamp(q, toLE(k));
  return q;
}

function add(p: Uint8Array, q: Uint8Array): Uint8Array {
  const r = new Uint8Array(32);
  sodium.crypto_core_ed25519_add(r, p, q);
  return r;
}

/** The eight points of the torsion subgroup, [i]T for a T of order 8 ([0]T is the identity). */
export const TORSION: readonly Uint8Array[] = (() => {
  const t = Uint8Array.from(Buffer.from('26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05', 'hex'));
  const points = [toLE(1n), t];
  for (let i = 2; i < 8; i++) points.push(add(points[i - 1] as Uint8Array, t));
  return points;
})();

/** y from p to 2^255 - 1, with the sign bit clear or set (`top` 0x7f or 0xff): never canonical. */
const nonCanonical = (low: number, top: number) =>
  Uint8Array.from({ length: 32 }, (_, i) => (i === 0 ? low : i === 31 ? top : 0xff));

/** Encodings y ≥ p, sign bit clear and set: y - p from 0 to 18. */
export const NON_CANONICAL: readonly Uint8Array[] = Array.from({ length: 19 }, (_, k) => 0xed + k).flatMap((low) =>
  [0x7f, 0xff].map((top) => nonCanonical(low, top)),
);

/**
 * Every encoding of a small-order point: the torsion points, each with the
 * sign bit flipped, and y = p and y = p + 1 (the points y = 0 and y = 1).
 */
export const SMALL_ORDER: readonly Uint8Array[] = [
  ...TORSION,
  ...TORSION.map((p) => Uint8Array.from(p, (b, i) => (i === 31 ? b ^ 0x80 : b))),
  ...[0xed, 0xee].flatMap((low) => [0x7f, 0xff].map((top) => nonCanonical(low, top))),
];

/** h = SHA-512(R ‖ A ‖ message) mod L, R the first 32 bytes of `r`. */
export function challenge(r: Uint8Array, pk: Uint8Array, message: Uint8Array): bigint {
  return fromLE(createHash('sha512').update(r.subarray(0, 32)).update(pk).update(message).digest()) % L;
}

/** A public key and a signature on a message. */
export interface Forged {
  pk: Uint8Array;
  sig: Uint8Array;
}

/** A = [a]B + [i]T: of mixed order when a and i are not zero, of small order when a is. */
export function forgedKey(a: bigint, i: number): Uint8Array {
  return add(base(a), TORSION[i] as Uint8Array);
}

/**
 * A signature by {@link forgedKey}(a, i) = `pk` made by hand, so that R
 * may carry a torsion component: R = [r]B + [j]T, S = r + h·a mod L. The
 * cofactorless equation [S]B = R + [h]A (what libsodium and OpenSSL check)
 * then holds exactly when j + h·i ≡ 0 (mod 8) ({@link holds}); the
 * cofactored one always does. With r zero, R is of small order.
 */
export function forgeSignature(a: bigint, r: bigint, j: number, pk: Uint8Array, message: Uint8Array): Uint8Array {
  const R = add(base(r), TORSION[j] as Uint8Array);
  const sig = new Uint8Array(64);
  sig.set(R);
  sig.set(toLE((r + challenge(R, pk, message) * a) % L), 32);
  return sig;
}

/** {@link forgedKey} and {@link forgeSignature} on `message`. */
export function forge(a: bigint, r: bigint, i: number, j: number, message: Uint8Array): Forged {
  const pk = forgedKey(a, i);
  return { pk, sig: forgeSignature(a, r, j, pk, message) };
}

/** Whether the cofactorless equation holds for a {@link forge}d signature with torsion indices i and j. */
export function holds(f: Forged, i: number, j: number, message: Uint8Array): boolean {
  return (j + Number(challenge(f.sig, f.pk, message) % 8n) * i) % 8 === 0;
}
