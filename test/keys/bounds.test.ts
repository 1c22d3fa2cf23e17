/**
 * The bounds on what a request can make the keyring and the notary do
 * (issue 14): work counted in operations (encodings, signature checks,
 * fetches), never timed. Canonical JSON encodings and signature checks are
 * counted through wrappers of the library's own functions; expected sizes
 * come from RFC 8785 text (`canonicalize`), which agrees with Canonical
 * JSON on the ASCII objects used here.
 */
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { JsonObject } from '../../src/canonicaljson/index.js';
import { signRequest, verifyRequest } from '../../src/federation/xmatrix.js';
import {
  checkNotaryResponse,
  checkServerKeys,
  KEY_REFETCH_INTERVAL_MS,
  KeyNotary,
  Keyring,
  MAX_QUERY_FETCHES,
  MemoryKeyStore,
  parseKeyQuery,
  type StoredKey,
} from '../../src/keys/index.js';
import { encodeBase64, verifyKeyFromBytes } from '../../src/signing/index.js';
import { FakeClock, FakeTransport, key, response, sodiumSign } from './helpers.js';

const { crypto } = vi.hoisted(() => ({ crypto: { publicKeys: 0 } }));

vi.mock('node:crypto', async (importOriginal) => {
  const m = await importOriginal<typeof import('node:crypto')>();
  return {
    ...m,
    createPublicKey: (...args: Parameters<typeof m.createPublicKey>) => {
      crypto.publicKeys++;
      return m.createPublicKey(...args);
    },
  };
});

const { counts, counted } = vi.hoisted(() => {
  const counts = { encodes: 0, verifies: 0 };
  /** `f`, counting its calls under `name`. */
  const counted =
    <A extends unknown[], R>(name: keyof typeof counts, f: (...args: A) => R) =>
    (...args: A): R => {
      counts[name]++;
      return f(...args);
    };
  return { counts, counted };
});

vi.mock('../../src/canonicaljson/encode.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('../../src/canonicaljson/encode.js')>();
  return {
    ...m,
    encodeCanonicalJson: counted('encodes', m.encodeCanonicalJson),
    encodeCanonicalJsonBytes: counted('encodes', m.encodeCanonicalJsonBytes),
  };
});

vi.mock('../../src/signing/signedjson.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('../../src/signing/signedjson.js')>();
  return { ...m, verifyJson: counted('verifies', m.verifyJson) };
});

beforeEach(() => {
  counts.encodes = 0;
  counts.verifies = 0;
});

const A = key(1);
const N = key(9);
const T0 = 1_700_000_000_000;
const DAY = 86_400_000;
const identity = { serverName: 'notary.example', keys: { 'ed25519:n': N } };
const NOTARY = { serverName: 'notary.example', verifyKeys: new Map([['ed25519:n', N.verifyKey]]) };

/** A response of `server` signed by A, listing A and `old` old keys: `old + 1` keys in all. */
function withKeys(server: string, old: number, validUntilTs = T0 + DAY): JsonObject {
  const olds: Record<string, { key: typeof A; expired_ts: number }> = {};
  for (let i = 0; i < old; i++) olds[`ed25519:old${i}`] = { key: key(100 + (i % 50)), expired_ts: T0 - i };
  return response(server, { 'ed25519:a': A }, validUntilTs, olds);
}

describe('notary queries cost the same however many keys the server publishes (item 1)', () => {
  /** Encodings made by one notary query for all of a.example's keys, answered from the cache. */
  async function encodesOfQuery(old: number): Promise<number> {
    const clock = new FakeClock(T0);
    const t = new FakeTransport().on('a.example', () => withKeys('a.example', old));
    const keyring = new Keyring({ transport: t, now: clock.now });
    const notary = new KeyNotary({ keyring, identity });
    const query = parseKeyQuery({ server_keys: { 'a.example': {} } });
    await notary.query(query);
    counts.encodes = 0;
    const answer = await notary.query(query);
    expect(answer.server_keys).toHaveLength(1);
    expect(t.calls).toHaveLength(1);
    return counts.encodes;
  }

  it('encodes each response passed on once (to sign it), not once per key', async () => {
    const few = await encodesOfQuery(50);
    const many = await encodesOfQuery(200);
    // Signing with the notary's one key: one encoding of the one response.
    expect([few, many]).toEqual([1, 1]);
  });

  it('dedupes the responses of a query that names the same server several times', async () => {
    const clock = new FakeClock(T0);
    const t = new FakeTransport().on('a.example', () => withKeys('a.example', 3));
    const notary = new KeyNotary({ keyring: new Keyring({ transport: t, now: clock.now }), identity });
    const answer = await notary.query(
      parseKeyQuery({ server_keys: { 'a.example': { 'ed25519:a': {}, 'ed25519:old0': {}, 'ed25519:old1': {} } } }),
    );
    expect(answer.server_keys).toHaveLength(1);
  });
});

