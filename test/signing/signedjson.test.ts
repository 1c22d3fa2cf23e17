import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JsonFloat, type JsonObject } from '../../src/canonicaljson/index.js';
import {
  decodeBase64,
  encodeBase64,
  InvalidInputError,
  isKeyId,
  parseKeyId,
  SigningKey,
  signedBytes,
  signJson,
  verifyJson,
} from '../../src/signing/index.js';

// The spec's example key (Appendices, "Signing JSON"): its seed, and the
// public key and signatures the spec prints for it.
const SPEC_SEED = 'YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1';
const SPEC_PUBLIC = 'XGX0JRS2Af3be3knz2fBiRbApjm2Dh61gXDJA8kcJNI';
const specKey = new SigningKey(decodeBase64(SPEC_SEED));

describe('signJson and verifyJson', () => {
  it('reproduce the spec appendix examples', () => {
    expect(encodeBase64(specKey.publicKey)).toBe(SPEC_PUBLIC);
    expect(signJson({}, 'domain', 'ed25519:1', specKey)).toEqual({
      signatures: {
        domain: {
          'ed25519:1': 'K8280/U9SSy9IVtjBuVeLr+HpOB4BQFWbg+UZaADMtTdGYI7Geitb76LTrr5QV/7Xg4ahLwYGYZzuHGZKM5ZAQ',
        },
      },
    });
    expect(signJson({ one: 1, two: 'Two' }, 'domain', 'ed25519:1', specKey)).toEqual({
      one: 1,
      two: 'Two',
      signatures: {
        domain: {
          'ed25519:1': 'KqmLSbO39/Bzb0QIYE82zqLwsA+PDzYIpIRA2sRQ4sL53+sN6/fpNSoqE7BP7vBZhG6kYdD13EIMJpvhJI+6Bw',
        },
      },
    });
  });

  it('leaves signatures and unsigned out of what is signed, and keeps both', () => {
    const signed = signJson(
      { a: 1, unsigned: { age_ts: 5 }, signatures: { other: { 'ed25519:x': 'sig' } } },
      'domain',
      'ed25519:1',
      specKey,
    );
    expect(signed.unsigned).toEqual({ age_ts: 5 });
    expect((signed.signatures as JsonObject).other).toEqual({ 'ed25519:x': 'sig' });
    expect(signedBytes(signed).toString()).toBe('{"a":1}');
    const changedUnsigned = { ...signed, unsigned: { age_ts: 99 } };
    expect(verifyJson(changedUnsigned, 'domain', 'ed25519:1', specKey.verifyKey)).toEqual({ valid: true });
  });

  it('does not modify its input', () => {
    const input = { a: 1, signatures: { domain: { 'ed25519:0': 'x' } } };
    const copy = structuredClone(input);
    signJson(input, 'domain', 'ed25519:1', specKey);
    expect(input).toEqual(copy);
  });

  it('detects any change to the signed content', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 3 }), fc.string(), (v, extra) => {
        const obj: JsonObject = { v: JSON.parse(JSON.stringify(v)) as never };
        const signed = signJson(obj, 'a.example', 'ed25519:k', specKey, { numbers: 'legacy' });
        expect(verifyJson(signed, 'a.example', 'ed25519:k', specKey.verifyKey, { numbers: 'legacy' }).valid).toBe(true);
        const tampered = { ...signed, extra };
        expect(verifyJson(tampered, 'a.example', 'ed25519:k', specKey.verifyKey, { numbers: 'legacy' }).valid).toBe(
          false,
        );
      }),
      { numRuns: 200 },
    );
  });

  it('reports why a signature is not valid, without throwing', () => {
    const signed = signJson({ a: 1 }, 'domain', 'ed25519:1', specKey);
    const other = SigningKey.generate().verifyKey;
    const reasons = [
      verifyJson({ a: 1 }, 'domain', 'ed25519:1', specKey.verifyKey),
      verifyJson(signed, 'elsewhere', 'ed25519:1', specKey.verifyKey),
      verifyJson(signed, 'domain', 'ed25519:2', specKey.verifyKey),
      verifyJson(signed, 'domain', 'ed25519:1', other),
      verifyJson({ ...signed, signatures: { domain: { 'ed25519:1': 5 } } }, 'domain', 'ed25519:1', specKey.verifyKey),
      verifyJson({ ...signed, signatures: { domain: { 'ed25519:1': 'é' } } }, 'domain', 'ed25519:1', specKey.verifyKey),
      verifyJson({ ...signed, signatures: 'x' }, 'domain', 'ed25519:1', specKey.verifyKey),
      verifyJson({ ...signed, f: new JsonFloat(1.5) }, 'domain', 'ed25519:1', specKey.verifyKey),
    ];
    for (const r of reasons) {
      expect(r.valid).toBe(false);
      if (!r.valid) expect(r.reason.length).toBeGreaterThan(0);
    }
  });

  it('signs legacy numbers exactly as they were parsed', () => {
    const obj = { big: 2n ** 70n, f: new JsonFloat(1) };
    expect(() => signJson(obj, 'd', 'ed25519:1', specKey)).toThrow(InvalidInputError);
    const signed = signJson(obj, 'd', 'ed25519:1', specKey, { numbers: 'legacy' });
    expect(signedBytes(signed, { numbers: 'legacy' }).toString()).toBe('{"big":1180591620717411303424,"f":1.0}');
  });

  it('refuses malformed key IDs and signatures members with typed errors', () => {
    expect(() => signJson({}, 'd', 'ed25519:a-b', specKey)).toThrow(InvalidInputError);
    expect(() => signJson({}, 'd', 'rsa:1', specKey)).toThrow(InvalidInputError);
    expect(() => signJson({ signatures: [] }, 'd', 'ed25519:1', specKey)).toThrow(InvalidInputError);
    expect(() => signJson({ signatures: { d: 'x' } }, 'd', 'ed25519:1', specKey)).toThrow(InvalidInputError);
  });
});

describe('key IDs', () => {
  it('follow the grammar ed25519:[a-zA-Z0-9_]+', () => {
    expect(parseKeyId('ed25519:a_B9')).toEqual({ algorithm: 'ed25519', version: 'a_B9' });
    for (const bad of ['ed25519:', 'ed25519', 'ed25519:a-b', 'ed25519:a:b', 'ED25519:a', 'curve25519:a', 'ed25519:é']) {
      expect(isKeyId(bad)).toBe(false);
      expect(() => parseKeyId(bad)).toThrow(InvalidInputError);
    }
  });
});
