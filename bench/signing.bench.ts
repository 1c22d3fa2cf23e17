/**
 * Ed25519 verification benchmarks: throughput of one signature check on the
 * same message bytes across implementations, and the full `verifyJson` of
 * a small event (Canonical JSON + Base64 + verify) for information.
 */

import { createPublicKey, verify } from 'node:crypto';
import type { JsonObject } from 'matrix-serverlib/canonicaljson';
import { SigningKey, signedBytes, signJson, VerifyKey, verifyJson, verifyKeyFromBytes } from 'matrix-serverlib/signing';
import sodium from 'sodium-native';
import nacl from 'tweetnacl';
import { corpus } from './corpus.ts';
import { atLeastFraction, runBenchmark, section, type TargetResult } from './harness.ts';

// DER prefix wrapping a raw Ed25519 public key as SPKI (RFC 8410).
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** A fixed seed, so every run signs the same bytes with the same key. */
const SEED = Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex');

function verifyBenchmark(label: string, event: JsonObject, key: SigningKey): TargetResult[] {
  const msg = signedBytes(event);
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
  const checks = [
    verify(null, msg, keyObject, sig),
    verifyKey.verify(msg, sig),
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
      { name: 'ours', fn: () => verifyKey.verify(msg, sig) },
      { name: 'ours, verifyKeyFromBytes', fn: () => verifyKeyFromBytes(pk).verify(msg, sig) },
      { name: 'tweetnacl', fn: () => nacl.sign.detached.verify(msg, sig, pk) },
      { name: 'sodium-native', fn: () => sodium.crypto_sign_verify_detached(sig, msg, pk) },
    ],
    targets: [atLeastFraction('ours', 'node:crypto', 0.9)],
  });
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

  section('Ed25519 verify: ours = VerifyKey.verify (built once; libsodium checks + node:crypto)');
  console.log('node:crypto: crypto.verify(null, msg, keyObject, sig) with a cached KeyObject, no extra checks.');
  console.log('All candidates were checked to accept the signature; libsodium signs identically.');
  const results: TargetResult[] = [];
  results.push(...verifyBenchmark('small message event', small, key));
  results.push(...verifyBenchmark(groups[2]?.name ?? 'member list', large, key));
  results.push(...verifyJsonBenchmark(small, key));
  return results;
}