describe('forged requests cannot make the keyring fetch without limit (item 2)', () => {
  it('fetches a server at most once per refetch interval, whatever new key IDs requests name', async () => {
    const clock = new FakeClock(T0);
    const t = new FakeTransport().on('a.example', () => response('a.example', { 'ed25519:a': A }, clock.t + DAY));
    const keyring = new Keyring({ transport: t, now: clock.now });
    // Requests claiming to come from a.example, each naming a key ID it never published.
    const forged = (i: number) => ({
      method: 'GET',
      uri: '/_matrix/federation/v1/version',
      destination: 'b.example',
      authorization: signRequest(
        { method: 'GET', uri: '/_matrix/federation/v1/version', origin: 'a.example', destination: 'b.example' },
        `ed25519:forged${i}`,
        key(200),
      ),
    });
    for (let i = 0; i < 100; i++) {
      expect((await verifyRequest(forged(i), keyring.lookup, { now: clock.t })).valid).toBe(false);
    }
    expect(t.calls).toHaveLength(1);
    clock.advance(KEY_REFETCH_INTERVAL_MS - 1);
    await keyring.getKeys('a.example', ['ed25519:forged100']);
    expect(t.calls).toHaveLength(1);
    clock.advance(1);
    await keyring.getKeys('a.example', ['ed25519:forged101']);
    expect(t.calls).toHaveLength(2);
  });

  it('lets one notary query start at most MAX_QUERY_FETCHES fetches, answering the rest from the cache', async () => {
    const clock = new FakeClock(T0);
    const t = new FakeTransport().on('known.example', () =>
      response('known.example', { 'ed25519:a': A }, clock.t + DAY),
    );
    const keyring = new Keyring({ transport: t, now: clock.now });
    await keyring.getKeys('known.example', ['ed25519:a']);
    const servers: JsonObject = {};
    for (let i = 0; i < 999; i++) servers[`s${i}.example`] = {};
    servers['known.example'] = {};
    const answer = await new KeyNotary({ keyring, identity }).query(parseKeyQuery({ server_keys: servers }));
    expect(t.calls).toHaveLength(1 + 32);
    expect(MAX_QUERY_FETCHES).toBe(32);
    expect((answer.server_keys as JsonObject[]).map((r) => r.server_name)).toEqual(['known.example']);
  });
});

describe('MemoryKeyStore is bounded (item 2)', () => {
  const body = (server: string, pad: number): JsonObject => ({ server_name: server, pad: 'x'.repeat(pad) });
  const size = (r: JsonObject) => (canonicalize(r) as string).length;
  const stored = (serverName: string, keyId: string, r: JsonObject, responseId: string): StoredKey => ({
    serverName,
    keyId,
    publicKey: new Uint8Array(32),
    validUntilTs: T0,
    old: false,
    responseValidUntilTs: T0,
    fetchedAt: T0,
    fromServer: serverName,
    response: r,
    responseId,
  });

  it('counts a response once however many of its keys are stored, and releases it when replaced', () => {
    const store = new MemoryKeyStore();
    const r1 = body('a.example', 1000);
    const keys = Array.from({ length: 100 }, (_, i) => stored('a.example', `ed25519:${i}`, r1, 'r1'));
    store.putKeys(keys);
    expect(store.bytes).toBe(size(r1) + 100 * 256);
    store.putKeys(keys);
    expect(store.bytes).toBe(size(r1) + 100 * 256);
    const r2 = body('a.example', 10);
    store.putKeys(keys.map((k) => ({ ...k, response: r2, responseId: 'r2' })));
    expect(store.bytes).toBe(size(r2) + 100 * 256);
  });

  it('drops the servers used least recently past maxBytes', () => {
    // Names of one length, so that every response has the same size.
    const name = (i: number) => `s${10 + i}.example`;
    const one = size(body(name(0), 1000)) + 256;
    const store = new MemoryKeyStore({ maxBytes: 10 * one });
    for (let i = 0; i < 10; i++) store.putKeys([stored(name(i), 'ed25519:a', body(name(i), 1000), `r${i}`)]);
    expect(store.bytes).toBe(10 * one);
    // A lookup marks the first as used: the second is now the least recently used.
    expect(store.getKeys(name(0), ['ed25519:a']).size).toBe(1);
    store.putKeys([stored(name(10), 'ed25519:a', body(name(10), 1000), 'r10')]);
    expect(store.bytes).toBe(10 * one);
    expect(store.getAllKeys(name(1))).toHaveLength(0);
    for (const i of [0, 2, 9, 10]) expect(store.getAllKeys(name(i))).toHaveLength(1);
    // Ten thousand servers later, still within the bound.
    for (let i = 0; i < 10_000; i++) {
      store.putKeys([stored(`t${i}.example`, 'ed25519:a', body(`t${i}.example`, 1000), `t${i}`)]);
    }
    expect(store.bytes).toBeLessThanOrEqual(10 * one);
  });

  it("drops a server's oldest responses when it alone is past maxBytes", () => {
    const one = size(body('a.example', 1000)) + 256;
    const store = new MemoryKeyStore({ maxBytes: 3 * one });
    for (let i = 0; i < 5; i++) {
      store.putKeys([stored('a.example', `ed25519:k${i}`, body('a.example', 1000), `r${i}`)]);
    }
    expect(store.bytes).toBe(3 * one);
    expect([...store.getAllKeys('a.example')].map((k) => k.keyId)).toEqual(['ed25519:k2', 'ed25519:k3', 'ed25519:k4']);
  });
});

