/**
 * Strict parsing of untrusted JSON into one value tree (MSC4458).
 *
 * MSC4458 requires a server to parse received JSON once, discard the text and
 * derive hashes and signatures from the parsed structure. That only works if
 * the parser keeps everything the hashes cover and refuses what Canonical
 * JSON cannot express: so numbers are checked against the room version's
 * rules here, unpaired surrogates are refused, and duplicate keys collapse to
 * the last value (as Python's `json`, and so Synapse, does).
 *
 * @module
 */

import { InvalidInputError } from '../errors.js';
import { compareCodePoints } from './keyorder.js';
import { scanUtf8 } from './scan.js';
import { CanonicalSpans, type SpanRecorder, spanRecorder } from './spans.js';
import { JsonFloat, type JsonObject, type JsonValue, setOwn } from './value.js';

/**
 * Which numbers are acceptable.
 *
 * - `strict` (room versions 6 and later): integers in [-(2^53)+1, 2^53-1],
 *   written without fraction or exponent. `-0` is the integer 0.
 * - `legacy` (room versions 1–5): any finite JSON number. Integers stay exact
 *   (`bigint` outside the safe range); numbers written with a fraction or
 *   exponent become {@link JsonFloat}.
 */
export type NumberRules = 'strict' | 'legacy';

/** Options for {@link parseJson}. */
export interface ParseOptions {
  /** Number rules; default `strict`. */
  numbers?: NumberRules;
  /**
   * Deepest nesting of arrays and objects accepted; default
   * {@link DEFAULT_MAX_DEPTH}. Deeper input is refused with `M_BAD_JSON`.
   */
  maxDepth?: number;
  /**
   * Largest input accepted: bytes for byte input, UTF-16 code units for
   * string input; default {@link DEFAULT_MAX_LENGTH}. Larger input is refused
   * with `M_TOO_LARGE` before any parsing.
   */
  maxLength?: number;
  /**
   * Most values created: every object, array, string, number, boolean and
   * null of the result counts as one (object keys are not counted apart:
   * each has its value). More is refused with `M_TOO_LARGE` as soon as the
   * count passes the limit, so a refused parse creates no more values than
   * that. Default: no limit.
   *
   * `maxLength` alone does not bound the memory of the result: values cost
   * far more than their text (`[]` is 3 bytes of input and tens of bytes of
   * heap), so input within a large `maxLength` can exhaust the heap. A
   * caller parsing untrusted input of megabytes should give both.
   */
  maxValues?: number;
  /**
   * Accept unpaired UTF-16 surrogates in strings instead of refusing them.
   * Only for tools that must carry such strings to a later check (the
   * conformance runner does); never for data that will be hashed or signed.
   */
  allowUnpairedSurrogates?: boolean;
  /**
   * Under legacy rules, keep numbers too large for a double (`1e400`) as an
   * infinite {@link JsonFloat} instead of refusing them. Only for tools that
   * must carry them to a later check (the encoder refuses them).
   */
  allowInfiniteFloats?: boolean;
}

/**
 * Containers whose text is shorter than this are not recorded by
 * {@link parseReceived}: encoding them is as cheap as a lookup.
 */
const MIN_RECORDED_LENGTH = 48;

/**
 * Default nesting limit. Synapse has none of its own for JSON but Python's
 * recursion limit (1000 frames) stops it somewhat below 1000 levels; 1024
 * accepts all that Synapse accepts. Events are held to the lower limit of
 * Synapse's event parser by the event checks (`MAX_EVENT_DEPTH` in
 * matrix-serverlib/events).
 */
export const DEFAULT_MAX_DEPTH = 1024;

/** Default size limit: 16 MiB. */
export const DEFAULT_MAX_LENGTH = 16 * 1024 * 1024;

/**
 * Python refuses to convert integers of more than 4300 digits
 * (`sys.int_info.default_max_str_digits`), so Synapse rejects such JSON;
 * legacy parsing does the same.
 */
const PYTHON_MAX_INT_DIGITS = 4300;

const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function notJson(message: string, pos: number): InvalidInputError {
  return new InvalidInputError('M_NOT_JSON', `${message} at offset ${pos}`);
}

function badJson(message: string, pos: number): InvalidInputError {
  return new InvalidInputError('M_BAD_JSON', `${message} at offset ${pos}`);
}

