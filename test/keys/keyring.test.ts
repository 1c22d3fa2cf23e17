/**
 * The keyring against a fake transport and a fake clock: caching, expiry,
 * the seven-day cap, old keys, batching and sharing of fetches, failures
 * remembered with growing waits, notary fallback, and use by verifyEvent.
 * Expected values are worked out from the responses each test serves.
 */
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../../src/canonicaljson/index.js';
import { buildEvent, checkEventSignatures, verifyEvent } from '../../src/events/index.js';
import { signRequest, verifyRequest } from '../../src/federation/xmatrix.js';
import {
  InvalidInputError,
  KEY_REFETCH_INTERVAL_MS,
  Keyring,
  type KeyStore,
  MAX_KEY_VALIDITY_MS,
  MemoryKeyStore,
  type StoredKey,
} from '../../src/keys/index.js';
import { getRoomVersion } from '../../src/roomversions/index.js';
import { encodeBase64 } from '../../src/signing/index.js';
import { deferred, FakeClock, FakeTransport, key, pub, response, settle, sodiumSign } from './helpers.js';

const A = key(1);
const B = key(2);
const OLD = key(3);
const N = key(9);
const N2 = key(10);
const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOTARY = { serverName: 'notary.example', verifyKeys: new Map([['ed25519:n', N.verifyKey]]) };
const NOTARY2 = { serverName: 'notary2.example', verifyKeys: new Map([['ed25519:n', N2.verifyKey]]) };

/** The origin serving its keys, valid for `validity` from the clock's time. */
function origin(t: FakeTransport, clock: FakeClock, server = 'a.example', validity = DAY): FakeTransport {
  return t.on(server, (req) => {
    expect(req).toEqual({ method: 'GET', path: '/_matrix/key/v2/server' });
    return response(server, { 'ed25519:a': A }, clock.t + validity, {
      'ed25519:old': { key: OLD, expired_ts: T0 - DAY },
    });
  });
}

/** A notary answering with the responses `answer` gives for the asked servers, signed by `k`. */
function notary(
  t: FakeTransport,
  name: string,
  k: typeof N,
  answer: (server: string) => JsonObject | undefined,
): FakeTransport {
  return t.on(name, (req) => {
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/_matrix/key/v2/query');
    const asked = Object.keys((req.body as { server_keys: JsonObject }).server_keys);
    const list = asked.map(answer).filter((r): r is JsonObject => r !== undefined);
    return { server_keys: list.map((r) => sodiumSign(r, name, 'ed25519:n', k)) };
  });
}

