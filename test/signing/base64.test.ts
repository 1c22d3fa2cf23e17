import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBase64, encodeBase64, encodeBase64Url, InvalidInputError } from '../../src/signing/index.js';

const vectors = JSON.parse(readFileSync(new URL('../vectors/python-base64-decode.json', import.meta.url), 'utf8')) as {
  cases: { input: string; bytes?: string; error?: string }[];
};

describe('unpadded Base64', () => {
  it('encodes without padding, standard and URL-safe (spec appendix examples)', () => {
    // The spec's "Unpadded Base64" examples.
    const examples: [string, string][] = [
      ['', ''],
      ['f', 'Zg'],
      ['fo', 'Zm8'],
      ['foo', 'Zm9v'],
      ['foob', 'Zm9vYg'],
      ['fooba', 'Zm9vYmE'],
      ['foobar', 'Zm9vYmFy'],
    ];
    for (const [raw, b64] of examples) {
      expect(encodeBase64(Buffer.from(raw))).toBe(b64);
      expect(Buffer.from(decodeBase64(b64)).toString()).toBe(raw);
    }
    expect(encodeBase64(Uint8Array.from([0xfb, 0xff]))).toBe('+/8');
    expect(encodeBase64Url(Uint8Array.from([0xfb, 0xff]))).toBe('-_8');
  });

  it('round-trips any bytes in both alphabets', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        expect(decodeBase64(encodeBase64(bytes))).toEqual(bytes);
        expect(decodeBase64(encodeBase64Url(bytes))).toEqual(bytes);
        expect(encodeBase64(bytes)).toBe(Buffer.from(bytes).toString('base64').replace(/=+$/, ''));
      }),
    );
  });

  it('decodes the spec signing seed, whose last character has non-zero trailing bits', () => {
    expect(decodeBase64('YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1')).toHaveLength(32);
  });

  it(`decodes exactly as Synapse's unpaddedbase64 does (${vectors.cases.length} cases)`, () => {
    for (const c of vectors.cases) {
      if (c.error !== undefined) {
        // The documented error: InvalidInputError, M_INVALID_PARAM.
        expect(() => decodeBase64(c.input), JSON.stringify(c.input)).toThrow(
          expect.objectContaining({ name: 'InvalidInputError', errcode: 'M_INVALID_PARAM' }),
        );
      } else {
        expect(Buffer.from(decodeBase64(c.input)).toString('hex'), JSON.stringify(c.input)).toBe(c.bytes);
      }
    }
  });

  it('refuses non-ASCII input with a typed error', () => {
    expect(() => decodeBase64('ab\u00e9d')).toThrow(InvalidInputError);
  });

  it("says why it refuses (the causes its contract lists, as Python's binascii names them)", () => {
    expect(() => decodeBase64('Zm9v\u00e9')).toThrow(/outside ASCII/);
    expect(() => decodeBase64('Zm9vY')).toThrow(/one data character more than a multiple of four/);
    expect(() => decodeBase64('Zm9vY=')).toThrow(/one data character more than a multiple of four/);
    expect(() => decodeBase64('Zm9vYm=x')).toThrow(/padding/);
  });
});