function tooManyValues(max: number, pos: number): InvalidInputError {
  return new InvalidInputError('M_TOO_LARGE', `JSON input holds more than ${max} values at offset ${pos}`);
}

/**
 * Parses JSON text or UTF-8 bytes into a value tree.
 *
 * @param input - JSON text, or its UTF-8 encoding (a byte order mark is not
 *   accepted, nor is invalid UTF-8).
 * @param options - number rules and limits.
 * @returns the value tree. Objects are plain objects with the last value of
 *   any duplicated key; a `__proto__` key is an own property.
 * @throws {@link InvalidInputError} `M_NOT_JSON` for text that is not JSON or
 *   bytes that are not UTF-8; `M_BAD_JSON` for numbers the rules refuse,
 *   unpaired surrogates or nesting beyond `maxDepth`; `M_TOO_LARGE` for input
 *   beyond `maxLength` or holding more than `maxValues` values.
 */
export function parseJson(input: string | Uint8Array, options: ParseOptions = {}): JsonValue {
  return parse(input, options, undefined);
}

/**
 * What {@link parseReceived} gives: the value, deeply frozen, and where its
 * parts were written as their Canonical JSON in the bytes.
 */
export interface Received {
  readonly value: JsonValue;
  readonly spans: CanonicalSpans;
}

/**
 * {@link parseJson} of received bytes for the checks that take parts of an
 * event as they arrived instead of encoding them again (the received-PDU
 * entry of `matrix-serverlib/events`, and only it): records the objects and
 * arrays whose text already was their Canonical JSON (no whitespace, keys in
 * code point order without duplicates, strings escaped only as Canonical
 * JSON escapes them, integers only, none outside [-(2^53)+1, 2^53-1] or
 * written `-0`).
 *
 * The records are only true of the value as parsed and of the bytes as they
 * were. Every object and array of the value is frozen (no caller can change
 * what the records describe); the records read the bytes until the caller
 * lets go of them ({@link CanonicalSpans.release}), which it must do before
 * the bytes are anyone else's again: before it returns to its own caller.
 * Bytes in shared memory, which another thread may change at any time, are
 * copied first. Small containers are not recorded.
 *
 * @throws {@link InvalidInputError} as {@link parseJson} does.
 */
export function parseReceived(bytes: Uint8Array, options: ParseOptions): Received {
  checkLength(bytes, options);
  const spans = new CanonicalSpans();
  const input = bytes.buffer instanceof ArrayBuffer ? bytes : new Uint8Array(bytes);
  return { value: parse(input, options, spans), spans };
}

/** Refuses input beyond {@link ParseOptions.maxLength} before any work. */
function checkLength(input: string | Uint8Array, options: ParseOptions): void {
  const maxLength = options.maxLength ?? DEFAULT_MAX_LENGTH;
  if (input.length > maxLength) {
    throw new InvalidInputError(
      'M_TOO_LARGE',
      `JSON input of ${input.length} ${typeof input === 'string' ? 'code units' : 'bytes'} exceeds the limit of ${maxLength}`,
    );
  }
}

/**
 * The parse: with `spans`, recording canonical parts there and freezing
 * every container (see {@link parseReceived}).
 */
function parse(input: string | Uint8Array, options: ParseOptions, spans: CanonicalSpans | undefined): JsonValue {
  checkLength(input, options);
  let text: string;
  let wellFormed = true;
  let bytes: Uint8Array | undefined;
  if (typeof input === 'string') {
    text = input;
    wellFormed = text.isWellFormed();
  } else {
    bytes = input;
    try {
      text = utf8Decoder.decode(input);
    } catch (e) {
      throw new InvalidInputError('M_NOT_JSON', 'JSON bytes are not valid UTF-8', { cause: e });
    }
  }
  const scan = bytes === undefined ? undefined : scanUtf8(bytes);
  // Text with unpaired surrogates is never canonical (it is refused, or kept
  // only for tools).
  const record =
    spans !== undefined && bytes !== undefined && scan !== undefined && wellFormed
      ? spanRecorder(spans, text, bytes, scan)
      : undefined;
  const parser = new Parser(text, options, record, spans !== undefined);
  // UTF-8 bytes without one below 0x20 hold no control character at all:
  // strings need no search for them (the text search is the costlier).
  if (scan !== undefined && !scan.control) parser.noControlCharacters();
  const value = parser.parseDocument();
  // Values the rules refuse are only an error if they survive duplicate-key
  // resolution: Python (so Synapse) keeps the last value of a duplicated key
  // first and validates afterwards, so {"a":1.5,"a":1} is {"a":1}.
  if (parser.sawRefusable || (!wellFormed && options.allowUnpairedSurrogates !== true)) {
    checkTree(
      value,
      options.numbers === 'legacy',
      options.allowUnpairedSurrogates === true,
      options.allowInfiniteFloats === true,
    );
  }
  return value;
}