describe('Keyring: fetching and caching', () => {
  it('fetches from the server itself, then answers from the cache', async () => {
    const clock = new FakeClock(T0);
    const t = origin(new FakeTransport(), clock);
    const kr = new Keyring({ transport: t, now: clock.now });
    const keys = await kr.getKeys('a.example', ['ed25519:a', 'ed25519:old', 'ed25519:none']);
    expect([...keys.keys()]).toEqual(['ed25519:a', 'ed25519:old']);
    expect(keys.get('ed25519:a')).toMatchObject({ validUntilTs: T0 + DAY, old: false, fromServer: 'a.example' });
    expect(encodeBase64((keys.get('ed25519:a')?.key.bytes as Uint8Array) ?? new Uint8Array())).toBe(pub(A));
    expect(keys.get('ed25519:old')).toMatchObject({ validUntilTs: T0 - DAY, old: true });
    clock.advance(HOUR);
    await kr.getKeys('a.example', ['ed25519:a']);
    expect(t.calls).toHaveLength(1);
  });

  it('fetches again once the response has expired, unless the key is wanted only for an earlier time', async () => {
    const clock = new FakeClock(T0);
    const t = origin(new FakeTransport(), clock, 'a.example', HOUR);
    const kr = new Keyring({ transport: t, now: clock.now });
    await kr.getKeys('a.example', ['ed25519:a']);
    clock.advance(2 * HOUR);
    // An event from before the expiry: the cached key does.
    expect((await kr.getKeys('a.example', ['ed25519:a'], T0 + HOUR))?.get('ed25519:a')?.validUntilTs).toBe(T0 + HOUR);
    expect(t.calls).toHaveLength(1);
    // Now: the cache is stale, fetched again, valid for another hour.
    expect((await kr.getKeys('a.example', ['ed25519:a'])).get('ed25519:a')?.validUntilTs).toBe(T0 + 3 * HOUR);
    expect(t.calls).toHaveLength(2);
  });

  it("trusts a key at most seven days after fetching it (the spec's cap), or as published with Infinity (Synapse)", async () => {
    const clock = new FakeClock(T0);
    const t = origin(new FakeTransport(), clock, 'a.example', 30 * DAY);
    const capped = new Keyring({ transport: t, now: clock.now });
    expect((await capped.getKeys('a.example', ['ed25519:a'])).get('ed25519:a')?.validUntilTs).toBe(T0 + 7 * DAY);
    expect(MAX_KEY_VALIDITY_MS).toBe(7 * DAY);
    // An event dated eight days on needs a fresher fetch.
    clock.advance(8 * DAY);
    const later = await capped.getKeys('a.example', ['ed25519:a'], T0 + 8 * DAY);
    expect(later.get('ed25519:a')?.validUntilTs).toBe(T0 + 15 * DAY);
    expect(t.calls).toHaveLength(2);

    const t2 = origin(new FakeTransport(), clock, 'a.example', 30 * DAY);
    const synapse = new Keyring({ transport: t2, now: clock.now, maxKeyValidityMs: Number.POSITIVE_INFINITY });
    expect((await synapse.getKeys('a.example', ['ed25519:a'])).get('ed25519:a')?.validUntilTs).toBe(clock.t + 30 * DAY);
  });

  it('returns a key found but not valid long enough (the signature check decides), and does not refetch it at once', async () => {
    const clock = new FakeClock(T0);
    const t = origin(new FakeTransport(), clock);
    const kr = new Keyring({ transport: t, now: clock.now });
    // The old key expired a day ago: wanted for now, it is fetched once,
    // found still expired, and remembered as such.
    const first = await kr.getKeys('a.example', ['ed25519:old']);
    expect(first.get('ed25519:old')).toMatchObject({ validUntilTs: T0 - DAY, old: true });
    await kr.getKeys('a.example', ['ed25519:old']);
    await kr.getKeys('a.example', ['ed25519:old']);
    expect(t.calls).toHaveLength(1);
    // For an event from before it expired it is good, from the cache.
    expect((await kr.getKeys('a.example', ['ed25519:old'], T0 - 2 * DAY)).get('ed25519:old')).toBeDefined();
    expect(t.calls).toHaveLength(1);
  });

  it('ignores key IDs of other algorithms and never fetches for invalid server names', async () => {
    const clock = new FakeClock(T0);
    const t = new FakeTransport();
    const kr = new Keyring({ transport: t, now: clock.now });
    for (const name of ['', 'evil/../x', 'a b', 'x.example/_matrix', 'a.example:99999999']) {
      expect((await kr.getKeys(name, ['ed25519:a'])).size).toBe(0);
    }
    expect((await kr.getKeys('a.example', ['curve25519:a', 'x'])).size).toBe(0);
    expect(t.calls).toHaveLength(0);
  });

  it('serves our own keys without fetching', async () => {
    const t = new FakeTransport();
    const kr = new Keyring({
      transport: t,
      local: { serverName: 'me.example', keys: new Map([['ed25519:me', { key: A.verifyKey, validUntilTs: 1 }]]) },
    });
    expect((await kr.getKeys('me.example', ['ed25519:me', 'ed25519:x'])).get('ed25519:me')).toMatchObject({
      validUntilTs: 1,
      fromServer: 'me.example',
    });
    expect(t.calls).toHaveLength(0);
  });

  it('serves the own keys of each server name it hosts (virtual hosting), and refuses a name given twice', async () => {
    const t = new FakeTransport();
    const me = { serverName: 'me.example', keys: new Map([['ed25519:me', { key: A.verifyKey, validUntilTs: 1 }]]) };
    const other = {
      serverName: 'other.example',
      keys: new Map([['ed25519:o', { key: B.verifyKey, validUntilTs: 2, old: true }]]),
    };
    const kr = new Keyring({ transport: t, local: [me, other] });
    expect(
      encodeBase64((await kr.getKeys('me.example', ['ed25519:me'])).get('ed25519:me')?.key.bytes ?? new Uint8Array()),
    ).toBe(pub(A));
    expect((await kr.getKeys('other.example', ['ed25519:o'])).get('ed25519:o')).toMatchObject({
      validUntilTs: 2,
      old: true,
      fromServer: 'other.example',
    });
    // The keys of one hosted name are not the other's.
    expect((await kr.getKeys('other.example', ['ed25519:me'])).size).toBe(0);
    await kr.refresh([{ serverName: 'other.example', keyIds: [] }]);
    expect(t.calls).toHaveLength(0);
    expect(() => new Keyring({ local: [me, { ...me }] })).toThrow(InvalidInputError);
  });

  it('parses bodies the transport returns as bytes, with the size limit', async () => {
    const clock = new FakeClock(T0);
    const body = JSON.stringify(response('a.example', { 'ed25519:a': A }, T0 + DAY));
    const t = new FakeTransport().on('a.example', () => new TextEncoder().encode(body));
    expect((await new Keyring({ transport: t, now: clock.now }).getKeys('a.example', ['ed25519:a'])).size).toBe(1);
    const small = new Keyring({ transport: t, now: clock.now, limits: { maxBytes: 100 } });
    expect((await small.getKeys('a.example', ['ed25519:a'])).size).toBe(0);
  });
});

