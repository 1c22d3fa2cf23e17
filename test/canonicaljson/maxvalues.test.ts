/**
 * `maxValues`: the bound on the values a parse creates, which bounds its
 * heap where `maxLength` cannot (a byte of `[]` costs tens of bytes of
 * heap). The counts are written by hand from the JSON text: every object,
 * array, string, number, boolean and null is one value; keys are not
 * counted apart.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidInputError, type JsonValue, parseJson } from '../../src/canonicaljson/index.js';
import { errcode } from '../helpers.js';

/** Values in a tree, counted independently of the parser. */
function count(v: JsonValue): number {
  if (Array.isArray(v)) return 1 + v.reduce<number>((n, x) => n + count(x), 0);
  if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    return 1 + Object.values(v).reduce<number>((n, x) => n + count(x as JsonValue), 0);
  }
  return 1;
}

describe('parseJson: maxValues', () => {
  it.each([
    ['0', 1],
    ['[]', 1],
    ['{}', 1],
    ['[[]]', 2],
    ['[1,"x",true,false,null]', 6],
    ['{"a":1}', 2],
    ['{"a":{"b":[1,2]}}', 5],
    // A duplicated key's first value is created too, then replaced.
    ['{"a":1,"a":[2]}', 4],
    [' [ [ ] , { } ] ', 3],
  ])('counts %j as %i values: accepts exactly that many', (text, n) => {
    expect(() => parseJson(text, { maxValues: n })).not.toThrow();
    expect(errcode(() => parseJson(text, { maxValues: n - 1 }))).toBe('M_TOO_LARGE');
  });

  it('counts byte input as text input', () => {
    const bytes = new TextEncoder().encode('{"é":[1,2,3]}');
    expect(() => parseJson(bytes, { maxValues: 5 })).not.toThrow();
    expect(errcode(() => parseJson(bytes, { maxValues: 4 }))).toBe('M_TOO_LARGE');
  });

  it('stops at the first value past the limit, not at the end of the input', () => {
    // 1,000,000 values; refused where the 11th (the 10th inner []) begins: offset 1 + 9 * 3.
    const text = `[${'[],'.repeat(999_998)}[]]`;
    let error: unknown;
    try {
      parseJson(text, { maxValues: 10, maxLength: text.length });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).message).toBe('JSON input holds more than 10 values at offset 28');
  });

  it('has no limit by default, and agrees with an independent count on any JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const text = JSON.stringify(v);
        const n = count(parseJson(text, { numbers: 'legacy' }));
        expect(() => parseJson(text, { numbers: 'legacy', maxValues: n })).not.toThrow();
        expect(errcode(() => parseJson(text, { numbers: 'legacy', maxValues: n - 1 }))).toBe('M_TOO_LARGE');
      }),
      { numRuns: 500 },
    );
  });
});
