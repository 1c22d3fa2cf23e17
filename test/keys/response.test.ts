/**
 * Our key server's responses and a notary's signatures. Signatures are
 * checked with libsodium over RFC 8785 text (independent of our code); the
 * exact bytes Synapse's key server produces for the same keys are checked in
 * test/interop/keys.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../../src/canonicaljson/index.js';
import {
  checkNotaryServerKeys,
  checkServerKeys,
  notaryQueryResponse,
  notarySignResponse,
  serverKeysResponse,
} from '../../src/keys/index.js';
import { decodeBase64, SigningKey } from '../../src/signing/index.js';
import { errcode } from '../helpers.js';
import { key, pub, response, sodiumVerify } from './helpers.js';

const A = key(1);
const B = key(2);
const OLD = key(3);
const N = key(9);
const SPEC_SEED = 'YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1';

describe('serverKeysResponse', () => {
  it('publishes the keys in the spec format, signed by every current key', () => {
    const r = serverKeysResponse({
      serverName: 'example.org',
      keys: { 'ed25519:a': A, 'ed25519:b': B },
      oldVerifyKeys: { 'ed25519:0ldk3y': { key: OLD.verifyKey, expiredTs: 1532645052628 } },
      validUntilTs: 1652262000000,
    });
    const { signatures, ...body } = r;
    expect(body).toEqual({
      server_name: 'example.org',
      valid_until_ts: 1652262000000,
      verify_keys: { 'ed25519:a': { key: pub(A) }, 'ed25519:b': { key: pub(B) } },
      old_verify_keys: { 'ed25519:0ldk3y': { key: pub(OLD), expired_ts: 1532645052628 } },
    });
    expect(Object.keys((signatures as JsonObject)['example.org'] as JsonObject).sort()).toEqual([
      'ed25519:a',
      'ed25519:b',
    ]);
    expect(sodiumVerify(r, 'example.org', 'ed25519:a', pub(A))).toBe(true);
    expect(sodiumVerify(r, 'example.org', 'ed25519:b', pub(B))).toBe(true);
  });

  it("signs with the spec's example key: the public key the spec prints, a signature libsodium accepts", () => {
    const k = new SigningKey(decodeBase64(SPEC_SEED));
    const r = serverKeysResponse({ serverName: 'domain', keys: { 'ed25519:1': k }, validUntilTs: 0 });
    expect(r.verify_keys).toEqual({ 'ed25519:1': { key: 'XGX0JRS2Af3be3knz2fBiRbApjm2Dh61gXDJA8kcJNI' } });
    expect(r.old_verify_keys).toEqual({});
    expect(sodiumVerify(r, 'domain', 'ed25519:1', 'XGX0JRS2Af3be3knz2fBiRbApjm2Dh61gXDJA8kcJNI')).toBe(true);
  });

  it('is accepted by checkServerKeys', () => {
    const r = serverKeysResponse({
      serverName: 's.example',
      keys: { 'ed25519:a': A },
      oldVerifyKeys: { 'ed25519:o': { key: OLD.verifyKey, expiredTs: 5 } },
      validUntilTs: 10,
    });
    const c = checkServerKeys(r, { serverName: 's.example' });
    expect(c.valid && [...c.verifyKeys].map(([id, k]) => [id, k.validUntilTs, k.old])).toEqual([
      ['ed25519:a', 10, false],
      ['ed25519:o', 5, true],
    ]);
  });

  it('refuses no keys, key IDs outside the grammar and times that are not safe integers', () => {
    const ok = { serverName: 's', keys: { 'ed25519:a': A }, validUntilTs: 1 };
    expect(errcode(() => serverKeysResponse({ ...ok, keys: {} }))).toBe('M_INVALID_PARAM');
    expect(errcode(() => serverKeysResponse({ ...ok, keys: { 'ed25519:a-b': A } }))).toBe('M_INVALID_PARAM');
    expect(errcode(() => serverKeysResponse({ ...ok, keys: { 'curve25519:a': A } }))).toBe('M_INVALID_PARAM');
    expect(errcode(() => serverKeysResponse({ ...ok, validUntilTs: 1.5 }))).toBe('M_INVALID_PARAM');
    expect(errcode(() => serverKeysResponse({ ...ok, validUntilTs: 2 ** 53 }))).toBe('M_INVALID_PARAM');
    expect(
      errcode(() =>
        serverKeysResponse({ ...ok, oldVerifyKeys: { 'ed25519:o': { key: OLD.verifyKey, expiredTs: Number.NaN } } }),
      ),
    ).toBe('M_INVALID_PARAM');
    expect(
      errcode(() => serverKeysResponse({ ...ok, oldVerifyKeys: { 'ed25519:': { key: OLD.verifyKey, expiredTs: 1 } } })),
    ).toBe('M_INVALID_PARAM');
    expect(errcode(() => serverKeysResponse({ ...ok, serverName: '\ud800' }))).toBe('M_BAD_JSON');
  });
});

describe('notary signatures', () => {
  const origin = response('origin.example', { 'ed25519:a': A }, 1652262000000);
  const identity = { serverName: 'notary.example', keys: { 'ed25519:n': N } };

  it("adds the notary's signature and keeps the origin's response and signature as they were", () => {
    const signed = notarySignResponse(origin, identity);
    expect({ ...signed, signatures: undefined }).toEqual({ ...origin, signatures: undefined });
    expect(sodiumVerify(signed, 'origin.example', 'ed25519:a', pub(A))).toBe(true);
    expect(sodiumVerify(signed, 'notary.example', 'ed25519:n', pub(N))).toBe(true);
    const notary = { serverName: 'notary.example', verifyKeys: new Map([['ed25519:n', N.verifyKey]]) };
    expect(checkNotaryServerKeys(signed, { notary, serverName: 'origin.example' }).valid).toBe(true);
  });

  it('answers a query with a server_keys list, one signed entry per response', () => {
    const other = response('b.example', { 'ed25519:b': B }, 5);
    const answer = notaryQueryResponse([origin, other], identity);
    const list = answer.server_keys as JsonObject[];
    expect(list.map((e) => e.server_name)).toEqual(['origin.example', 'b.example']);
    for (const e of list) expect(sodiumVerify(e, 'notary.example', 'ed25519:n', pub(N))).toBe(true);
    expect(notaryQueryResponse([], identity)).toEqual({ server_keys: [] });
    expect(errcode(() => notarySignResponse(origin, { serverName: 'n', keys: {} }))).toBe('M_INVALID_PARAM');
  });
});