describe('Keyring: batching and sharing', () => {
  it('asks each server once for all the lookups made together', async () => {
    const clock = new FakeClock(T0);
    const t = origin(origin(new FakeTransport(), clock, 'a.example'), clock, 'b.example');
    const kr = new Keyring({ transport: t, now: clock.now });
    const results = await Promise.all([
      kr.lookup('a.example', ['ed25519:a']),
      kr.lookup('b.example', ['ed25519:a']),
      kr.lookup('a.example', ['ed25519:old']),
      ...Array.from({ length: 20 }, () => kr.lookup('a.example', ['ed25519:a', 'ed25519:x'])),
    ]);
    expect(results.every((r) => r.size >= 1)).toBe(true);
    expect(t.to('a.example')).toHaveLength(1);
    expect(t.to('b.example')).toHaveLength(1);
  });

  it('lets a lookup wait for a fetch already under way instead of starting another', async () => {
    const clock = new FakeClock(T0);
    const pending = deferred<JsonObject>();
    const t = new FakeTransport().on('a.example', () => pending.promise);
    const kr = new Keyring({ transport: t, now: clock.now });
    const first = kr.lookup('a.example', ['ed25519:a']);
    await settle();
    const second = kr.lookup('a.example', ['ed25519:a']);
    const third = kr.lookup('a.example', ['ed25519:old']);
    await settle();
    expect(t.calls).toHaveLength(1);
    pending.resolve(
      response('a.example', { 'ed25519:a': A }, T0 + DAY, { 'ed25519:old': { key: OLD, expired_ts: T0 } }),
    );
    const [r1, r2, r3] = await Promise.all([first, second, third]);
    expect([r1.size, r2.size, r3.size]).toEqual([1, 1, 1]);
    expect(t.calls).toHaveLength(1);
  });

  it('prepare: one batch for several servers, then a synchronous lookup for checkEventSignatures', async () => {
    const clock = new FakeClock(T0);
    const t = origin(origin(new FakeTransport(), clock, 'a.example'), clock, 'b.example');
    const kr = new Keyring({ transport: t, now: clock.now });
    const lookup = await kr.prepare([
      { serverName: 'a.example', keyIds: ['ed25519:a'] },
      { serverName: 'b.example', keyIds: ['ed25519:a'], minimumValidUntilTs: T0 },
    ]);
    expect(lookup('a.example', 'ed25519:a')?.validUntilTs).toBe(T0 + DAY);
    expect(lookup('b.example', 'ed25519:a')).toBeDefined();
    expect(lookup('c.example', 'ed25519:a')).toBeUndefined();
    expect(t.calls).toHaveLength(2);
  });
});

