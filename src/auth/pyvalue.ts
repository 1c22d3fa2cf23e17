/**
 * Reading event content the way Synapse's auth code reads it.
 *
 * The spec's auth rules assume well-formed content; rooms hold content that
 * is not (power levels as strings before v10, `users` as a list, a
 * `public_keys` that is a string). Synapse reads that content with Python's
 * `dict`/`list`/`str` semantics and `int()`, and an exception there means
 * the event is not accepted. A server that judges such content differently
 * splits the room, so every read the auth rules make of content goes through
 * these functions, which give Python's answer or throw {@link PythonError}
 * where Python raises.
 *
 * @module
 */

import { isJsonObject, JsonFloat, type JsonObject, type JsonValue } from '../canonicaljson/value.js';

/**
 * Where Python would raise (`TypeError`, `KeyError`, `ValueError`,
 * `AttributeError`): the content cannot be read the way the rules need.
 */
export class PythonError extends Error {
  /** `PythonError`. */
  override readonly name = 'PythonError';
}

/**
 * An integer as Python's `int()` returns it: a `number` when it is a safe
 * integer, a `bigint` otherwise, so that equal levels are `===` and the
 * relational operators compare any two exactly.
 */
export type PyInt = number | bigint;

function normalise(b: bigint): PyInt {
  return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
}

/** CPython's limit on digits in `int(str)` (sys.int_info.default_max_str_digits). */
const MAX_STR_DIGITS = 4300;

