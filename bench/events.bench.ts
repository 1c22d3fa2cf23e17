/**
 * The full check of an incoming PDU, in events per second on one core:
 * parse the bytes, check the format, check the signature of the sender's
 * server on the redacted event, check the content hash, compute the event
 * ID (reference hash). Compared, in the same run, with bare signature
 * verification of the same events (the floor: Ed25519 must run anyway) and
 * with the same pipeline written naively (`JSON.parse`, a non-strict
 * canonical encoder, tweetnacl).
 */

import { createHash, createPublicKey, verify } from 'node:crypto';
import anotherJson from 'another-json';
import { CanonicalSpans, encodeCanonicalJsonBytes, type JsonObject, parseJson } from 'matrix-serverlib/canonicaljson';
import { buildEvent, checkIncomingPdu, redactEvent } from 'matrix-serverlib/hashing';
import { getRoomVersion } from 'matrix-serverlib/roomversions';
import { decodeBase64, SigningKey, signedBytes } from 'matrix-serverlib/signing';
import nacl from 'tweetnacl';
import { corpus } from './corpus.ts';
import { atMostTimes, runBenchmark, section, type TargetResult } from './harness.ts';

const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const SEED = Buffer.from('4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb', 'hex');
const rules = getRoomVersion('10');

/** The naive pipeline: what one writes with JSON.parse and tweetnacl. */
function naiveCheck(text: string, pk: Uint8Array): string {
  const event = JSON.parse(text) as Record<string, unknown>;
  const { unsigned: _u, signatures, hashes, ...rest } = event;
  const contentHash = createHash('sha256').update(anotherJson.stringify(rest)).digest('base64').replace(/=+$/, '');
  if (contentHash !== (hashes as { sha256: string }).sha256) throw new Error('naive: content hash');
  const redacted = redactEvent(event as JsonObject, rules) as Record<string, unknown>;
  const { signatures: _s, ...unsignedRedacted } = redacted;
  const sig = Buffer.from(
    (signatures as Record<string, Record<string, string>>)['bench.example']?.['ed25519:b'] ?? '',
    'base64',
  );
  const msg = Buffer.from(anotherJson.stringify(unsignedRedacted));
  if (!nacl.sign.detached.verify(msg, sig, pk)) throw new Error('naive: signature');
  return `$${createHash('sha256').update(msg).digest('base64url')}`;
}

function pipelineBenchmark(label: string, proto: JsonObject, key: SigningKey): TargetResult[] {
  const { unsigned: _u, signatures: _s, hashes: _h, ...clean } = proto;
  const { event } = buildEvent({ ...clean, sender: '@bench:bench.example' }, rules, {
    serverName: 'bench.example',
    keyId: 'ed25519:b',
    key,
    now: () => 1.7e12,
  });
  const bytes = encodeCanonicalJsonBytes(event);
  const text = bytes.toString('utf8');
  const pk = key.publicKey;
  const lookup = () => ({ key: key.verifyKey, validUntilTs: Number.POSITIVE_INFINITY });
  const keyObject = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, pk]), format: 'der', type: 'spki' });
  const redactedBytes = signedBytes(redactEvent(event, rules));
  const sig = decodeBase64(
    (event.signatures as Record<string, Record<string, string>>)['bench.example']?.['ed25519:b'] ?? '',
  );

  // As a server receives an event: the parse records the parts that arrived
  // as Canonical JSON, and the check hashes those as they arrived.
  const ours = (): string => {
    const spans = new CanonicalSpans();
    const parsed = parseJson(bytes, { numbers: rules.json.numbers, canonicalSpans: spans }) as JsonObject;
    const check = checkIncomingPdu(parsed, rules, lookup, { canonicalSpans: spans });
    if (check.result !== 'valid') throw new Error(`ours: ${check.result}`);
    return check.eventId;
  };
  // The same check encoding every part again (as for text that was not
  // Canonical JSON).
  const oursEncoding = (): string => {
    const parsed = parseJson(bytes, { numbers: rules.json.numbers }) as JsonObject;
    const check = checkIncomingPdu(parsed, rules, lookup);
    if (check.result !== 'valid') throw new Error(`ours: ${check.result}`);
    return check.eventId;
  };
  // Every candidate must accept the event and agree on its ID.
  const id = ours();
  if (oursEncoding() !== id || naiveCheck(text, pk) !== id || !verify(null, redactedBytes, keyObject, sig)) {
    throw new Error(`${label}: the pipelines disagree`);
  }

  return runBenchmark({
    title: `incoming PDU · ${label}`,
    note: `${bytes.length} bytes on the wire, ${redactedBytes.length} bytes signed (redacted); events/s`,
    baseline: 'bare verify',
    bytesPerOp: bytes.length,
    candidates: [
      { name: 'bare verify', fn: () => verify(null, redactedBytes, keyObject, sig) },
      { name: 'ours, full check', fn: ours },
      { name: 'ours, encoding every part', fn: oursEncoding },
      { name: 'naive (JSON.parse + tweetnacl)', fn: () => naiveCheck(text, pk) },
    ],
    targets: [atMostTimes('ours, full check', 'bare verify', 1.25)],
  });
}

/** Runs the incoming-PDU suite; returns how the targets fared. */
export function runEventsBench(): TargetResult[] {
  const key = new SigningKey(SEED);
  section('Incoming PDU: parse + format + content hash + redaction + signature + event ID (room version 10)');
  console.log('bare verify: node:crypto Ed25519 verify of the precomputed signed bytes, cached key object.');
  console.log('Target: the rest of the pipeline costs less than 25% on top of the signature.');
  const results: TargetResult[] = [];
  for (const { name, texts } of corpus()) {
    const first = texts[0];
    if (first === undefined) continue;
    results.push(...pipelineBenchmark(name, JSON.parse(first) as JsonObject, key));
  }
  return results;
}
