/**
 * Federation requests, reported and not gated (issue 5): X-Matrix request
 * verification with a warm keyring (the keys already fetched and cached),
 * against bare Ed25519 verification of the same signature; and key lookups
 * from the keyring's cache, against a `Map` behind the same `await`.
 */

import { performance } from 'node:perf_hooks';
import { checkRequestSignature, type IncomingRequest, signRequest } from 'matrix-serverlib/federation';
import { Keyring, type KeyTransport, serverKeysResponse } from 'matrix-serverlib/keys';
import { SigningKey, signedBytes } from 'matrix-serverlib/signing';
import { runBenchmark, section, settings, type TargetResult } from './harness.ts';

const ORIGIN = 'origin.bench.example';
const US = 'us.bench.example';
const KEY_ID = 'ed25519:b';
const SEED = new Uint8Array(32).fill(5);

/** A transport that answers the origin's key request from memory. */
function transport(key: SigningKey): KeyTransport {
  const body = serverKeysResponse({
    serverName: ORIGIN,
    keys: { [KEY_ID]: key },
    validUntilTs: Date.now() + 86_400_000,
  });
  return { fetchJson: async () => body };
}

/** Awaited calls per second of each candidate, interleaved over rounds; the median round. */
async function measureAsync(candidates: Record<string, () => Promise<unknown>>): Promise<Record<string, number>> {
  const s = settings();
  const rounds: Record<string, number[]> = {};
  const names = Object.keys(candidates);
  for (let r = -1; r < s.rounds; r++) {
    for (const name of r % 2 === 0 ? names : [...names].reverse()) {
      const fn = candidates[name] as () => Promise<unknown>;
      let ops = 0;
      const start = performance.now();
      let now = start;
      do {
        for (let i = 0; i < 500; i++) await fn();
        ops += 500;
        now = performance.now();
      } while (now - start < (r < 0 ? s.warmupMs : s.roundMs));
      if (r >= 0) (rounds[name] ??= []).push(ops / ((now - start) / 1000));
    }
  }
  const out: Record<string, number> = {};
  for (const name of names) {
    const sorted = [...(rounds[name] as number[])].sort((a, b) => a - b);
    out[name] = sorted[Math.floor(sorted.length / 2)] as number;
  }
  return out;
}

/** Runs the federation suite; it reports figures and sets no targets. */
export async function runFederationBench(): Promise<TargetResult[]> {
  section('Federation requests: X-Matrix verification with a warm keyring, key lookups from cache');
  const key = new SigningKey(SEED);
  const keyring = new Keyring({ transport: transport(key) });
  const lookup = await keyring.eventKeyLookup([{ serverName: ORIGIN, keyIds: [KEY_ID] }]);
  const content = { pdus: [], edus: [{ edu_type: 'm.typing', content: { room_id: '!r:x', typing: true } }] };
  const uri = '/_matrix/federation/v1/send/1700000000000';
  const authorization = signRequest({ method: 'PUT', uri, origin: ORIGIN, destination: US, content }, KEY_ID, key);
  const request: IncomingRequest = { method: 'PUT', uri, destination: US, authorization, content };
  const message = signedBytes({ method: 'PUT', uri, origin: ORIGIN, destination: US, content });
  const signature = key.sign(message);
  const verifyKey = key.verifyKey;
  if (!checkRequestSignature(request, lookup).valid || !verifyKey.verify(message, signature)) {
    throw new Error('federation bench: the request does not verify');
  }
  const results = runBenchmark({
    title: 'verify an X-Matrix request · warm keyring',
    note: 'parse the header, rebuild and encode the signed JSON, look the key up, verify; requests/s',
    baseline: 'bare verify',
    candidates: [
      { name: 'bare verify', fn: () => verifyKey.verify(message, signature) },
      { name: 'ours, checkRequestSignature', fn: () => checkRequestSignature(request, lookup).valid },
    ],
  });

  const map = new Map([[`${ORIGIN}\n${KEY_ID}`, verifyKey]]);
  const figures = await measureAsync({
    'Map.get behind await': async () => map.get(`${ORIGIN}\n${KEY_ID}`),
    'ours, keyring.lookup (cached)': () => keyring.lookup(ORIGIN, [KEY_ID]),
  });
  const base = figures['Map.get behind await'] as number;
  console.log('\nkey lookup from cache · awaited lookups/s');
  for (const [name, opsPerSec] of Object.entries(figures)) {
    console.log(
      `  ${name.padEnd(34)} ${Math.round(opsPerSec).toLocaleString('en').padStart(12)}  ${(opsPerSec / base).toFixed(2)}x`,
    );
  }
  return results;
}
