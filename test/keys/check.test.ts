/**
 * Checking key responses: named cases from the spec and from Synapse's
 * rules (synapse/crypto/keyring.py, process_v2_response and
 * PerspectivesKeyFetcher; the differential test in test/interop/keys.test.ts
 * holds us to its answers on thousands more). Responses here are signed
 * with libsodium over RFC 8785 text, independently of our signing code.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JsonFloat, type JsonObject, type JsonValue } from '../../src/canonicaljson/index.js';
import {
  checkNotaryResponse,
  checkNotaryServerKeys,
  checkServerKeys,
  parseKeysBody,
  type ServerKeysCheck,
  type TrustedNotary,
} from '../../src/keys/index.js';
import { encodeBase64, signJson } from '../../src/signing/index.js';
import { errcode } from '../helpers.js';
import { key, pub, response, SPEC_EXAMPLE_KEY_RESPONSE, sodiumSign } from './helpers.js';

const A = key(1);
const B = key(2);
const OLD = key(3);
const N = key(9);
const T = 1652262000000;
const S = 'origin.example';

function valid(c: ServerKeysCheck): Extract<ServerKeysCheck, { valid: true }> {
  if (!c.valid) throw new Error(`expected valid, got: ${c.reason}`);
  return c;
}

function keysOf(c: ServerKeysCheck): Record<string, [string, number, boolean]> {
  const out: Record<string, [string, number, boolean]> = {};
  for (const [id, k] of valid(c).verifyKeys) out[id] = [encodeBase64(k.key.bytes), k.validUntilTs, k.old];
  return out;
}

describe('checkServerKeys: the spec', () => {
  it("refuses the spec's example response: its keys are not 32 bytes (placeholder text)", () => {
    const example = SPEC_EXAMPLE_KEY_RESPONSE;
    // "This should be a real ed25519 payload": 37 bytes.
    expect(Buffer.from('VGhpcyBzaG91bGQgYmUgYSByZWFsIGVkMjU1MTkgcGF5bG9hZA', 'base64').length).toBe(37);
    const c = checkServerKeys(example, { serverName: 'example.org' });
    expect(c).toMatchObject({ valid: false, reason: expect.stringMatching(/37 bytes, not 32/) });
  });

  it('accepts the spec example shape with real keys, the old key valid until its expired_ts', () => {
    const r = response('example.org', { 'ed25519:abc123': A }, T, {
      'ed25519:0ldk3y': { key: OLD, expired_ts: 1532645052628 },
    });
    expect(keysOf(checkServerKeys(r, { serverName: 'example.org' }))).toEqual({
      'ed25519:abc123': [pub(A), T, false],
      'ed25519:0ldk3y': [pub(OLD), 1532645052628, true],
    });
  });

  it('takes a response signed by one of several keys (not all need sign)', () => {
    let r = response(S, { 'ed25519:a': A }, T);
    r = { ...r, verify_keys: { ...(r.verify_keys as JsonObject), 'ed25519:b': { key: pub(B) } } };
    // Adding a key after signing breaks A's signature: sign again, by B only.
    const { signatures: _s, ...unsigned } = r;
    const byB = sodiumSign(unsigned, S, 'ed25519:b', B);
    expect(keysOf(checkServerKeys(byB, { serverName: S }))).toEqual({
      'ed25519:a': [pub(A), T, false],
      'ed25519:b': [pub(B), T, false],
    });
  });
});

describe('checkServerKeys: refusals', () => {
  const good = response(S, { 'ed25519:a': A }, T);

  it('refuses a response for another server', () => {
    expect(checkServerKeys(good, { serverName: 'other.example' })).toMatchObject({
      valid: false,
      reason: expect.stringMatching(/not "origin.example"/),
    });
  });

  it('refuses an unsigned response, and one signed only by another server or an unknown key', () => {
    const { signatures: _s, ...unsigned } = good;
    expect(checkServerKeys(unsigned, { serverName: S }).valid).toBe(false);
    expect(checkServerKeys({ ...unsigned, signatures: {} }, { serverName: S }).valid).toBe(false);
    expect(checkServerKeys(sodiumSign(unsigned, 'notary.example', 'ed25519:a', A), { serverName: S }).valid).toBe(
      false,
    );
    expect(checkServerKeys(sodiumSign(unsigned, S, 'ed25519:zz', A), { serverName: S }).valid).toBe(false);
  });

  it('refuses a response signed by the old key only (old keys do not vouch for the response)', () => {
    const r = response(S, {}, T, { 'ed25519:o': { key: OLD, expired_ts: 5 } });
    const signed = sodiumSign(r, S, 'ed25519:o', OLD);
    expect(checkServerKeys(signed, { serverName: S })).toMatchObject({ valid: false });
  });

  it('refuses a bad signature, and content changed after signing', () => {
    const sig = ((good.signatures as JsonObject)[S] as JsonObject)['ed25519:a'] as string;
    const flipped = `${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}`;
    expect(checkServerKeys({ ...good, signatures: { [S]: { 'ed25519:a': flipped } } }, { serverName: S }).valid).toBe(
      false,
    );
    expect(checkServerKeys({ ...good, valid_until_ts: T + 1 }, { serverName: S }).valid).toBe(false);
    expect(checkServerKeys({ ...good, signatures: { [S]: { 'ed25519:a': 7 } } }, { serverName: S }).valid).toBe(false);
  });

  it('checks only the first signature by a listed key, in the order of the signatures object (as Synapse)', () => {
    const r = response(S, { 'ed25519:a': A, 'ed25519:b': B }, T);
    const sigs = (r.signatures as JsonObject)[S] as Record<string, string>;
    const b = sigs['ed25519:b'] as string;
    // b good, a broken: b comes first, so the response is taken.
    const bFirst = { ...r, signatures: { [S]: { 'ed25519:b': b, 'ed25519:a': 'AAAA' } } };
    expect(checkServerKeys(bFirst, { serverName: S }).valid).toBe(true);
    // a broken and first: refused, though b is good.
    const aFirst = { ...r, signatures: { [S]: { 'ed25519:a': 'AAAA', 'ed25519:b': b } } };
    expect(checkServerKeys(aFirst, { serverName: S }).valid).toBe(false);
    // Signatures by keys not listed are skipped, wherever they are.
    const junkFirst = { ...r, signatures: { [S]: { 'ed25519:zz': 'AAAA', 'ed25519:b': b } } };
    expect(checkServerKeys(junkFirst, { serverName: S }).valid).toBe(true);
  });

  it('refuses keys of the wrong length, even one that did not sign; ignores other algorithms entirely', () => {
    const r = response(S, { 'ed25519:a': A }, T);
    const { signatures: _s, ...unsigned } = r;
    for (const bad of [encodeBase64(A.publicKey.subarray(1)), encodeBase64(new Uint8Array(33)), '', 'A']) {
      const body = { ...unsigned, verify_keys: { 'ed25519:a': { key: pub(A) }, 'ed25519:x': { key: bad } } };
      expect(checkServerKeys(sodiumSign(body, S, 'ed25519:a', A), { serverName: S }).valid).toBe(false);
    }
    const other = { ...unsigned, verify_keys: { 'ed25519:a': { key: pub(A) }, 'curve25519:x': { key: 'junk' } } };
    expect(keysOf(checkServerKeys(sodiumSign(other, S, 'ed25519:a', A), { serverName: S }))).toEqual({
      'ed25519:a': [pub(A), T, false],
    });
  });

  it('reads keys as Synapse does: padded or URL-safe Base64 is taken', () => {
    const { signatures: _s, ...unsigned } = response(S, { 'ed25519:a': A }, T);
    for (const text of [`${pub(A)}=`, Buffer.from(A.publicKey).toString('base64url')]) {
      const body = sodiumSign({ ...unsigned, verify_keys: { 'ed25519:a': { key: text } } }, S, 'ed25519:a', A);
      expect(keysOf(checkServerKeys(body, { serverName: S }))['ed25519:a']?.[0]).toBe(pub(A));
    }
  });

  it('refuses malformed members: not objects, missing fields', () => {
    const r = response(S, { 'ed25519:a': A }, T);
    const cases: JsonValue[] = [
      null,
      [],
      'text',
      { ...r, server_name: undefined as unknown as JsonValue },
      (() => {
        const { valid_until_ts: _v, ...rest } = r;
        return rest;
      })(),
      { ...r, verify_keys: [] },
      { ...r, signatures: [] },
      { ...r, signatures: { [S]: 'ed25519:a' } },
      { ...r, old_verify_keys: null },
      { ...r, old_verify_keys: { 'ed25519:o': 'x' } },
    ];
    for (const c of cases)
      expect(checkServerKeys(JSON.parse(JSON.stringify(c ?? null)), { serverName: S }).valid).toBe(false);
  });
});

describe('checkServerKeys: validity times', () => {
  it('takes a response whose valid_until_ts has passed: it still proves keys for earlier signatures', () => {
    const c = checkServerKeys(response(S, { 'ed25519:a': A }, 1), { serverName: S });
    expect(keysOf(c)).toEqual({ 'ed25519:a': [pub(A), 1, false] });
  });

  it('an old key replaces a current key of the same ID, valid until its expired_ts', () => {
    const r = response(S, { 'ed25519:a': A }, T, { 'ed25519:a': { key: OLD, expired_ts: 99 } });
    expect(keysOf(checkServerKeys(r, { serverName: S }))).toEqual({ 'ed25519:a': [pub(OLD), 99, true] });
  });

  it('needs integer times of 64 bits: floats, strings, booleans and 2^63 are refused', () => {
    for (const until of [1.5, '1652262000000', true, null, 2n ** 63n, -(2n ** 63n) - 1n, new JsonFloat(1e12)]) {
      const r = response(S, { 'ed25519:a': A }, 0);
      const { signatures: _s, ...unsigned } = r;
      const body = { ...unsigned, valid_until_ts: until } as JsonObject;
      // Signed by our signer here: RFC 8785 cannot encode bigint or JsonFloat.
      const signed = { ...body, signatures: { [S]: { 'ed25519:a': 'x' } } };
      expect(checkServerKeys(signed, { serverName: S }).valid).toBe(false);
    }
    for (const expired of [1.5, 'x', false]) {
      const r = response(S, { 'ed25519:a': A }, T, { 'ed25519:o': { key: OLD, expired_ts: 0 } });
      const { signatures: _s, ...unsigned } = r;
      const body = { ...unsigned, old_verify_keys: { 'ed25519:o': { key: pub(OLD), expired_ts: expired } } };
      expect(checkServerKeys(sodiumSign(body, S, 'ed25519:a', A), { serverName: S }).valid).toBe(false);
    }
  });

  it('takes the 64-bit edges, exactly: -2^63 and 2^63 - 1', () => {
    for (const edge of [2n ** 63n - 1n, -(2n ** 63n)]) {
      const body: JsonObject = { server_name: S, valid_until_ts: edge, verify_keys: { 'ed25519:a': { key: pub(A) } } };
      // RFC 8785 cannot write these integers: signed with our signer.
      const signed = signJson(body, S, 'ed25519:a', A, { numbers: 'legacy' });
      const c = valid(checkServerKeys(signed, { serverName: S }));
      expect(c.verifyKeys.get('ed25519:a')?.validUntilTs).toBe(Number(edge));
    }
  });
});

describe('checkNotaryServerKeys and checkNotaryResponse', () => {
  const notary: TrustedNotary = { serverName: 'notary.example', verifyKeys: new Map([['ed25519:n', N.verifyKey]]) };
  const origin = response(S, { 'ed25519:a': A }, T);
  const vouched = sodiumSign(origin, 'notary.example', 'ed25519:n', N);

  it("takes the origin's response with the notary's signature added", () => {
    expect(keysOf(checkNotaryServerKeys(vouched, { notary, serverName: S }))).toEqual({
      'ed25519:a': [pub(A), T, false],
    });
  });

  it("refuses an entry without the notary's signature, or signed by a key of the notary we do not know", () => {
    expect(checkNotaryServerKeys(origin, { notary }).valid).toBe(false);
    const unknownKey = sodiumSign(origin, 'notary.example', 'ed25519:other', key(10));
    expect(checkNotaryServerKeys(unknownKey, { notary }).valid).toBe(false);
    const badSig = {
      ...vouched,
      signatures: { ...(vouched.signatures as JsonObject), 'notary.example': { 'ed25519:n': 'AAAA' } },
    };
    expect(checkNotaryServerKeys(badSig, { notary }).valid).toBe(false);
  });

  it('refuses a notary that changed what the origin published: the origin signature no longer matches', () => {
    const { signatures, ...content } = origin;
    // The notary slips in a key of its own and signs the result itself.
    const lie = sodiumSign(
      {
        ...content,
        signatures: signatures as JsonValue,
        verify_keys: { ...(content.verify_keys as JsonObject), 'ed25519:evil': { key: pub(key(66)) } },
      },
      'notary.example',
      'ed25519:n',
      N,
    );
    expect(checkNotaryServerKeys(lie, { notary }).valid).toBe(false);
    // Re-dating the response is caught the same way.
    const redated = sodiumSign({ ...origin, valid_until_ts: T * 2 }, 'notary.example', 'ed25519:n', N);
    expect(checkNotaryServerKeys(redated, { notary }).valid).toBe(false);
  });

  it('checks a whole answer: a bad entry leaves the others; a malformed list fails the answer', () => {
    const other = sodiumSign(response('b.example', { 'ed25519:b': B }, T), 'notary.example', 'ed25519:n', N);
    const c = checkNotaryResponse({ server_keys: [vouched, origin, other] }, notary);
    if (!c.valid) throw new Error(c.reason);
    expect(c.entries.map((e) => e.valid)).toEqual([true, false, true]);
    expect(checkNotaryResponse({ server_keys: [vouched, { server_name: 5 }] }, notary).valid).toBe(false);
    expect(checkNotaryResponse({ server_keys: {} }, notary).valid).toBe(false);
    expect(checkNotaryResponse([], notary).valid).toBe(false);
    expect(checkNotaryResponse({ server_keys: [] }, notary)).toEqual({ valid: true, entries: [] });
  });
});

describe('parseKeysBody', () => {
  it('parses bytes and text losslessly', () => {
    const v = parseKeysBody(new TextEncoder().encode('{"valid_until_ts":9223372036854775807,"f":1.0}'));
    expect(v).toEqual({ valid_until_ts: 2n ** 63n - 1n, f: new JsonFloat(1) });
  });

  it('refuses huge and deeply nested bodies, and bodies that are not JSON, with typed errors', () => {
    expect(errcode(() => parseKeysBody(`{"a":"${'x'.repeat(1024 * 1024)}"}`))).toBe('M_TOO_LARGE');
    expect(errcode(() => parseKeysBody(new Uint8Array(2 * 1024 * 1024)))).toBe('M_TOO_LARGE');
    expect(errcode(() => parseKeysBody('{"a":1}', { maxBytes: 3 }))).toBe('M_TOO_LARGE');
    expect(errcode(() => parseKeysBody(`${'['.repeat(65)}${']'.repeat(65)}`))).toBe('M_BAD_JSON');
    expect(errcode(() => parseKeysBody(`${'['.repeat(100000)}`))).toBe('M_BAD_JSON');
    expect(parseKeysBody(`${'['.repeat(64)}${']'.repeat(64)}`)).toBeDefined();
    expect(errcode(() => parseKeysBody('{"a":'))).toBe('M_NOT_JSON');
    expect(errcode(() => parseKeysBody(new Uint8Array([0x7b, 0xff, 0x7d])))).toBe('M_NOT_JSON');
    expect(errcode(() => parseKeysBody('"\\ud800"'))).toBe('M_BAD_JSON');
  });
});

describe('robustness', () => {
  it('never throws, whatever the JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 5 }), fc.string(), (v, name) => {
        const c = checkServerKeys(v as JsonValue, { serverName: name });
        expect(typeof c.valid).toBe('boolean');
        const n = checkNotaryResponse(v as JsonValue, {
          serverName: name,
          verifyKeys: new Map([['ed25519:n', N.verifyKey]]),
        });
        expect(typeof n.valid).toBe('boolean');
      }),
      { numRuns: 2000, seed: 5 },
    );
  });

  it('never takes a response whose signed content was changed, and never throws on mutations', () => {
    const base = response(S, { 'ed25519:a': A, 'ed25519:b': B }, T, { 'ed25519:o': { key: OLD, expired_ts: 7 } });
    const paths = ['server_name', 'valid_until_ts', 'verify_keys', 'old_verify_keys', 'extra'];
    fc.assert(
      fc.property(fc.constantFrom(...paths), fc.jsonValue({ maxDepth: 3 }), (path, value) => {
        const mutated = { ...base, [path]: value } as JsonObject;
        const c = checkServerKeys(JSON.parse(JSON.stringify(mutated)), { serverName: S });
        const unchanged = JSON.stringify(base[path]) === JSON.stringify(value);
        if (!unchanged) expect(c.valid).toBe(false);
      }),
      { numRuns: 1500, seed: 6 },
    );
  });
});
