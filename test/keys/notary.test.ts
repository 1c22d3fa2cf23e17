/**
 * Acting as a notary: reading queries, answering them from a keyring, and a
 * second keyring trusting the answers.
 */
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../../src/canonicaljson/index.js';
import { KEY_REFETCH_INTERVAL_MS, KeyNotary, Keyring, keyQueryForServer, parseKeyQuery } from '../../src/keys/index.js';
import { errcode } from '../helpers.js';
import { FakeClock, FakeTransport, key, pub, response, sodiumVerify } from './helpers.js';

const A = key(1);
const N = key(9);
const T0 = 1_700_000_000_000;
const DAY = 86_400_000;
const identity = { serverName: 'notary.example', keys: { 'ed25519:n': N } };

describe('parseKeyQuery', () => {
  it('reads the POST body of the spec example, and the GET form', () => {
    expect(
      parseKeyQuery({ server_keys: { 'example.org': { 'ed25519:abc123': { minimum_valid_until_ts: 1234567890 } } } }),
    ).toEqual([{ serverName: 'example.org', keyId: 'ed25519:abc123', minimumValidUntilTs: 1234567890 }]);
    expect(parseKeyQuery({ server_keys: { a: {}, b: { k: {}, l: { minimum_valid_until_ts: null } } } })).toEqual([
      { serverName: 'a' },
      { serverName: 'b', keyId: 'k' },
      { serverName: 'b', keyId: 'l' },
    ]);
    expect(parseKeyQuery({ server_keys: {} })).toEqual([]);
    expect(keyQueryForServer('a', 5)).toEqual([{ serverName: 'a', minimumValidUntilTs: 5 }]);
    expect(keyQueryForServer('a')).toEqual([{ serverName: 'a' }]);
  });

  it('refuses malformed and oversized queries with typed errors', () => {
    expect(errcode(() => parseKeyQuery([]))).toBe('M_NOT_JSON');
    expect(errcode(() => parseKeyQuery({}))).toBe('M_BAD_JSON');
    expect(errcode(() => parseKeyQuery({ server_keys: [] }))).toBe('M_BAD_JSON');
    expect(errcode(() => parseKeyQuery({ server_keys: { a: [] } }))).toBe('M_BAD_JSON');
    expect(errcode(() => parseKeyQuery({ server_keys: { a: { k: 1 } } }))).toBe('M_BAD_JSON');
    expect(errcode(() => parseKeyQuery({ server_keys: { a: { k: { minimum_valid_until_ts: 1.5 } } } }))).toBe(
      'M_BAD_JSON',
    );
    expect(errcode(() => parseKeyQuery({ server_keys: { a: { k: { minimum_valid_until_ts: '1' } } } }))).toBe(
      'M_BAD_JSON',
    );
    const many: JsonObject = {};
    for (let i = 0; i <= 1000; i++) many[`s${i}.example`] = {};
    expect(errcode(() => parseKeyQuery({ server_keys: many }))).toBe('M_TOO_LARGE');
    const keys: JsonObject = {};
    for (let i = 0; i <= 100; i++) keys[`ed25519:${i}`] = {};
    expect(errcode(() => parseKeyQuery({ server_keys: { a: keys } }))).toBe('M_TOO_LARGE');
  });
});

describe('KeyNotary', () => {
  function setup(validity = DAY) {
    const clock = new FakeClock(T0);
    const t = new FakeTransport().on('a.example', () => response('a.example', { 'ed25519:a': A }, clock.t + validity));
    const keyring = new Keyring({ transport: t, now: clock.now });
    return { clock, t, keyring, notary: new KeyNotary({ keyring, identity }) };
  }

  it("answers with the origin's response as fetched, signed by the notary too", async () => {
    const { notary } = setup();
    const answer = await notary.query(keyQueryForServer('a.example'));
    const list = answer.server_keys as JsonObject[];
    expect(list).toHaveLength(1);
    const entry = list[0] as JsonObject;
    expect(sodiumVerify(entry, 'a.example', 'ed25519:a', pub(A))).toBe(true);
    expect(sodiumVerify(entry, 'notary.example', 'ed25519:n', pub(N))).toBe(true);
    expect(entry.valid_until_ts).toBe(T0 + DAY);
  });

  it('serves the cache while it is valid until the time asked, else asks the origin again', async () => {
    const { notary, t, clock } = setup();
    await notary.query(keyQueryForServer('a.example'));
    await notary.query(parseKeyQuery({ server_keys: { 'a.example': { 'ed25519:a': {} } } }));
    expect(t.calls).toHaveLength(1);
    const later = parseKeyQuery({
      server_keys: { 'a.example': { 'ed25519:a': { minimum_valid_until_ts: T0 + 2 * DAY } } },
    });
    // Not within the refetch interval of the origin's last answer.
    await notary.query(later);
    expect(t.calls).toHaveLength(1);
    clock.advance(KEY_REFETCH_INTERVAL_MS);
    await notary.query(later);
    expect(t.calls).toHaveLength(2);
    clock.advance(3 * DAY);
    await notary.query(keyQueryForServer('a.example'));
    expect(t.calls).toHaveLength(3);
  });

  it('passes on the last response when the origin cannot be reached, and nothing for unknown servers', async () => {
    const { notary, t, clock } = setup();
    await notary.query(keyQueryForServer('a.example'));
    t.handlers.delete('a.example');
    clock.advance(3 * DAY);
    const stale = await notary.query(keyQueryForServer('a.example'));
    expect((stale.server_keys as JsonObject[])[0]?.valid_until_ts).toBe(T0 + DAY);
    expect(t.calls).toHaveLength(2);
    expect(await notary.query(keyQueryForServer('b.example'))).toEqual({ server_keys: [] });
  });

  it('never asks another notary on behalf of a query', async () => {
    const clock = new FakeClock(T0);
    const t = new FakeTransport().on('other-notary.example', () => ({ server_keys: [] }));
    const keyring = new Keyring({
      transport: t,
      now: clock.now,
      notaries: [{ serverName: 'other-notary.example', verifyKeys: new Map([['ed25519:n', key(5).verifyKey]]) }],
    });
    await new KeyNotary({ keyring, identity }).query(keyQueryForServer('a.example'));
    expect(t.calls.map((c) => c.server)).toEqual(['a.example']);
  });

  it('answers another keyring, which checks both signatures', async () => {
    const { notary } = setup();
    const clock = new FakeClock(T0);
    const viaNotary = new FakeTransport().on('notary.example', async (req) => {
      expect(req.method).toBe('POST');
      return notary.query(parseKeyQuery(req.body as JsonObject));
    });
    const asking = new Keyring({
      transport: viaNotary,
      now: clock.now,
      notaries: [{ serverName: 'notary.example', verifyKeys: new Map([['ed25519:n', N.verifyKey]]) }],
    });
    const keys = await asking.getKeys('a.example', ['ed25519:a']);
    expect(keys.get('ed25519:a')).toMatchObject({ fromServer: 'notary.example', validUntilTs: T0 + DAY });
  });
});