describe('Keyring: failures', () => {
  it('remembers a failing server and waits longer after each failure, up to the cap; a success resets', async () => {
    const clock = new FakeClock(T0);
    const t = new FakeTransport();
    const kr = new Keyring({ transport: t, now: clock.now, backoff: { initialMs: 1000, multiplier: 3, maxMs: 5000 } });
    const ask = async () => (await kr.getKeys('a.example', ['ed25519:a'])).size;
    const attempts: number[] = [];
    const record = async () => {
      await ask();
      attempts.push(t.calls.length);
    };
    await record(); // fails: waits 1 s
    clock.advance(999);
    await record(); // still waiting
    clock.advance(1);
    await record(); // tried again, fails: waits 3 s
    clock.advance(2999);
    await record();
    clock.advance(1);
    await record(); // fails: waits 5 s (9 s capped)
    clock.advance(4999);
    await record();
    clock.advance(1);
    await record(); // fails: 5 s again
    expect(attempts).toEqual([1, 1, 2, 2, 3, 3, 4]);
    origin(t, clock);
    clock.advance(5000);
    expect(await ask()).toBe(1);
    expect(t.calls).toHaveLength(5);
    // After the success, a new failure starts from the first wait again.
    t.handlers.delete('a.example');
    clock.advance(2 * DAY);
    await ask();
    expect(t.calls).toHaveLength(6);
    clock.advance(1000);
    await ask();
    expect(t.calls).toHaveLength(7);
  });

  it('forgets the failures of a server on resetBackoff(server), and every failure on resetBackoff()', async () => {
    const clock = new FakeClock(T0);
    const t = new FakeTransport();
    const kr = new Keyring({ transport: t, notaries: [NOTARY], now: clock.now });
    await kr.getKeys('a.example', ['ed25519:a']); // the server and the notary both fail
    await kr.getKeys('b.example', ['ed25519:a']); // the server fails; the notary is backed off as a whole
    expect(t.calls.map((c) => c.server)).toEqual(['a.example', 'notary.example', 'b.example']);
    await kr.getKeys('a.example', ['ed25519:a']);
    expect(t.calls).toHaveLength(3);
    origin(t, clock, 'a.example');
    kr.resetBackoff('a.example');
    expect((await kr.getKeys('a.example', ['ed25519:a'])).size).toBe(1);
    expect(t.calls).toHaveLength(4);
    // b.example's failures are still remembered, and so is the notary's.
    origin(t, clock, 'b.example');
    await kr.getKeys('b.example', ['ed25519:a']);
    expect(t.calls).toHaveLength(4);
    kr.resetBackoff();
    expect((await kr.getKeys('b.example', ['ed25519:a'])).size).toBe(1);
    expect(t.calls).toHaveLength(5);
  });

  it('remembers key IDs the server does not publish', async () => {
    const clock = new FakeClock(T0);
    const t = origin(new FakeTransport(), clock);
    const kr = new Keyring({ transport: t, now: clock.now });
    for (let i = 0; i < 5; i++) expect((await kr.getKeys('a.example', ['ed25519:bogus'])).size).toBe(0);
    expect(t.calls).toHaveLength(1);
    // A key ID never asked for is fetched (a server may have a new key),
    // once the refetch interval after the server's last answer has passed.
    await kr.getKeys('a.example', ['ed25519:new']);
    expect(t.calls).toHaveLength(1);
    clock.advance(KEY_REFETCH_INTERVAL_MS);
    await kr.getKeys('a.example', ['ed25519:new']);
    expect(t.calls).toHaveLength(2);
  });

  it('keeps keys in an asynchronous store, and a second keyring on the same store answers from it', async () => {
    // A store answering with promises after a turn of the event loop, as a database would.
    const memory = new MemoryKeyStore();
    const later = <T>(f: () => T) => new Promise<T>((resolve) => setImmediate(() => resolve(f())));
    const puts: StoredKey[][] = [];
    const store: KeyStore = {
      getKeys: (server, keyIds) => later(() => memory.getKeys(server, keyIds)),
      getAllKeys: (server) => later(() => memory.getAllKeys(server)),
      putKeys: (keys) =>
        later(() => {
          puts.push([...keys]);
          memory.putKeys(keys);
        }),
    };
    const clock = new FakeClock(T0);
    const t = origin(new FakeTransport(), clock);
    const first = new Keyring({ transport: t, now: clock.now, store });
    expect((await first.getKeys('a.example', ['ed25519:a'])).get('ed25519:a')?.validUntilTs).toBe(T0 + DAY);
    // Both keys of the response, each with the response it came in.
    expect(puts).toHaveLength(1);
    const stored = new Map(puts[0]?.map((k) => [k.keyId, k]));
    expect(stored.get('ed25519:a')).toMatchObject({
      serverName: 'a.example',
      validUntilTs: T0 + DAY,
      old: false,
      responseValidUntilTs: T0 + DAY,
      fetchedAt: T0,
      fromServer: 'a.example',
    });
    expect(encodeBase64(stored.get('ed25519:a')?.publicKey ?? new Uint8Array())).toBe(pub(A));
    expect(stored.get('ed25519:old')).toMatchObject({ validUntilTs: T0 - DAY, old: true });
    const published = response('a.example', { 'ed25519:a': A }, T0 + DAY, {
      'ed25519:old': { key: OLD, expired_ts: T0 - DAY },
    });
    expect(stored.get('ed25519:a')?.response).toEqual(published);
    // Both share the response's ID: the SHA-256 of its canonical text.
    const id = createHash('sha256')
      .update(canonicalize(published) as string)
      .digest('base64url');
    expect([stored.get('ed25519:a')?.responseId, stored.get('ed25519:old')?.responseId]).toEqual([id, id]);
    // Another keyring (a restart) with no transport at all: served from the store.
    const second = new Keyring({ now: clock.now, store });
    const keys = await second.getKeys('a.example', ['ed25519:a', 'ed25519:old']);
    expect(encodeBase64(keys.get('ed25519:a')?.key.bytes ?? new Uint8Array())).toBe(pub(A));
    expect(keys.get('ed25519:old')).toMatchObject({ old: true, validUntilTs: T0 - DAY });
    expect(await second.storedResponses('a.example', [])).toHaveLength(1);
    expect(t.calls).toHaveLength(1);
  });

  it('rejects when the store fails', async () => {
    const broken: KeyStore = {
      getKeys: () => Promise.reject(new Error('disk on fire')),
      getAllKeys: () => [],
      putKeys: () => undefined,
    };
    const kr = new Keyring({ store: broken });
    await expect(kr.getKeys('a.example', ['ed25519:a'])).rejects.toThrow('disk on fire');
  });
});

