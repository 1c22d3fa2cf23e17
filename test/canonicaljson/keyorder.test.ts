import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeCanonicalJson, sortByCodePoint, sortedKeys } from '../../src/canonicaljson/index.js';
import { errcode } from '../helpers.js';

/**
 * An independent order: strings compared as arrays of code points (what
 * the spec's "sorted by Unicode code point" says), written without any of
 * the module's unit arithmetic.
 */
function byCodePoints(a: string, b: string): number {
  const x = Array.from(a, (c) => c.codePointAt(0) as number);
  const y = Array.from(b, (c) => c.codePointAt(0) as number);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return (x[i] as number) - (y[i] as number);
  }
  return x.length - y.length;
}

const unique = (keys: string[]) => [...new Set(keys)];

/** Characters around the places where UTF-16 and code point order differ. */
const tricky = fc.constantFrom(
  'a',
  'b',
  '@',
  ':',
  '0',
  '\u00e9',
  '\ud7ff',
  '\ue000',
  '\uffff',
  '\u{10000}',
  '😀',
  '\u{10ffff}',
);

describe('sortByCodePoint', () => {
  it('sorts small and large key sets as an independent code point comparison does', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: 'grapheme', maxLength: 6 }), { maxLength: 300 }),
        fc.array(fc.string({ unit: tricky, maxLength: 5 }), { maxLength: 300 }),
        (a, b) => {
          for (const keys of [unique(a), unique(b), unique([...a, ...b])]) {
            expect(sortByCodePoint([...keys])).toEqual([...keys].sort(byCodePoints));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('sorts keys sharing long prefixes, and inputs already in order or reversed', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: tricky, maxLength: 40 }),
        fc.array(fc.string({ unit: tricky, maxLength: 4 }), { minLength: 50, maxLength: 400 }),
        (prefix, tails) => {
          const keys = unique(tails.map((t) => prefix + t));
          const expected = [...keys].sort(byCodePoints);
          expect(sortByCodePoint([...keys])).toEqual(expected);
          expect(sortByCodePoint([...expected])).toEqual(expected);
          expect(sortByCodePoint([...expected].reverse())).toEqual(expected);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('finishes by comparison when the partitioning runs out of budget (a 300-unit shared prefix)', () => {
    // Each shared unit is one partitioning step: past the budget the range
    // is sorted by comparison, which must give the same order.
    const prefix = 'x'.repeat(300);
    const keys = Array.from({ length: 2000 }, (_, i) => `${prefix}${(i * 7919) % 2000}`);
    expect(sortByCodePoint([...keys])).toEqual([...keys].sort(byCodePoints));
  });

  it('sorts 30,000 keys', () => {
    const keys = Array.from({ length: 30_000 }, (_, i) => `@u${(i * 48271) % 30_000}:s${i % 7}.org`);
    const sorted = sortByCodePoint([...keys]);
    expect(sorted).toEqual([...keys].sort(byCodePoints));
  });

  it('sortedKeys gives an object key order, integer-like keys as strings', () => {
    const obj: Record<string, number> = {};
    for (let i = 0; i < 100; i++) obj[String(99 - i)] = i;
    obj['\u{1F600}'] = 0;
    obj['\uFB33'] = 0;
    expect(sortedKeys(obj)).toEqual(Object.keys(obj).sort(byCodePoints));
  });
});

describe('string encoding: one scan for escapes and unpaired surrogates', () => {
  it('writes every well-formed string as JSON.stringify does and refuses every other', () => {
    // JSON.stringify escapes exactly what Canonical JSON escapes for
    // well-formed strings (checked against the spec's list in
    // encode.test.ts); isWellFormed is the independent judge of surrogates.
    const units = fc.constantFrom(
      'a',
      '"',
      '\\',
      '\n',
      '\u0000',
      '\u001f',
      ' ',
      '\u00e9',
      '\ud800',
      '\udbff',
      '\udc00',
      '\udfff',
      '\ue000',
      '😀',
    );
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: units, maxLength: 12 }), fc.string({ unit: 'binary' })), (s) => {
        for (const value of [s, { [s]: 1 }, [`x${s}`, `${s}y`]]) {
          if (s.isWellFormed()) {
            expect(encodeCanonicalJson(value)).toBe(JSON.stringify(value));
          } else {
            expect(errcode(() => encodeCanonicalJson(value))).toBe('M_BAD_JSON');
            expect(encodeCanonicalJson(value, { allowUnpairedSurrogates: true })).toBe(JSON.stringify(value));
          }
        }
      }),
      { numRuns: 3000 },
    );
  });
});
