/**
 * Ed25519 verification benchmarks: throughput of one signature check on the
 * same message bytes across implementations, and the full `verifyJson` of
 * a small event (Canonical JSON + Base64 + verify) for information.
 */

import { createPublicKey, verify } from 'node:crypto';
import type { JsonObject } from 'matrix-serverlib/canonicaljson';
import {
  SigningKey,
  setVerifyBackend,
  signedBytes,
  signJson,
  VerifyKey,
  verifyBackend,
  verifyJson,
  verifyKeyFromBytes,
} from 'matrix-serverlib/signing';
import sodium from 'sodium-native';
import nacl from 'tweetnacl';
import { corpus } from './corpus.ts';
import { atLeastFraction, type Measurement, measure, runBenchmark, section, type TargetResult } from './harness.ts';

// DER prefix wrapping a raw Ed25519 public key as SPKI (RFC 8410).
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** A fixed seed, so every run signs the same bytes with the same key. */
const SEED = Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex');

function verifyBenchmark(label: string, event: JsonObject, key: SigningKey): TargetResult[] {
  const msg = Buffer.from(signedBytes(event));
  const sig = Buffer.from(key.sign(msg));
  const pk = Buffer.from(key.publicKey);
  const keyObject = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, pk]), format: 'der', type: 'spki' });
  const verifyKey = new VerifyKey(pk);

  // Every candidate must accept the signature, and libsodium must produce the
  // same one from the same seed (Ed25519 signing is deterministic).
  const sodiumPk = Buffer.alloc(32);
  const sodiumSk = Buffer.alloc(64);
  sodium.crypto_sign_seed_keypair(sodiumPk, sodiumSk, SEED);
  const sodiumSig = Buffer.alloc(64);
  sodium.crypto_sign_detached(sodiumSig, msg, sodiumSk);
  if (!sodiumPk.equals(pk) || !sodiumSig.equals(sig)) throw new Error('libsodium derives a different key or signature');
  // The backend is process-wide: each op of ours chooses its own, which
  // costs a few comparisons beside a verification of 30 µs and more.
  const ours = (backend: 'node' | 'sodium') => () => {
    setVerifyBackend(backend);
    return verifyKey.verify(msg, sig);
  };
  const checks = [
    verify(null, msg, keyObject, sig),
    ours('node')(),
    ours('sodium')(),
    verifyKeyFromBytes(pk).verify(msg, sig),
    nacl.sign.detached.verify(msg, sig, pk),
    sodium.crypto_sign_verify_detached(sig, msg, pk),
  ];
  if (!checks.every((ok) => ok)) throw new Error(`${label}: a candidate rejects a valid signature`);

  return runBenchmark({
    title: `verify · ${label}`,
    note: `${msg.length} bytes signed; MB/s of message`,
    baseline: 'node:crypto',
    bytesPerOp: msg.length,
    candidates: [
      { name: 'node:crypto', fn: () => verify(null, msg, keyObject, sig) },
      { name: 'ours · node backend', fn: ours('node') },
      { name: 'ours · sodium backend', fn: ours('sodium') },
      {
        name: 'ours, verifyKeyFromBytes · node backend',
        fn: () => {
          setVerifyBackend('node');
          return verifyKeyFromBytes(pk).verify(msg, sig);
        },
      },
      { name: 'tweetnacl', fn: () => nacl.sign.detached.verify(msg, sig, pk) },
      { name: 'sodium-native', fn: () => sodium.crypto_sign_verify_detached(sig, msg, pk) },
    ],
    targets: [
      atLeastFraction('ours · node backend', 'node:crypto', 0.9),
      atLeastFraction('ours · sodium backend', 'sodium-native', 0.9),
    ],
  });
}

/**
 * Verification by message size: libsodium's curve arithmetic is faster,
 * OpenSSL's SHA-512 is, so libsodium's lead shrinks with the message; the
 * sodium backend hands messages past `SODIUM_MAX_MESSAGE` (32 KiB) to
 * node:crypto. Information, no target: the figures behind that bound.
 */