// Py_UNICODE_ISSPACE outside ASCII: int() turns these into spaces; inside
// ASCII only C's isspace set is skipped (so \x1c-\x1f are not).
const UNICODE_SPACE = /[\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/u;
const ASCII_SPACE = /[\t\n\v\f\r ]/;
const DECIMAL = /\p{Nd}/u;

/** The value of a decimal digit (Unicode Nd): they come in runs of ten from 0. */
function digitValue(ch: string): number {
  let cp = ch.codePointAt(0) as number;
  let n = 0;
  while (DECIMAL.test(String.fromCodePoint(cp - 1))) {
    cp--;
    n++;
  }
  return n % 10;
}

/** Python's `int(s)` for a `str`: base 10, whitespace, sign, `_` between digits, any Unicode digit. */
function intOfString(s: string): PyInt {
  // The ASCII form int() parses: non-ASCII spaces and digits transliterated,
  // any other non-ASCII character invalid.
  let ascii = '';
  for (const ch of s) {
    if (ch.charCodeAt(0) < 0x80) ascii += ch;
    else if (UNICODE_SPACE.test(ch)) ascii += ' ';
    else if (DECIMAL.test(ch)) ascii += String(digitValue(ch));
    else throw new PythonError(`invalid literal for int() with base 10: ${JSON.stringify(s)}`);
  }
  let i = 0;
  let j = ascii.length;
  while (i < j && ASCII_SPACE.test(ascii[i] as string)) i++;
  while (j > i && ASCII_SPACE.test(ascii[j - 1] as string)) j--;
  const body = ascii.slice(i, j);
  const m = /^([+-]?)([0-9](?:_?[0-9])*)$/.exec(body);
  if (m === null) throw new PythonError(`invalid literal for int() with base 10: ${JSON.stringify(s)}`);
  const digits = (m[2] as string).replaceAll('_', '');
  if (digits.length > MAX_STR_DIGITS) {
    throw new PythonError(`Exceeds the limit (${MAX_STR_DIGITS} digits) for integer string conversion`);
  }
  const value = BigInt(digits);
  return normalise(m[1] === '-' ? -value : value);
}

/**
 * Python's `int(value)`: integers as they are, `true`/`false` as 1/0,
 * floats truncated toward zero, strings parsed as `int()` parses them
 * (`" +0100 "` is 100, `"1_000"` is 1000, `"50.9"` raises).
 *
 * @throws {@link PythonError} for `null`, lists, objects, and strings that
 *   are not base-10 integers.
 */
export function pyInt(value: JsonValue | undefined): PyInt {
  switch (typeof value) {
    case 'number':
      return Number.isSafeInteger(value) ? value : normalise(BigInt(Math.trunc(value)));
    case 'bigint':
      return normalise(value);
    case 'boolean':
      return value ? 1 : 0;
    case 'string':
      return intOfString(value);
  }
  if (value instanceof JsonFloat) {
    if (!Number.isFinite(value.value)) throw new PythonError('cannot convert float infinity to integer');
    return normalise(BigInt(Math.trunc(value.value)));
  }
  throw new PythonError(`int() argument must be a string or a number, not ${pyTypeName(value)}`);
}

/** Python's name for the type a JSON value decodes to. */
export function pyTypeName(value: JsonValue | undefined): string {
  if (value === null || value === undefined) return 'NoneType';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number' || typeof value === 'bigint') return 'int';
  if (typeof value === 'string') return 'str';
  if (value instanceof JsonFloat) return 'float';
  return Array.isArray(value) ? 'list' : 'dict';
}

/** Python's `value is True`. */
export function isPyTrue(value: JsonValue | undefined): boolean {
  return value === true;
}

/** The own property `key` of `object`, as `dict.get(key)` would find it. */
export function own(object: JsonObject, key: string): JsonValue | undefined {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

/**
 * `container.get(key, fallback)`: `container` must be a dict (Python raises
 * `AttributeError` on anything else). A key holding `null` gives `null`,
 * not the fallback, as in Python.
 */
export function pyGet(
  container: JsonValue | undefined,
  key: string,
  fallback: JsonValue | undefined,
): JsonValue | undefined {
  if (!isJsonObject(container)) {
    throw new PythonError(`'${pyTypeName(container)}' object has no attribute 'get'`);
  }
  return Object.hasOwn(container, key) ? container[key] : fallback;
}

/** Python's truth value of a JSON value (`if value:`). */
export function pyTruthy(value: JsonValue | undefined): boolean {
  if (value === null || value === undefined || value === false) return false;
  if (typeof value === 'number') return value !== 0;
  if (typeof value === 'bigint') return value !== 0n;
  if (typeof value === 'string' || Array.isArray(value)) return value.length > 0;
  if (value instanceof JsonFloat) return value.value !== 0;
  return value === true || Object.keys(value).length > 0;
}

/** Python's `list(value)`: a dict's keys, a list's items, a str's characters. */
export function pyList(value: JsonValue | undefined): JsonValue[] {
  if (typeof value === 'string') return Array.from(value);
  if (Array.isArray(value)) return value;
  if (isJsonObject(value)) return Object.keys(value);
  throw new PythonError(`'${pyTypeName(value)}' object is not iterable`);
}

/** Whether a value can be a dict key or set member (Python raises for dicts and lists). */
function assertHashable(value: JsonValue | undefined): void {
  if (Array.isArray(value) || isJsonObject(value)) {
    throw new PythonError(`unhashable type: '${pyTypeName(value)}'`);
  }
}

/** The number a bool, int or float compares as, for Python's `==`. */
function numeric(value: JsonValue | undefined): number | bigint | undefined {
  if (typeof value === 'number' || typeof value === 'bigint') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (value instanceof JsonFloat) return value.value;
  return undefined;
}

/** Python's `a == b` for hashable JSON values (`1 == 1.0 == True`). */
export function pyEquals(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  if (a === null || b === null || a === undefined || b === undefined) return a === b;
  const x = numeric(a);
  const y = numeric(b);
  if (x === undefined || y === undefined) return false;
  // Mixed number/bigint comparison is exact in JavaScript.
  return !(x < y) && !(x > y);
}

/**
 * Python's `set(value)` as a list of members: each member must be hashable.
 * Duplicates may remain; callers only test membership.
 */
export function pySet(value: JsonValue | undefined): JsonValue[] {
  const items = pyList(value);
  for (const item of items) assertHashable(item);
  return items;
}

/** Python's `item in members` for members from {@link pySet}. */
export function pyIn(item: JsonValue | undefined, members: readonly JsonValue[]): boolean {
  assertHashable(item);
  return members.some((m) => pyEquals(m, item));
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/** Python's `needle in haystack` for two str: a substring match on code points. */
function strContains(haystack: string, needle: string): boolean {
  // A match that starts or ends inside a surrogate pair is not a match of
  // code points; it can only happen when the needle has a lone surrogate.
  for (let i = haystack.indexOf(needle); i >= 0; i = haystack.indexOf(needle, i + 1)) {
    const splitsStart = i > 0 && isLowSurrogate(needle.charCodeAt(0)) && isHighSurrogate(haystack.charCodeAt(i - 1));
    const end = i + needle.length;
    const splitsEnd =
      needle.length > 0 &&
      end < haystack.length &&
      isHighSurrogate(needle.charCodeAt(needle.length - 1)) &&
      isLowSurrogate(haystack.charCodeAt(end));
    if (!splitsStart && !splitsEnd) return true;
  }
  return false;
}

/**
 * Python's `key in container`: a dict's keys, a list's items, a substring of
 * a str.
 *
 * @throws {@link PythonError} where Python raises (an unhashable key for a
 *   dict, a non-str key for a str, a container of another type).
 */
export function pyContains(container: JsonValue | undefined, key: JsonValue | undefined): boolean {
  if (isJsonObject(container)) {
    assertHashable(key);
    return typeof key === 'string' && Object.hasOwn(container, key);
  }
  if (Array.isArray(container))
    return container.some((item) => !Array.isArray(item) && !isJsonObject(item) && pyEquals(item, key));
  if (typeof container === 'string') {
    if (typeof key !== 'string') {
      throw new PythonError(`'in <string>' requires string as left operand, not ${pyTypeName(key)}`);
    }
    return strContains(container, key);
  }
  throw new PythonError(`argument of type '${pyTypeName(container)}' is not iterable`);
}

/** A Python sequence index: an int (or bool), possibly negative. */
function sequenceIndex(key: JsonValue | undefined, length: number, what: string): number {
  if (typeof key !== 'number' && typeof key !== 'bigint' && typeof key !== 'boolean') {
    throw new PythonError(`${what} indices must be integers, not ${pyTypeName(key)}`);
  }
  const n = Number(pyInt(key));
  const i = n < 0 ? n + length : n;
  if (!(i >= 0 && i < length)) throw new PythonError(`${what} index out of range`);
  return i;
}

/**
 * Python's `container[key]`.
 *
 * @throws {@link PythonError} where Python raises (a missing dict key, a
 *   sequence index that is not an int or out of range).
 */
export function pyGetItem(container: JsonValue | undefined, key: JsonValue | undefined): JsonValue {
  if (isJsonObject(container)) {
    assertHashable(key);
    if (typeof key === 'string' && Object.hasOwn(container, key)) return container[key] as JsonValue;
    throw new PythonError(`KeyError: ${String(key)}`);
  }
  if (Array.isArray(container)) return container[sequenceIndex(key, container.length, 'list')] as JsonValue;
  if (typeof container === 'string') {
    const chars = Array.from(container);
    return chars[sequenceIndex(key, chars.length, 'string')] as string;
  }
  throw new PythonError(`'${pyTypeName(container)}' object is not subscriptable`);
}
