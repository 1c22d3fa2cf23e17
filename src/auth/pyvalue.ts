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
import { InvalidInputError } from '../errors.js';

/**
 * Where Python would raise (`TypeError`, `KeyError`, `ValueError`,
 * `AttributeError`): the content cannot be read the way the rules need.
 *
 * Internal to the auth rules, which catch it like any other malformed
 * input (it is an {@link InvalidInputError} with errcode `M_BAD_JSON`);
 * the public functions that read content turn it into a plain
 * {@link InvalidInputError} with it as `cause` (`readingContent`), so
 * that it never escapes them.
 */
export class PythonError extends InvalidInputError {
  /** `PythonError`. */
  override readonly name = 'PythonError';

  /** @param message - what Python would have raised, for people. */
  constructor(message: string) {
    super('M_BAD_JSON', message);
  }
}

/**
 * Runs `read` for a public function: a {@link PythonError} becomes the
 * {@link InvalidInputError} `M_BAD_JSON` the function documents, with the
 * same message and the PythonError as `cause`.
 */
export function readingContent<T>(read: () => T): T {
  try {
    return read();
  } catch (e) {
    throw e instanceof PythonError ? new InvalidInputError('M_BAD_JSON', e.message, { cause: e }) : e;
  }
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
/**
 * The decimal digits `int()` reads (Unicode general category Nd), as of
 * Unicode 14.0, the database of CPython 3.11 that the oracle runs Synapse
 * on; pinned so that the answer does not depend on the JavaScript engine's
 * Unicode version. Each range is one or more runs of ten, 0 to 9. (Unicode
 * 15–17 added Kawi, Nag Mundari, Garay, Sunuwar and other digits, which a
 * Synapse on a newer Python reads and one on 3.11 refuses.)
 */
const DECIMAL_RANGES: readonly (readonly [number, number])[] = [
  [0x30, 0x39],
  [0x660, 0x669],
  [0x6f0, 0x6f9],
  [0x7c0, 0x7c9],
  [0x966, 0x96f],
  [0x9e6, 0x9ef],
  [0xa66, 0xa6f],
  [0xae6, 0xaef],
  [0xb66, 0xb6f],
  [0xbe6, 0xbef],
  [0xc66, 0xc6f],
  [0xce6, 0xcef],
  [0xd66, 0xd6f],
  [0xde6, 0xdef],
  [0xe50, 0xe59],
  [0xed0, 0xed9],
  [0xf20, 0xf29],
  [0x1040, 0x1049],
  [0x1090, 0x1099],
  [0x17e0, 0x17e9],
  [0x1810, 0x1819],
  [0x1946, 0x194f],
  [0x19d0, 0x19d9],
  [0x1a80, 0x1a89],
  [0x1a90, 0x1a99],
  [0x1b50, 0x1b59],
  [0x1bb0, 0x1bb9],
  [0x1c40, 0x1c49],
  [0x1c50, 0x1c59],
  [0xa620, 0xa629],
  [0xa8d0, 0xa8d9],
  [0xa900, 0xa909],
  [0xa9d0, 0xa9d9],
  [0xa9f0, 0xa9f9],
  [0xaa50, 0xaa59],
  [0xabf0, 0xabf9],
  [0xff10, 0xff19],
  [0x104a0, 0x104a9],
  [0x10d30, 0x10d39],
  [0x11066, 0x1106f],
  [0x110f0, 0x110f9],
  [0x11136, 0x1113f],
  [0x111d0, 0x111d9],
  [0x112f0, 0x112f9],
  [0x11450, 0x11459],
  [0x114d0, 0x114d9],
  [0x11650, 0x11659],
  [0x116c0, 0x116c9],
  [0x11730, 0x11739],
  [0x118e0, 0x118e9],
  [0x11950, 0x11959],
  [0x11c50, 0x11c59],
  [0x11d50, 0x11d59],
  [0x11da0, 0x11da9],
  [0x16a60, 0x16a69],
  [0x16ac0, 0x16ac9],
  [0x16b50, 0x16b59],
  [0x1d7ce, 0x1d7ff],
  [0x1e140, 0x1e149],
  [0x1e2f0, 0x1e2f9],
  [0x1e950, 0x1e959],
  [0x1fbf0, 0x1fbf9],
];

/** The value of a decimal digit, or -1 if `cp` is not one. */
function digitValue(cp: number): number {
  let lo = 0;
  let hi = DECIMAL_RANGES.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [start, end] = DECIMAL_RANGES[mid] as readonly [number, number];
    if (cp < start) hi = mid - 1;
    else if (cp > end) lo = mid + 1;
    else return (cp - start) % 10;
  }
  return -1;
}