/**
 * Finds, in the final tree, a value the rules refuse: a float or an integer
 * outside the safe range under strict rules, a non-finite float under legacy
 * rules, an unpaired surrogate in a string or key. Iterative, so any depth
 * the parser accepted is safe.
 */
function checkTree(root: JsonValue, legacy: boolean, allowLone: boolean, allowInfinite: boolean): void {
  const stack: JsonValue[] = [root];
  while (stack.length > 0) {
    const v = stack.pop() as JsonValue;
    if (typeof v === 'string') {
      if (!allowLone && !v.isWellFormed())
        throw new InvalidInputError('M_BAD_JSON', 'JSON string contains an unpaired UTF-16 surrogate');
    } else if (typeof v === 'bigint') {
      if (!legacy)
        throw new InvalidInputError(
          'M_BAD_JSON',
          `Integer ${abbreviate(v.toString())} is outside the range [-(2^53)+1, 2^53-1]`,
        );
    } else if (v instanceof JsonFloat) {
      if (!legacy)
        throw new InvalidInputError(
          'M_BAD_JSON',
          `A number written with a fraction or exponent (${v.value}) is not allowed: only integers`,
        );
      if (!allowInfinite && !Number.isFinite(v.value)) {
        throw new InvalidInputError('M_BAD_JSON', 'Number is too large for a float');
      }
    } else if (Array.isArray(v)) {
      for (const item of v) stack.push(item);
    } else if (v !== null && typeof v === 'object') {
      for (const key of Object.keys(v)) {
        if (!allowLone && !key.isWellFormed())
          throw new InvalidInputError('M_BAD_JSON', 'JSON object key contains an unpaired UTF-16 surrogate');
        stack.push(v[key] as JsonValue);
      }
    }
  }
}

const CTRL = /[\u0000-\u001f]/g;

/** Object keys up to this length are kept in {@link KEY_CACHE}. */
const MAX_CACHED_KEY = 32;
const KEY_CACHE_SIZE = 512;
/** Keys recently parsed, by a hash of their length and end characters. */
const KEY_CACHE: (string | undefined)[] = new Array(KEY_CACHE_SIZE).fill(undefined);

class Parser {
  private readonly text: string;
  private readonly legacy: boolean;
  private readonly maxDepth: number;
  private readonly maxValues: number;
  /** Values created so far (see {@link ParseOptions.maxValues}). */
  private values = 0;
  /**
   * Whether a value the rules refuse was read (kept so that a later
   * duplicate key can still replace it; see {@link checkTree}).
   */
  sawRefusable = false;
  private pos = 0;
  /** Position of the next backslash at or after the cursor (or text length). */
  private nextBackslash = -1;
  /** Position of the next control character at or after the cursor (or text length). */
  private nextControl = -1;
  /** Records a container parsed from its canonical text, if asked to. */
  private readonly record: SpanRecorder | undefined;
  /**
   * How many departures from Canonical JSON have been read so far: a
   * container's text is canonical when the count did not move between its
   * brackets.
   */
  private departures = 0;
  /** How often {@link KEY_CACHE} had, and had not, the key being read. */
  private keyHits = 0;
  private keyMisses = 0;

  /** Whether every container is frozen once complete (see {@link parseReceived}). */
  private readonly freeze: boolean;

  constructor(text: string, options: ParseOptions, record: SpanRecorder | undefined, freeze: boolean) {
    this.text = text;
    this.freeze = freeze;
    this.legacy = options.numbers === 'legacy';
    this.maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
    this.maxValues = options.maxValues ?? Number.POSITIVE_INFINITY;
    this.record = record;
  }

  /** The input is known to hold no character below U+0020. */
  noControlCharacters(): void {
    this.nextControl = this.text.length;
  }