describe('key responses are cheap to check (item 6)', () => {
  /** A response of `server` signed by A that also lists `n` distinct old keys. */
  function withManyKeys(server: string, n: number): JsonObject {
    const old: JsonObject = {};
    for (let i = 0; i < n; i++) {
      old[`ed25519:old${i}`] = { key: encodeBase64(createHash('sha256').update(`${i}`).digest()), expired_ts: T0 - i };
    }
    return response(server, { 'ed25519:a': A }, T0 + DAY, {}, { old_verify_keys: old });
  }

  it('checks a response listing 12,000 keys, building a key object only for the key that signed it', () => {
    crypto.publicKeys = 0;
    const check = checkServerKeys(withManyKeys('a.example', 12_000), { serverName: 'a.example' });
    expect(check.valid && check.verifyKeys.size).toBe(12_001);
    expect(crypto.publicKeys).toBe(1);
  });

  it('leaves the verify keys in use in the shared cache', () => {
    const inUse = verifyKeyFromBytes(key(77).publicKey);
    checkServerKeys(withManyKeys('a.example', 12_000), { serverName: 'a.example' });
    expect(verifyKeyFromBytes(key(77).publicKey)).toBe(inUse);
  });

  it('serves a key of such a response through the keyring, as Synapse would', async () => {
    const clock = new FakeClock(T0);
    const t = new FakeTransport().on('a.example', () => withManyKeys('a.example', 12_000));
    const keyring = new Keyring({ transport: t, now: clock.now });
    const found = await keyring.getKeys('a.example', ['ed25519:a', 'ed25519:old11999']);
    expect([...found.keys()].sort()).toEqual(['ed25519:a', 'ed25519:old11999']);
  });

  it('does not decode or verify the entries of a notary answer for servers not asked about', async () => {
    const entry = (server: string) =>
      sodiumSign(response(server, { 'ed25519:a': A }, T0 + DAY), 'notary.example', 'ed25519:n', N);
    const answer = { server_keys: [entry('a.example'), entry('b.example')] };
    const check = checkNotaryResponse(answer, NOTARY, { serverNames: new Set(['a.example']) });
    expect(check).toMatchObject({
      valid: true,
      entries: [
        { valid: true, serverName: 'a.example' },
        { valid: false, reason: 'The entry is about "b.example", which was not asked about' },
      ],
    });
    expect(checkNotaryResponse(answer, NOTARY)).toMatchObject({ entries: [{ valid: true }, { valid: true }] });

    // Through the keyring: 20 entries not asked for cost no signature check.
    const clock = new FakeClock(T0);
    const others = Array.from({ length: 20 }, (_, i) => entry(`other${i}.example`));
    const t = new FakeTransport().on('notary.example', () => ({ server_keys: [...others, entry('a.example')] }));
    const keyring = new Keyring({ transport: t, notaries: [NOTARY], now: clock.now });
    counts.verifies = 0;
    expect((await keyring.getKeys('a.example', ['ed25519:a'])).size).toBe(1);
    // The notary's signature and the origin's, on a.example's entry only.
    expect(counts.verifies).toBe(2);
  });
});