describe('Keyring: notaries', () => {
  it('asks a notary when the server does not answer, with minimum_valid_until_ts', async () => {
    const clock = new FakeClock(T0);
    const t = notary(new FakeTransport(), 'notary.example', N, (s) =>
      s === 'a.example' ? response('a.example', { 'ed25519:a': A }, T0 + DAY) : undefined,
    );
    const kr = new Keyring({ transport: t, notaries: [NOTARY], now: clock.now });
    const keys = await kr.getKeys('a.example', ['ed25519:a'], T0 + 5);
    expect(keys.get('ed25519:a')).toMatchObject({ fromServer: 'notary.example', validUntilTs: T0 + DAY });
    expect(t.calls.map((c) => c.server)).toEqual(['a.example', 'notary.example']);
    expect(t.to('notary.example')[0]?.body).toEqual({
      server_keys: { 'a.example': { 'ed25519:a': { minimum_valid_until_ts: T0 + 5 } } },
    });
  });

  it('asks a notary about several servers in one POST /_matrix/key/v2/query', async () => {
    const clock = new FakeClock(T0);
    const t = notary(new FakeTransport(), 'notary.example', N, (s) =>
      s === 'a.example' || s === 'b.example'
        ? response(s, { 'ed25519:a': s === 'a.example' ? A : B }, T0 + DAY)
        : undefined,
    );
    const kr = new Keyring({ transport: t, notaries: [NOTARY], now: clock.now });
    const [a, b, a2] = await Promise.all([
      kr.lookup('a.example', ['ed25519:a']),
      kr.lookup('b.example', ['ed25519:a', 'ed25519:b'], T0 + 7),
      kr.lookup('a.example', ['ed25519:a'], T0 + 3),
    ]);
    expect([a.size, b.size, a2.size]).toEqual([1, 1, 1]);
    // Each server asked directly once (refused), then one query for both,
    // each key with the most demanding time wanted of it (spec: keys_query.yaml).
    expect(t.calls.map((c) => c.server).sort()).toEqual(['a.example', 'b.example', 'notary.example']);
    expect(t.to('notary.example')[0]?.body).toEqual({
      server_keys: {
        'a.example': { 'ed25519:a': { minimum_valid_until_ts: T0 + 3 } },
        'b.example': {
          'ed25519:a': { minimum_valid_until_ts: T0 + 7 },
          'ed25519:b': { minimum_valid_until_ts: T0 + 7 },
        },
      },
    });
  });

  it('keeps the key valid the longest when the server and a notary both answer short of the time asked', async () => {
    const clock = new FakeClock(T0);
    const t = origin(new FakeTransport(), clock, 'a.example', HOUR);
    notary(t, 'notary.example', N, () => response('a.example', { 'ed25519:a': A }, T0 + HOUR / 2));
    const kr = new Keyring({ transport: t, notaries: [NOTARY], now: clock.now });
    const keys = await kr.getKeys('a.example', ['ed25519:a'], T0 + 2 * HOUR);
    expect(keys.get('ed25519:a')).toMatchObject({ validUntilTs: T0 + HOUR, fromServer: 'a.example' });
    expect(t.calls.map((c) => c.server)).toEqual(['a.example', 'notary.example']);
  });

  it('goes straight to the notary while the server is backed off', async () => {
    const clock = new FakeClock(T0);
    const t = notary(new FakeTransport(), 'notary.example', N, () =>
      response('a.example', { 'ed25519:a': A, 'ed25519:b': B }, T0 + DAY),
    );
    const kr = new Keyring({ transport: t, notaries: [NOTARY], now: clock.now, refetchIntervalMs: 1000 });
    await kr.getKeys('a.example', ['ed25519:a']);
    // The notary answered for a.example: not asked again for a second.
    await kr.getKeys('a.example', ['ed25519:zzz']);
    expect(t.calls.map((c) => c.server)).toEqual(['a.example', 'notary.example']);
    clock.advance(1000);
    await kr.getKeys('a.example', ['ed25519:zzz']);
    expect(t.calls.map((c) => c.server)).toEqual(['a.example', 'notary.example', 'notary.example']);
  });

  it("refuses a notary that altered the origin's response, and falls back to the next", async () => {
    const clock = new FakeClock(T0);
    const genuine = response('a.example', { 'ed25519:a': A }, T0 + DAY);
    const t = new FakeTransport();
    // Notary 1 adds a key of its own to the origin's response.
    notary(t, 'notary.example', N, () => ({
      ...genuine,
      verify_keys: { ...(genuine.verify_keys as JsonObject), 'ed25519:evil': { key: pub(key(66)) } },
    }));
    notary(t, 'notary2.example', N2, () => genuine);
    const kr = new Keyring({ transport: t, notaries: [NOTARY, NOTARY2], now: clock.now });
    const keys = await kr.getKeys('a.example', ['ed25519:a', 'ed25519:evil']);
    expect([...keys.keys()]).toEqual(['ed25519:a']);
    expect(keys.get('ed25519:a')?.fromServer).toBe('notary2.example');
  });

  it('refuses entries not signed by the notary with a key we know, and entries for servers not asked', async () => {
    const clock = new FakeClock(T0);
    const t = new FakeTransport().on('notary.example', () => ({
      server_keys: [
        response('a.example', { 'ed25519:a': A }, T0 + DAY), // no notary signature
        sodiumSign(response('b.example', { 'ed25519:a': B }, T0 + DAY), 'notary.example', 'ed25519:n', N),
      ],
    }));
    const store = new MemoryKeyStore();
    const kr = new Keyring({ transport: t, notaries: [NOTARY], now: clock.now, store });
    expect((await kr.getKeys('a.example', ['ed25519:a'])).size).toBe(0);
    expect(store.getAllKeys('a.example')).toHaveLength(0);
    expect(store.getAllKeys('b.example')).toHaveLength(0);
  });

  it('takes what a notary vouches for: a notary is trusted (ask several to corroborate)', async () => {
    // A notary can answer with a response of its own making, signed by a key
    // it made up: nothing but trust in the notary tells it apart.
    const clock = new FakeClock(T0);
    const fake = key(77);
    const t = notary(new FakeTransport(), 'notary.example', N, () =>
      response('a.example', { 'ed25519:a': fake }, T0 + DAY),
    );
    const kr = new Keyring({ transport: t, notaries: [NOTARY], now: clock.now });
    expect(
      encodeBase64((await kr.getKeys('a.example', ['ed25519:a'])).get('ed25519:a')?.key.bytes ?? new Uint8Array()),
    ).toBe(pub(fake));
  });
});

