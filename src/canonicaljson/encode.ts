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
import { DEFAULT_MAX_DEPTH, type NumberRules } from './parse.js';
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
  /**
   * Deepest nesting of arrays and objects accepted (the outermost counts as
   * 1); default {@link DEFAULT_MAX_DEPTH}. Deeper values, and values that
   * contain themselves, are refused with `M_BAD_JSON` whatever the limit:
   * the encoder keeps its own stack, never the call stack.
   */
  maxDepth?: number;
  /**
   * Write unpaired UTF-16 surrogates as `\uXXXX` escapes instead of refusing
   * them. The result is JSON but not Canonical JSON: only for reports and
   * tools (the conformance runner echoes requests with it), never for
   * hashing or signing.
   */
  allowUnpairedSurrogates?: boolean;
}

/**
 * The encoder. Iterative, with its own stack of open containers, so that
 * no `maxDepth` and no input can overflow the call stack: a value nested
 * past the limit, or a cycle, is an {@link InvalidInputError} however high
 * the limit.
 */
class Encoder {
  private readonly legacy: boolean;
  private readonly maxDepth: number;
  private readonly allowLone: boolean;
  private readonly canonicalSpans: CanonicalSpans | undefined;
  /**
   * The open containers, outermost first: each array or object, the sorted
   * keys of each object (`undefined` for an array), and the index of the
   * member being written. Only the first {@link depth} entries are in use.
   */
  private readonly containers: object[] = [];
  private readonly keyLists: (readonly string[] | undefined)[] = [];
  private readonly indexes: number[] = [];
  private depth = 0;
  /**
   * The open containers past {@link DEFAULT_MAX_DEPTH} levels, when a higher
   * `maxDepth` lets the encoder go that deep: a container found open again
   * is a cycle, which would otherwise grow the output until memory runs out
   * under a high enough limit.
   */
  private deepOpen: Set<object> | undefined;

  constructor(options: EncodeOptions, canonicalSpans: CanonicalSpans | undefined) {
    this.legacy = options.numbers === 'legacy';
    this.maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
    this.allowLone = options.allowUnpairedSurrogates === true;
    this.canonicalSpans = canonicalSpans;
  }

  /** An error naming the path from the root to the value being written. */
  private fail(message: string): InvalidInputError {
    let where = '';
    for (let d = 0; d < this.depth; d++) {
      const keys = this.keyLists[d];
      const i = this.indexes[d] as number;
      where += keys === undefined ? `[${i}]` : `.${JSON.stringify(keys[i])}`;
    }
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

  /** Makes `container` the innermost open container, at its first member. */
  private open(container: object, keys: readonly string[] | undefined): void {
    const d = this.depth;
    if (d >= DEFAULT_MAX_DEPTH) {
      this.deepOpen ??= new Set();
      if (this.deepOpen.has(container)) throw this.fail('The value contains itself');
      this.deepOpen.add(container);
    }
    this.depth = d + 1;
    this.containers[d] = container;
    this.keyLists[d] = keys;
    this.indexes[d] = 0;
  }

  encode(root: unknown): string {
    let out = '';
    let value = root;
    for (;;) {
      // Write one value, or open a container and write its first member's
      // opening (then loop to write that member).
      switch (typeof value) {
        case 'string':
          out += this.encodeString(value);
          break;
        case 'number':
          out += this.encodeNumber(value);
          break;
        case 'boolean':
          out += value ? 'true' : 'false';
          break;
        case 'bigint':
          if (!this.legacy && (value < -9007199254740991n || value > 9007199254740991n)) {
            throw this.fail('Integer outside the range [-(2^53)+1, 2^53-1]');
          }
          out += value.toString();
          break;
        case 'object': {
          if (value === null) {
            out += 'null';
            break;
          }
          const text = this.canonicalSpans?.text(value);
          if (text !== undefined) {
            out += text;
            break;
          }
          if (value instanceof JsonFloat) {
            if (!this.legacy) throw this.fail('Floats are not allowed (only integers)');
            if (!Number.isFinite(value.value)) throw this.fail('Float is not finite');
            out += pythonFloatRepr(value.value);
            break;
          }
          if (this.depth >= this.maxDepth) throw this.fail(`Nesting deeper than ${this.maxDepth} levels`);
          if (Array.isArray(value)) {
            if (value.length === 0) {
              out += '[]';
              break;
            }
            this.open(value, undefined);
            out += '[';
            value = value[0];
            continue;
          }
          const proto = Object.getPrototypeOf(value) as unknown;
          if (proto !== Object.prototype && proto !== null) {
            throw this.fail('Only plain objects, arrays and primitives are JSON values');
          }
          const keys = sortByCodePoint(Object.keys(value));
          if (keys.length === 0) {
            out += '{}';
            break;
          }
          this.open(value, keys);
          const key = keys[0] as string;
          out += `{${this.encodeString(key)}:`;
          value = (value as Record<string, unknown>)[key];
          continue;
        }
        default:
          throw this.fail(`A ${typeof value} is not a JSON value`);
      }
      // The value is written: move to the next member, closing the
      // containers that end here.
      for (;;) {
        if (this.depth === 0) return out;
        const d = this.depth - 1;
        const i = (this.indexes[d] as number) + 1;
        this.indexes[d] = i;
        const keys = this.keyLists[d];
        if (keys === undefined) {
          const array = this.containers[d] as readonly unknown[];
          if (i < array.length) {
            out += ',';
            value = array[i];
            break;
          }
          out += ']';
        } else {
          if (i < keys.length) {
            const key = keys[i] as string;
            out += `,${this.encodeString(key)}:`;
            value = (this.containers[d] as Record<string, unknown>)[key];
            break;
          }
          out += '}';
        }
        if (d >= DEFAULT_MAX_DEPTH) this.deepOpen?.delete(this.containers[d] as object);
        this.depth = d;
      }
    }
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
  return new Encoder(options, undefined).encode(value);
}

/**
 * {@link encodeCanonicalJson} writing the objects and arrays recorded in
 * `spans` as the text they were parsed from, not encoded again: for the
 * received-PDU checks, whose values are frozen and whose records stay true.
 */
export function encodeWithSpans(value: unknown, options: EncodeOptions, spans: CanonicalSpans): string {
  return new Encoder(options, spans).encode(value);
}

/**
 * Encodes a value as Canonical JSON and returns its UTF-8 bytes, the input to
 * hashing and signing.
 *
 * @param value - as for {@link encodeCanonicalJson}.
 * @param options - as for {@link encodeCanonicalJson}.
 * @throws {@link InvalidInputError} as {@link encodeCanonicalJson} does.
 */
export function encodeCanonicalJsonBytes(value: unknown, options: EncodeOptions = {}): Uint8Array {
  return Buffer.from(encodeCanonicalJson(value, options), 'utf8');
}
