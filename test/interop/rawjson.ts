/**
 * JSON values whose numbers are written exactly as given, for request lines
 * that must carry `1.0`, `1E5` or 2^64 to both implementations untouched.
 */

import fc from 'fast-check';

/** A JSON number as written in the request line. */
export class Raw {
  constructor(readonly text: string) {}
}

/** A JSON value that may hold {@link Raw} numbers. */
export type Val = null | boolean | number | string | Raw | Val[] | { [key: string]: Val };
/** A JSON object that may hold {@link Raw} numbers. */
export type Obj = { [key: string]: Val };

/** An object from entries; later entries win; `__proto__` stays a key. */
export function objOf(entries: ReadonlyArray<readonly [string, Val]>): Obj {
  const o: Obj = {};
  for (const [k, v] of entries) {
    Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return o;
}

/** JSON text of a value, numbers as written. */
export function text(v: Val): string {
  if (v instanceof Raw) return v.text;
  if (Array.isArray(v)) return `[${v.map(text).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v)
      .map((k) => `${JSON.stringify(k)}:${text(v[k] as Val)}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** Options to parse answers losslessly. */
export const LEGACY = { numbers: 'legacy', allowUnpairedSurrogates: true } as const;

/** Characters above U+FFFF (surrogate pairs in UTF-16). */
export const astral = fc.integer({ min: 0x10000, max: 0x10ffff }).map((c) => String.fromCodePoint(c));
/** Characters in U+E000–U+FFFF, which sort differently by UTF-16 unit than by code point. */
export const highBmp = fc.integer({ min: 0xe000, max: 0xffff }).map((c) => String.fromCharCode(c));

/** Nested JSON values built from the given strings, object keys and numbers. */
export function jsonValueOf(
  text: fc.Arbitrary<string>,
  key: fc.Arbitrary<string>,
  num: fc.Arbitrary<Val>,
): fc.Arbitrary<Val> {
  return fc.letrec<{ value: Val }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      text,
      num,
      fc.boolean(),
      fc.constant(null),
      fc.array(tie('value'), { maxLength: 3 }),
      fc.array(fc.tuple(key, tie('value')), { maxLength: 3 }).map(objOf),
    ),
  })).value;
}