/** A v10 message signed by a.example's key A at `ts`. */
const signedMessage = (ts: number) =>
  buildEvent(
    {
      type: 'm.room.message',
      room_id: '!r:a.example',
      sender: '@u:a.example',
      content: { body: 'hi' },
      depth: 3,
      prev_events: [`$${'P'.repeat(43)}`],
      auth_events: [`$${'C'.repeat(43)}`],
    },
    getRoomVersion('10'),
    { serverName: 'a.example', keyId: 'ed25519:a', key: A, now: () => ts },
  ).event;

describe('Keyring with verifyEvent', () => {
  const rules = getRoomVersion('10');
  const event = signedMessage;

  it('verifies an event with keys fetched on demand, once for many events', async () => {
    const clock = new FakeClock(T0);
    const t = origin(new FakeTransport(), clock);
    const kr = new Keyring({ transport: t, now: clock.now });
    const checks = await Promise.all(
      Array.from({ length: 10 }, (_, i) => verifyEvent(event(T0 + i), rules, kr.lookup)),
    );
    expect(checks.every((c) => c.result === 'valid')).toBe(true);
    expect(t.calls).toHaveLength(1);
  });

  it("passes the event's origin_server_ts as the minimum validity from room version 5, 0 before (Synapse)", async () => {
    // Synapse's _check_sigs_on_pdu: `pdu.origin_server_ts if
    // room_version.enforce_key_validity else 0`.
    const asked: [string, readonly string[], number][] = [];
    const spy = (server: string, keyIds: readonly string[], minimum: number) => {
      asked.push([server, keyIds, minimum]);
      return new Map([['ed25519:a', { key: A.verifyKey, validUntilTs: Number.POSITIVE_INFINITY }]]);
    };
    expect(await verifyEvent(event(T0 + 5), rules, spy)).toEqual({ result: 'valid' });
    const v4 = getRoomVersion('4');
    const old = buildEvent(
      {
        type: 'm.room.message',
        room_id: '!r:a.example',
        sender: '@u:a.example',
        content: {},
        depth: 3,
        prev_events: [`$${'P'.repeat(43)}`],
        auth_events: [`$${'C'.repeat(43)}`],
      },
      v4,
      { serverName: 'a.example', keyId: 'ed25519:a', key: A, now: () => T0 + 5 },
    ).event;
    expect(await verifyEvent(old, v4, spy)).toEqual({ result: 'valid' });
    expect(asked).toEqual([
      ['a.example', ['ed25519:a'], T0 + 5],
      ['a.example', ['ed25519:a'], 0],
    ]);
  });

  it('fetches the key again for an event signed after the cached key stops being valid', async () => {
    // The origin serves a response valid for an hour from each fetch: the
    // second fetch proves the key for a later time than the first.
    const clock = new FakeClock(T0);
    const t = origin(new FakeTransport(), clock, 'a.example', HOUR);
    const kr = new Keyring({ transport: t, now: clock.now });
    expect((await kr.getKeys('a.example', ['ed25519:a'])).get('ed25519:a')?.validUntilTs).toBe(T0 + HOUR);
    clock.advance(HOUR - 1000);
    // Cached and valid now, but not at the event's time: fetched again.
    expect(await verifyEvent(event(T0 + HOUR + 1000), rules, kr.lookup)).toEqual({ result: 'valid' });
    expect(t.calls).toHaveLength(2);
    expect((await kr.getKeys('a.example', ['ed25519:a'])).get('ed25519:a')?.validUntilTs).toBe(T0 + 2 * HOUR - 1000);
    // An event the cached key covers needs no fetch.
    expect(await verifyEvent(event(T0 + HOUR + 2000), rules, kr.lookup)).toEqual({ result: 'valid' });
    expect(t.calls).toHaveLength(2);
  });

  it("fetches the key again for an event dated past the seven-day cap of the cached key (spec's key validity)", async () => {
    const clock = new FakeClock(T0);
    const t = origin(new FakeTransport(), clock, 'a.example', 30 * DAY);
    const kr = new Keyring({ transport: t, now: clock.now });
    expect(await verifyEvent(event(T0), rules, kr.lookup)).toEqual({ result: 'valid' });
    clock.advance(7 * DAY - 1000);
    // Served as valid until T0 + 7 days, which is still ahead: an event
    // dated after that needs a fresh fetch all the same.
    expect(await verifyEvent(event(T0 + 7 * DAY + 1000), rules, kr.lookup)).toEqual({ result: 'valid' });
    expect(t.calls).toHaveLength(2);
  });

  it('refuses an event signed after the key stopped being valid (room version 5 and later)', async () => {
    const clock = new FakeClock(T0);
    const t = origin(new FakeTransport(), clock, 'a.example', HOUR);
    const kr = new Keyring({ transport: t, now: clock.now });
    expect((await verifyEvent(event(T0 + 2 * HOUR), rules, kr.lookup)).result).toBe('invalid');
    expect((await verifyEvent(event(T0 + HOUR), rules, kr.lookup)).result).toBe('valid');
  });

  it('gives checkEventSignatures a synchronous lookup through prepare', async () => {
    const clock = new FakeClock(T0);
    const kr = new Keyring({ transport: origin(new FakeTransport(), clock), now: clock.now });
    const e = event(T0);
    const lookup = await kr.eventKeyLookup([{ serverName: 'a.example', keyIds: ['ed25519:a'] }]);
    expect(checkEventSignatures(e, rules, lookup).result).toBe('valid');
  });

  it('makes verifyEvent refuse the event when the store fails', async () => {
    const failing: KeyStore = {
      getKeys: () => Promise.reject(new Error('disk on fire')),
      getAllKeys: () => [],
      putKeys: (_: readonly StoredKey[]) => undefined,
    };
    const kr = new Keyring({ store: failing });
    const check = await verifyEvent(event(T0), rules, kr.lookup);
    expect(check).toMatchObject({ result: 'invalid', reason: expect.stringMatching(/disk on fire/) });
  });
});