function sizeBenchmark(key: SigningKey): void {
  const pk = Buffer.from(key.publicKey);
  const keyObject = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, pk]), format: 'der', type: 'spki' });
  const verifyKey = new VerifyKey(pk);
  console.log('\nverify by message size (information, no target): verifications/s, and the ratio to node:crypto');
  console.log('  bytes       node:crypto   sodium-native  ratio   ours · sodium backend  ratio');
  for (const size of [4096, 16384, 32768, 49152, 65536, 262144]) {
    const msg = Buffer.alloc(size, 0x61);
    const sig = key.sign(msg);
    const [node, libsodium, ours] = measure([
      { name: 'node:crypto', fn: () => verify(null, msg, keyObject, sig) },
      { name: 'sodium-native', fn: () => sodium.crypto_sign_verify_detached(sig, msg, pk) },
      {
        name: 'ours · sodium backend',
        fn: () => {
          setVerifyBackend('sodium');
          return verifyKey.verify(msg, sig);
        },
      },
    ]) as [Measurement, Measurement, Measurement];
    const ratio = (m: Measurement) => `${(m.opsPerSec / node.opsPerSec).toFixed(2)}x`;
    console.log(
      `  ${String(size).padEnd(10)}${node.opsPerSec.toFixed(0).padStart(12)}${libsodium.opsPerSec.toFixed(0).padStart(16)}` +
        `${ratio(libsodium).padStart(7)}${ours.opsPerSec.toFixed(0).padStart(24)}${ratio(ours).padStart(7)}`,
    );
  }
}

function verifyJsonBenchmark(event: JsonObject, key: SigningKey): TargetResult[] {
  const signed = signJson(event, 'example.org', 'ed25519:bench', key);
  const verifyKey = key.verifyKey;
  const msg = signedBytes(signed);
  const sig = Buffer.from(key.sign(msg));
  const pk = Buffer.from(key.publicKey);
  const keyObject = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, pk]), format: 'der', type: 'spki' });
  if (!verifyJson(signed, 'example.org', 'ed25519:bench', verifyKey).valid || !verify(null, msg, keyObject, sig)) {
    throw new Error('verifyJson: the signed event does not verify');
  }
  return runBenchmark({
    title: 'verifyJson · small message event (information, no target)',
    note: `verifyJson = Canonical JSON of the event (${msg.length} bytes) + Base64 decoding + verify`,
    baseline: 'node:crypto, precomputed bytes',
    candidates: [
      { name: 'node:crypto, precomputed bytes', fn: () => verify(null, msg, keyObject, sig) },
      { name: 'verifyJson', fn: () => verifyJson(signed, 'example.org', 'ed25519:bench', verifyKey).valid },
    ],
  });
}

/** Runs the signing suite; returns how the targets fared. */
export function runSigningBench(): TargetResult[] {
  const key = new SigningKey(SEED);
  const groups = corpus();
  const first = (i: number): JsonObject => {
    const text = groups[i]?.texts[0];
    if (text === undefined) throw new Error(`corpus group ${i} is empty`);
    return JSON.parse(text) as JsonObject;
  };
  const small = first(0);
  const large = first(2);

  section('Ed25519 verify: ours = VerifyKey.verify (built once) on each backend');
  console.log('node backend: libsodium checks + node:crypto; sodium backend: libsodium through sodium-native.');
  console.log('node:crypto: crypto.verify(null, msg, keyObject, sig) with a cached KeyObject, no extra checks.');
  console.log('All candidates were checked to accept the signature; libsodium signs identically.');
  const results: TargetResult[] = [];
  results.push(...verifyBenchmark('small message event', small, key));
  results.push(...verifyBenchmark(groups[2]?.name ?? 'member list', large, key));
  sizeBenchmark(key);
  setVerifyBackend('auto');
  console.log(`\nverifyJson runs on the default backend, here ${verifyBackend()}.`);
  results.push(...verifyJsonBenchmark(small, key));
  return results;
}