  parseDocument(): JsonValue {
    const text = this.text;
    // Containers under construction, innermost last; for each object, the
    // key awaiting its value.
    const stack: (JsonValue[] | JsonObject)[] = [];
    const keys: string[] = [];
    // When recording: for each open container, where it starts and the
    // departure count there; the deepest level reached inside the innermost
    // open container, and for each of the others, inside it before it
    // opened the next (its height is how far below it the deepest is).
    const record = this.record;
    const starts: number[] = [];
    const marks: number[] = [];
    const deepestBefore: number[] = [];
    let deepest = 0;
    let value: JsonValue;
    this.skipWhitespace();
    for (;;) {
      // Read one value, or open a container and loop to read its first member.
      if (++this.values > this.maxValues) throw tooManyValues(this.maxValues, this.pos);
      const c = text.charCodeAt(this.pos);
      if (c === 0x7b /* { */) {
        const start = this.pos++;
        const mark = this.departures;
        this.checkDepth(stack.length + 1);
        this.skipWhitespace();
        if (text.charCodeAt(this.pos) === 0x7d /* } */) {
          this.pos++;
          value = {};
          if (this.freeze) Object.freeze(value);
          if (stack.length >= deepest) deepest = stack.length + 1;
        } else {
          stack.push({});
          if (record !== undefined) {
            starts.push(start);
            marks.push(mark);
            deepestBefore.push(deepest);
            deepest = stack.length;
          }
          keys.push(this.parseKey());
          continue;
        }
      } else if (c === 0x5b /* [ */) {
        const start = this.pos++;
        const mark = this.departures;
        this.checkDepth(stack.length + 1);
        this.skipWhitespace();
        if (text.charCodeAt(this.pos) === 0x5d /* ] */) {
          this.pos++;
          value = [];
          if (this.freeze) Object.freeze(value);
          if (stack.length >= deepest) deepest = stack.length + 1;
        } else {
          stack.push([]);
          if (record !== undefined) {
            starts.push(start);
            marks.push(mark);
            deepestBefore.push(deepest);
            deepest = stack.length;
          }
          continue;
        }
      } else {
        value = this.parseScalar(c);
      }

      // Attach the value to its container; close containers that end here.
      for (;;) {
        const top = stack[stack.length - 1];
        if (top === undefined) {
          this.skipWhitespace();
          if (this.pos !== text.length) throw notJson('Unexpected data after the JSON value', this.pos);
          return value;
        }
        this.skipWhitespace();
        const d = text.charCodeAt(this.pos);
        if (Array.isArray(top)) {
          top.push(value);
          if (d === 0x2c /* , */) {
            this.pos++;
            this.skipWhitespace();
            break;
          }
          if (d !== 0x5d /* ] */) throw notJson("Expected ',' or ']'", this.pos);
        } else {
          const key = keys.pop() as string;
          setOwn(top, key, value);
          if (d === 0x2c /* , */) {
            this.pos++;
            this.skipWhitespace();
            const next = this.parseKey();
            // Canonical JSON: strictly increasing code point order (so no
            // duplicates either).
            if (record !== undefined && compareCodePoints(key, next) >= 0) this.departures++;
            keys.push(next);
            break;
          }
          if (d !== 0x7d /* } */) throw notJson("Expected ',' or '}'", this.pos);
        }
        this.pos++;
        value = stack.pop() as JsonValue;
        if (this.freeze) Object.freeze(value);
        if (record !== undefined) {
          const height = deepest - stack.length;
          const start = starts.pop() as number;
          const before = deepestBefore.pop() as number;
          if (before > deepest) deepest = before;
          if (marks.pop() === this.departures && this.pos - start >= MIN_RECORDED_LENGTH) {
            record(value as object, start, this.pos, height);
          }
        }
      }
    }
  }

  private checkDepth(depth: number): void {
    if (depth > this.maxDepth) {
      throw badJson(`JSON nesting deeper than ${this.maxDepth} levels`, this.pos);
    }
  }

  /** Reads `"key"` and the `:` after it, leaving the cursor on the value. */
  private parseKey(): string {
    if (this.text.charCodeAt(this.pos) !== 0x22 /* " */) {
      throw notJson('Expected a string as object key', this.pos);
    }
    const key = this.parseString(true);
    this.skipWhitespace();
    if (this.text.charCodeAt(this.pos) !== 0x3a /* : */) throw notJson("Expected ':'", this.pos);
    this.pos++;
    this.skipWhitespace();
    return key;
  }

