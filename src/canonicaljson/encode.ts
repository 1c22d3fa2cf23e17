/**
 * Canonical JSON encoding (spec: Appendices, "Canonical JSON").
 *
 * Object keys are sorted by Unicode code point, which is not JavaScript's
 * default (UTF-16 code unit) order nor RFC 8785's: the two differ when a key
 * holds a character above U+FFFF and another a character in U+E000–U+FFFF.
 * Strings are escaped exactly as the spec and Python's `json` (Synapse) do:
 * `"` and `\`, and control characters as `\b \t \n \f \r` or `\u00xx` with
 * lowercase hex; every other character is written as itself in UTF-8.
 *
 * @module
 */

import { InvalidInputError } from '../errors.js';
import { sortByCodePoint } from './keyorder.js';
import { DEFAULT_MAX_DEPTH, type NumberRules, type ParseOptions } from './parse.js';
import { pythonFloatRepr } from './pyfloat.js';
import { needsCare } from './scan.js';
import type { CanonicalSpans } from './spans.js';
import { JsonFloat } from './value.js';

/** Options for {@link encodeCanonicalJson}. */
export interface EncodeOptions {
  /**
   * Number rules; default `strict`. Strict refuses anything but integers in
   * [-(2^53)+1, 2^53-1]; legacy (room versions 1–5) writes floats and large
   * integers as Synapse does.
   */
  numbers?: NumberRules;
  /** Deepest nesting accepted; default {@link DEFAULT_MAX_DEPTH}. */
  maxDepth?: number;
  /**
   * Write unpaired UTF-16 surrogates as `\uXXXX` escapes instead of refusing
   * them. The result is JSON but not Canonical JSON: only for reports and
   * tools (the conformance runner echoes requests with it), never for
   * hashing or signing.
   */
  allowUnpairedSurrogates?: boolean;
  /**
   * The objects and arrays parsed from their Canonical JSON text
   * ({@link ParseOptions.canonicalSpans}): a value found here is written as
   * that text, not encoded again. Only for values not changed since they
   * were parsed.
   */
  canonicalSpans?: CanonicalSpans;
}

class Encoder {
  private readonly legacy: boolean;
  private readonly maxDepth: number;
  private readonly allowLone: boolean;
  private readonly canonicalSpans: CanonicalSpans | undefined;
  /** Keys and indexes from the root to the value being encoded, for errors. */
  private readonly path: (string | number)[] = [];

  constructor(options: EncodeOptions) {
    this.legacy = options.numbers === 'legacy';
    this.maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
    this.allowLone = options.allowUnpairedSurrogates === true;
    this.canonicalSpans = options.canonicalSpans;
  }

  private fail(message: string): InvalidInputError {
    let where = '';
    for (const part of this.path) where += typeof part === 'number' ? `[${part}]` : `.${JSON.stringify(part)}`;
    return new InvalidInputError('M_BAD_JSON', `${message} at ${where === '' ? 'the top level' : where}`);
  }

  private encodeString(s: string): string {
    if (!needsCare(s)) return `"${s}"`;
    if (!this.allowLone && !s.isWellFormed()) throw this.fail('String contains an unpaired UTF-16 surrogate');
    // For well-formed strings JSON.stringify escapes exactly the characters
    // Canonical JSON escapes, in the same form (and unpaired surrogates as
    // \uXXXX, which allowUnpairedSurrogates asks for).
    return JSON.stringify(s);
  }

  encode(value: unknown, depth: number): string {
    switch (typeof value) {
      case 'string':
        return this.encodeString(value);
      case 'number':
        return this.encodeNumber(value);
      case 'boolean':
        return value ? 'true' : 'false';
      case 'bigint':
        if (this.legacy || (value >= -9007199254740991n && value <= 9007199254740991n)) return value.toString();
        throw this.fail('Integer outside the range [-(2^53)+1, 2^53-1]');
      case 'object':
        break;
      default:
        throw this.fail(`A ${typeof value} is not a JSON value`);
    }
    if (value === null) return 'null';
    if (this.canonicalSpans !== undefined) {
      const text = this.canonicalSpans.text(value);
      if (text !== undefined) return text;
    }
    if (depth >= this.maxDepth) throw this.fail(`Nesting deeper than ${this.maxDepth} levels`);
    if (Array.isArray(value)) {
      const n = value.length;
      if (n === 0) return '[]';
      const path = this.path;
      path.push(0);
      let out = `[${this.encode(value[0], depth + 1)}`;
      for (let i = 1; i < n; i++) {
        path[path.length - 1] = i;
        out += `,${this.encode(value[i], depth + 1)}`;
      }
      path.pop();
      return `${out}]`;
    }
    if (value instanceof JsonFloat) {
      if (!this.legacy) throw this.fail('Floats are not allowed (only integers)');
      if (!Number.isFinite(value.value)) throw this.fail('Float is not finite');
      return pythonFloatRepr(value.value);
    }
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) {
      throw this.fail('Only plain objects, arrays and primitives are JSON values');
    }
    return this.encodeObject(value as Record<string, unknown>, depth);
  }

  /** Encodes an object: its keys in code point order, escaped where needed. */
  private encodeObject(obj: Record<string, unknown>, depth: number): string {
    const keys = sortByCodePoint(Object.keys(obj));
    const path = this.path;
    path.push('');
    let out = '{';
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as string;
      path[path.length - 1] = key;
      if (i > 0) out += ',';
      out += `${this.encodeString(key)}:${this.encode(obj[key], depth + 1)}`;
    }
    path.pop();
    return `${out}}`;
  }

  private encodeNumber(n: number): string {
    if (Number.isSafeInteger(n)) return `${n === 0 ? 0 : n}`;
    if (!this.legacy) throw this.fail(`Number ${n} is not an integer in the range [-(2^53)+1, 2^53-1]`);
    if (!Number.isFinite(n)) throw this.fail(`Number ${n} is not finite`);
    return Number.isInteger(n) ? BigInt(n).toString() : pythonFloatRepr(n);
  }
}

/**
 * Encodes a value as Canonical JSON text.
 *
 * @param value - a {@link JsonValue} tree: plain objects, arrays, strings,
 *   booleans, null, numbers, and (legacy rules) `bigint` and
 *   {@link JsonFloat}. `undefined`, functions, symbols and class instances
 *   are refused rather than silently dropped.
 * @param options - number rules and the nesting limit.
 * @returns the canonical text; encode it as UTF-8 for hashing or signing
 *   (see {@link encodeCanonicalJsonBytes}).
 * @throws {@link InvalidInputError} `M_BAD_JSON` naming the path of the first
 *   value that cannot be encoded under the rules.
 */
export function encodeCanonicalJson(value: unknown, options: EncodeOptions = {}): string {
  return new Encoder(options).encode(value, 0);
}

/**
 * Encodes a value as Canonical JSON and returns its UTF-8 bytes, the input to
 * hashing and signing.
 *
 * @param value - as for {@link encodeCanonicalJson}.
 * @param options - as for {@link encodeCanonicalJson}.
 * @throws {@link InvalidInputError} as {@link encodeCanonicalJson} does.
 */
export function encodeCanonicalJsonBytes(value: unknown, options: EncodeOptions = {}): Buffer {
  return Buffer.from(encodeCanonicalJson(value, options), 'utf8');
}