/** Python's `int(s)` for a `str`: base 10, whitespace, sign, `_` between digits, any Unicode digit. */
function intOfString(s: string): PyInt {
  // The ASCII form int() parses: non-ASCII spaces and digits transliterated,
  // any other non-ASCII character invalid.
  let ascii = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    const digit = cp < 0x80 ? -1 : digitValue(cp);
    if (cp < 0x80) ascii += ch;
    else if (UNICODE_SPACE.test(ch)) ascii += ' ';
    else if (digit >= 0) ascii += String(digit);
    else throw new PythonError(`invalid literal for int() with base 10: ${show(s)}`);
  }
  let i = 0;
  let j = ascii.length;
  while (i < j && ASCII_SPACE.test(ascii[i] as string)) i++;
  while (j > i && ASCII_SPACE.test(ascii[j - 1] as string)) j--;
  const body = ascii.slice(i, j);
  const m = /^([+-]?)([0-9](?:_?[0-9])*)$/.exec(body);
  if (m === null) throw new PythonError(`invalid literal for int() with base 10: ${show(s)}`);
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

/**
 * A JSON value written for a message: JSON, with big integers as digits
 * and floats as their value (`JSON.stringify` alone throws on `bigint`).
 */
export function show(value: JsonValue | undefined): string {
  if (value === undefined) return 'nothing';
  return (
    JSON.stringify(value, (_key, v: unknown) =>
      typeof v === 'bigint' ? v.toString() : v instanceof JsonFloat ? v.value : v,
    ) ?? String(value)
  );
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
function isHashable(value: JsonValue | undefined): boolean {
  return !Array.isArray(value) && !isJsonObject(value);
}

/** Throws where Python raises for a value that is not hashable. */
function assertHashable(value: JsonValue | undefined): void {
  if (!isHashable(value)) {
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

/** A key equal for values Python's `==` finds equal (`1`, `1.0`, `True`), for sets. */
function hashKey(value: JsonValue | undefined): string {
  if (typeof value === 'string') return `s${value}`;
  if (value === null || value === undefined) return 'null';
  const n = numeric(value) as number | bigint;
  if (typeof n === 'bigint') return `n${n}`;
  return Number.isInteger(n) ? `n${BigInt(n)}` : `f${n}`;
}

/**
 * Python's `set(value)` as a list of members, in first-seen order: each
 * member must be hashable, and of members Python finds equal (`0` and
 * `0.0`) the first is kept, as a set keeps it.
 */
export function pySet(value: JsonValue | undefined): JsonValue[] {
  const seen = new Map<string, JsonValue>();
  for (const item of pyList(value)) {
    assertHashable(item);
    const key = hashKey(item);
    if (!seen.has(key)) seen.set(key, item);
  }
  return [...seen.values()];
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
  if (Array.isArray(container)) return container.some((item) => isHashable(item) && pyEquals(item, key));
  if (typeof container === 'string') {
    if (typeof key !== 'string') {
      throw new PythonError(`'in <string>' requires string as left operand, not ${pyTypeName(key)}`);
    }
    return strContains(container, key);
  }
  throw new PythonError(`argument of type '${pyTypeName(container)}' is not iterable`);
}

/**
 * Python's `key in container` for many keys against one container: the
 * answers of {@link pyContains}, but a list's items are indexed once by a
 * key equal for values Python's `==` finds equal (`1`, `1.0`, `True`)
 * instead of scanned for every key. The power levels rule asks, for every
 * key of either generation of `events` or `notifications`, whether each
 * generation holds it; when those are lists (content before v10 may make
 * them lists) a scan per key made that quadratic in the list's length.
 *
 * @param container - the container every key is looked up in.
 * @returns `key in container`, throwing {@link PythonError} where
 *   {@link pyContains} throws, when it throws (on a lookup, not here).
 */
export function pyMembership(container: JsonValue | undefined): (key: JsonValue | undefined) => boolean {
  if (!Array.isArray(container)) return (key) => pyContains(container, key);
  let index: Set<string> | undefined;
  return (key) => {
    // pyContains's scan finds no item equal to a list, a dict or to
    // undefined (not a JSON value), and skips the items that are lists or
    // dicts: neither has a hash key.
    if (key === undefined || !isHashable(key)) return false;
    index ??= new Set(container.filter(isHashable).map(hashKey));
    return index.has(hashKey(key));
  };
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