  private skipWhitespace(): void {
    const text = this.text;
    let pos = this.pos;
    for (;;) {
      const c = text.charCodeAt(pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) pos++;
      else break;
    }
    if (pos !== this.pos) this.departures++;
    this.pos = pos;
  }

  private parseScalar(c: number): JsonValue {
    const text = this.text;
    if (c === 0x22 /* " */) return this.parseString();
    if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) return this.parseNumber();
    if (c === 0x74 /* t */ && text.startsWith('true', this.pos)) {
      this.pos += 4;
      return true;
    }
    if (c === 0x66 /* f */ && text.startsWith('false', this.pos)) {
      this.pos += 5;
      return false;
    }
    if (c === 0x6e /* n */ && text.startsWith('null', this.pos)) {
      this.pos += 4;
      return null;
    }
    if (Number.isNaN(c)) throw notJson('Unexpected end of JSON input', this.pos);
    throw notJson(`Unexpected character ${JSON.stringify(text[this.pos])}`, this.pos);
  }

  /** Reads a string; the cursor is on its opening quote. */
  private parseString(isKey = false): string {
    const text = this.text;
    const start = this.pos + 1;
    const end = text.indexOf('"', start);
    if (end < 0) throw notJson('Unterminated string', this.pos);
    if (this.nextBackslash < start) {
      const b = text.indexOf('\\', start);
      this.nextBackslash = b < 0 ? text.length : b;
    }
    if (this.nextBackslash < end) return this.parseEscapedString(start);
    this.checkNoControl(start, end);
    this.pos = end + 1;
    const length = end - start;
    if (!isKey || length > MAX_CACHED_KEY || length === 0 || this.keyMisses > this.keyHits + 16) {
      return text.slice(start, end);
    }
    // Keys repeat from event to event: a key seen before is compared in
    // place and reused, already internalized, instead of sliced again. A
    // parse whose keys keep missing (a map of user IDs) stops looking.
    const slot = (length * 61 + text.charCodeAt(start) * 31 + text.charCodeAt(end - 1)) & (KEY_CACHE_SIZE - 1);
    const cached = KEY_CACHE[slot];
    if (cached !== undefined && cached.length === length && text.startsWith(cached, start)) {
      this.keyHits++;
      return cached;
    }
    this.keyMisses++;
    const key = text.slice(start, end);
    KEY_CACHE[slot] = key;
    return key;
  }

  /** Raw control characters are not allowed inside strings (RFC 8259 §7). */
  private checkNoControl(start: number, end: number): void {
    if (this.nextControl < start) {
      CTRL.lastIndex = start;
      const m = CTRL.exec(this.text);
      this.nextControl = m === null ? this.text.length : m.index;
    }
    if (this.nextControl < end) throw notJson('Unescaped control character in string', this.nextControl);
  }

  private parseEscapedString(start: number): string {
    const text = this.text;
    let out = '';
    let chunk = start;
    let pos = start;
    for (;;) {
      const c = text.charCodeAt(pos);
      if (c === 0x22 /* " */) {
        out += text.slice(chunk, pos);
        this.pos = pos + 1;
        return out;
      }
      if (c === 0x5c /* \ */) {
        out += text.slice(chunk, pos);
        const e = text.charCodeAt(pos + 1);
        pos += 2;
        switch (e) {
          case 0x22:
            out += '"';
            break;
          case 0x5c:
            out += '\\';
            break;
          case 0x2f:
            out += '/';
            this.departures++;
            break;
          case 0x62:
            out += '\b';
            break;
          case 0x66:
            out += '\f';
            break;
          case 0x6e:
            out += '\n';
            break;
          case 0x72:
            out += '\r';
            break;
          case 0x74:
            out += '\t';
            break;
          case 0x75 /* u */:
            {
              const unit = this.hex4(pos);
              if (!isCanonicalUnicodeEscape(unit, text.slice(pos, pos + 4))) this.departures++;
              pos += 4;
              if (unit >= 0xd800 && unit <= 0xdbff) {
                // A high surrogate must be followed by an escaped low surrogate.
                if (text.charCodeAt(pos) === 0x5c && text.charCodeAt(pos + 1) === 0x75) {
                  const low = this.hex4(pos + 2);
                  if (low >= 0xdc00 && low <= 0xdfff) {
                    out += String.fromCharCode(unit, low);
                    pos += 6;
                    break;
                  }
                }
                // Unpaired: kept for now, refused by checkTree if it survives.
                this.sawRefusable = true;
              } else if (unit >= 0xdc00 && unit <= 0xdfff) {
                this.sawRefusable = true;
              }
              out += String.fromCharCode(unit);
              break;
            }
          default:
            throw notJson('Invalid escape sequence in string', pos - 2);
        }
        chunk = pos;
        continue;
      }
      // Past the end charCodeAt gives NaN, which no comparison matches: test
      // for it first, or a string whose last quote is escaped never ends.
      if (Number.isNaN(c)) throw notJson('Unterminated string', start - 1);
      if (c < 0x20) throw notJson('Unescaped control character in string', pos);
      pos++;
    }
  }

  private hex4(pos: number): number {
    let n = 0;
    for (let i = 0; i < 4; i++) {
      const c = this.text.charCodeAt(pos + i);
      let d: number;
      if (c >= 0x30 && c <= 0x39) d = c - 0x30;
      else if (c >= 0x61 && c <= 0x66) d = c - 0x57;
      else if (c >= 0x41 && c <= 0x46) d = c - 0x37;
      else throw notJson('Invalid \\u escape in string', pos - 2);
      n = n * 16 + d;
    }
    return n;
  }

  private parseNumber(): JsonValue {
    const text = this.text;
    const start = this.pos;
    let pos = start;
    const negative = text.charCodeAt(pos) === 0x2d;
    if (negative) pos++;
    let c = text.charCodeAt(pos);
    let magnitude = 0;
    if (c === 0x30) {
      pos++;
    } else if (c >= 0x31 && c <= 0x39) {
      do {
        magnitude = magnitude * 10 + (c - 0x30);
        c = text.charCodeAt(++pos);
      } while (c >= 0x30 && c <= 0x39);
    } else {
      throw notJson('Invalid number', start);
    }
    const intEnd = pos;
    let isInteger = true;
    c = text.charCodeAt(pos);
    if (c === 0x2e /* . */) {
      isInteger = false;
      c = text.charCodeAt(++pos);
      if (!(c >= 0x30 && c <= 0x39)) throw notJson('Invalid number: digit expected after the decimal point', pos);
      do c = text.charCodeAt(++pos);
      while (c >= 0x30 && c <= 0x39);
    }
    if (c === 0x65 || c === 0x45 /* e E */) {
      isInteger = false;
      c = text.charCodeAt(++pos);
      if (c === 0x2b || c === 0x2d) c = text.charCodeAt(++pos);
      if (!(c >= 0x30 && c <= 0x39)) throw notJson('Invalid number: digit expected in the exponent', pos);
      do c = text.charCodeAt(++pos);
      while (c >= 0x30 && c <= 0x39);
    }
    this.pos = pos;

    if (isInteger) {
      const digits = intEnd - start - (negative ? 1 : 0);
      // Up to 15 digits the running total is exact; -0 becomes the integer 0.
      if (digits <= 15) {
        if (!negative) return magnitude;
        if (magnitude !== 0) return -magnitude;
        this.departures++;
        return 0;
      }
      const literal = text.slice(start, intEnd);
      const n = Number(literal);
      if (Number.isSafeInteger(n)) return n;
      this.departures++;
      // Python refuses these while parsing, before duplicates are resolved.
      if (digits > PYTHON_MAX_INT_DIGITS) {
        throw badJson(`Integer of ${digits} digits exceeds the ${PYTHON_MAX_INT_DIGITS}-digit limit`, start);
      }
      if (!this.legacy) this.sawRefusable = true;
      return BigInt(literal);
    }
    const n = Number(text.slice(start, pos));
    this.departures++;
    if (!this.legacy || !Number.isFinite(n)) this.sawRefusable = true;
    return new JsonFloat(n);
  }
}

/**
 * Whether a `\u` escape with these four hex digits is how Canonical JSON
 * writes `unit`: only C0 controls without a short form (`\b \t \n \f \r`)
 * are so escaped, in lowercase
 * (spec: Appendices, "Canonical JSON"; Python's `json`).
 */
function isCanonicalUnicodeEscape(unit: number, hex: string): boolean {
  if (unit >= 0x20 || unit === 0x08 || unit === 0x09 || unit === 0x0a || unit === 0x0c || unit === 0x0d) return false;
  return hex === unit.toString(16).padStart(4, '0');
}

function abbreviate(literal: string): string {
  return literal.length > 40 ? `${literal.slice(0, 37)}...` : literal;
}