describe('Keyring with verifyRequest: old keys sign events, not requests', () => {
  // Spec, "Retrieving server keys": verify_keys are "valid for signing
  // federation requests made by the homeserver and for signing events";
  // old_verify_keys "are only valid for signing events". Synapse accepts an
  // old key for a request until its expired_ts; we never do (deliberate).
  const sent = { method: 'GET', uri: '/_matrix/federation/v1/version', origin: 'a.example', destination: 'b.example' };
  const incoming = (keyId: string, k: typeof A) => ({
    method: sent.method,
    uri: sent.uri,
    destination: sent.destination,
    authorization: signRequest(sent, keyId, k),
  });

  it('refuses a request signed by an old key not yet expired, accepts the current key', async () => {
    const clock = new FakeClock(T0);
    const t = new FakeTransport().on('a.example', () =>
      response('a.example', { 'ed25519:a': A }, T0 + DAY, { 'ed25519:old': { key: OLD, expired_ts: T0 + DAY } }),
    );
    const kr = new Keyring({ transport: t, now: clock.now });
    expect(await verifyRequest(incoming('ed25519:old', OLD), kr.lookup, { now: T0 })).toEqual({
      valid: false,
      reason: `No key of a.example valid at ${T0} is known among ed25519:old`,
    });
    expect(await verifyRequest(incoming('ed25519:a', A), kr.lookup, { now: T0 })).toEqual({
      valid: true,
      origin: 'a.example',
    });
    expect(t.calls).toHaveLength(1);
  });

  it('takes a key ID listed in both verify_keys and old_verify_keys as old (as Synapse reads it)', async () => {
    // Synapse's process_v2_response overwrites the current entry with the
    // old one (valid until expired_ts); so does checkServerKeys. The key
    // then signs events dated before expired_ts, and no requests.
    const clock = new FakeClock(T0);
    const t = new FakeTransport().on('a.example', () =>
      response('a.example', { 'ed25519:a': A }, T0 + DAY, { 'ed25519:a': { key: A, expired_ts: T0 + HOUR } }),
    );
    const kr = new Keyring({ transport: t, now: clock.now });
    expect((await kr.getKeys('a.example', ['ed25519:a'])).get('ed25519:a')).toMatchObject({
      old: true,
      validUntilTs: T0 + HOUR,
    });
    expect((await verifyRequest(incoming('ed25519:a', A), kr.lookup, { now: T0 })).valid).toBe(false);
    const ev = signedMessage(T0 + HOUR - 1);
    expect(await verifyEvent(ev, getRoomVersion('10'), kr.lookup)).toEqual({ result: 'valid' });
  });
});

describe('Keyring: robustness', () => {
  it('never rejects and takes no key, whatever a server or notary answers or throws', async () => {
    const answers = fc.oneof(
      fc.jsonValue({ maxDepth: 4 }).map((v) => ({ kind: 'json' as const, v })),
      fc.uint8Array({ maxLength: 64 }).map((v) => ({ kind: 'bytes' as const, v })),
      fc.string().map((v) => ({ kind: 'throw' as const, v })),
    );
    await fc.assert(
      fc.asyncProperty(answers, answers, async (direct, fromNotary) => {
        const serve = (a: typeof direct) => () => {
          if (a.kind === 'throw') throw new Error(a.v);
          return a.kind === 'bytes' ? a.v : (a.v as JsonObject);
        };
        const t = new FakeTransport().on('a.example', serve(direct)).on('notary.example', serve(fromNotary));
        const kr = new Keyring({ transport: t, notaries: [NOTARY], now: () => T0 });
        const keys = await kr.getKeys('a.example', ['ed25519:a']);
        expect(keys.size).toBe(0);
        expect(t.calls).toHaveLength(2);
      }),
      { numRuns: 300, seed: 11 },
    );
  });
});
