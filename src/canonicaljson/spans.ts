/**
 * Where received text was already Canonical JSON.
 *
 * Synapse sends federation bodies as Canonical JSON, so the text of a
 * received event's parts usually is exactly what encoding them again would
 * give. The parser can tell (no whitespace, keys in code point order without
 * duplicates, strings escaped only as Canonical JSON escapes them, safe
 * integers written canonically), and records where such parts lie. Hashing
 * and signature checks then take those bytes as they arrived instead of
 * encoding the values again: the value tree stays the single source of truth
 * (MSC4458), the text is only used where it provably equals the encoding of
 * that tree. Encoding non-Latin text back to UTF-8 is the most expensive step
 * of checking a received event, and this skips it.
 *
 * @module
 */

import { sortedKeys } from './keyorder.js';
import type { ByteScan } from './scan.js';

/** One parsed input: its bytes and their decoded text. */
interface Source {
  readonly text: string;
  /** The bytes, until {@link CanonicalSpans.release} lets go of them. */
  bytes: Uint8Array | undefined;
  /** How many there were. */
  readonly byteLength: number;
  /**
   * How many bytes at the start, and how many at the end, are ASCII: text
   * positions there map to offsets by arithmetic.
   */
  readonly asciiHead: number;
  readonly asciiTail: number;
  /**
   * The byte offsets of the anchors (see {@link anchorAt}) from the last
   * one in the ASCII head onwards, as far as they have been needed.
   */
  readonly anchors: number[];
}

interface Span {
  readonly source: Source;
  readonly start: number;
  readonly end: number;
  /** Levels of nesting: 1 for a container of no containers. */
  readonly height: number;
}

/**
 * Records that a value was parsed from `text[start, end)`, which is its
 * Canonical JSON, and nests `height` levels deep (itself included).
 */
export type SpanRecorder = (value: object, start: number, end: number, height: number) => void;

/**
 * Past this many records, they move from a list into a `WeakMap`: a single
 * event has a few, and a short list is filled and searched faster than a
 * `WeakMap` (whose insertions cost more than the rest of recording).
 */
const MAX_LISTED = 32;

/** The spans recorded, by the value parsed. */
class Records {
  /** The inputs recorded from. */
  readonly sources: Source[] = [];
  private readonly values: object[] = [];
  private readonly spans: Span[] = [];
  private map: WeakMap<object, Span> | undefined;

  set(value: object, span: Span): void {
    if (this.map !== undefined) {
      this.map.set(value, span);
      return;
    }
    this.values.push(value);
    this.spans.push(span);
    if (this.values.length > MAX_LISTED) {
      const map = new WeakMap<object, Span>();
      for (let i = 0; i < this.values.length; i++) map.set(this.values[i] as object, this.spans[i] as Span);
      this.values.length = 0;
      this.spans.length = 0;
      this.map = map;
    }
  }

  get(value: object): Span | undefined {
    if (this.map !== undefined) return this.map.get(value);
    const i = this.values.indexOf(value);
    return i < 0 ? undefined : this.spans[i];
  }
}

/** The records of a {@link CanonicalSpans}, for the parser. */
let spansOf: (spans: CanonicalSpans) => Records;

/**
 * Starts recording one parse of `text`, decoded from `bytes`, which `scan`
 * describes, into `spans`; returns the recorder.
 */
export function spanRecorder(spans: CanonicalSpans, text: string, bytes: Uint8Array, scan: ByteScan): SpanRecorder {
  const records = spansOf(spans);
  const source: Source = {
    text,
    bytes,
    byteLength: bytes.length,
    asciiHead: scan.asciiHead,
    asciiTail: scan.asciiTail,
    anchors: [],
  };
  records.sources.push(source);
  return (value, start, end, height) => {
    records.set(value, { source, start, end, height });
  };
}

/**
 * The objects and arrays of one received value whose bytes were their
 * Canonical JSON, recorded by `parseReceived` (the parser's entry for the
 * received-PDU checks, which freezes the value and owns the bytes, so that
 * the records stay true): the encoder and the event hashes take those bytes
 * instead of encoding the values again. Internal: never given out, so no
 * caller can pair the records with another value.
 */
export class CanonicalSpans {
  readonly #spans = new Records();

  static {
    spansOf = (spans) => spans.#spans;
  }

  /**
   * The Canonical JSON text of `value`, if it was parsed from exactly that.
   *
   * @param value - an object or array from a parse that recorded here.
   */
  text(value: object): string | undefined {
    const span = this.#spans.get(value);
    return span === undefined ? undefined : span.source.text.slice(span.start, span.end);
  }

  /**
   * The UTF-8 bytes of the Canonical JSON of `value`, if it was parsed from
   * exactly those bytes (a view of the input, not a copy).
   *
   * @param value - an object or array from a parse that recorded here.
   */
  bytes(value: object): Uint8Array | undefined {
    const span = this.#spans.get(value);
    const bytes = span?.source.bytes;
    if (span === undefined || bytes === undefined) return undefined;
    return bytes.subarray(byteOffset(span.source, span.start), byteOffset(span.source, span.end));
  }

  /**
   * Lets go of the bytes recorded from: afterwards {@link bytes} gives
   * nothing (and the parts are encoded again where their bytes were
   * taken), {@link text} still gives the text. For a caller that has read
   * from the bytes all it needs, and must not read them once they are the
   * caller's again.
   */
  release(): void {
    for (const source of this.#spans.sources) source.bytes = undefined;
  }
}

/**
 * Text positions whose byte offsets are kept are this far apart (the
 * anchors): a byte offset is measured from the anchor before it, so finding
 * one costs at most this many characters, in any order of asking, and the
 * anchors themselves are each measured once, from the one before. (Keeping
 * the positions asked about instead, in a sorted list, made each insertion
 * cost as much as the list is long: quadratic in the members of a large
 * body.)
 */
const ANCHOR_STRIDE = 256;

/**
 * The text position of anchor `k`: `k` strides in, or one further if that
 * falls inside a surrogate pair (measuring half a pair counts three bytes
 * for each half). Text that is recorded is well-formed, so a low surrogate
 * there is the second half of a pair.
 */
function anchorAt(text: string, k: number): number {
  const pos = k * ANCHOR_STRIDE;
  return (text.charCodeAt(pos) & 0xfc00) === 0xdc00 ? pos + 1 : pos;
}

/** The first anchor kept: those before it lie in the ASCII head. */
function firstAnchor(source: Source): number {
  return Math.floor(source.asciiHead / ANCHOR_STRIDE);
}

/**
 * The byte offset of text position `pos`: the UTF-8 length of the text up
 * to it, measured from the anchor before it. Positions are at brackets,
 * never inside a surrogate pair.
 */
function byteOffset(source: Source, pos: number): number {
  const { text, anchors } = source;
  const total = source.byteLength;
  // All ASCII: offsets are positions.
  if (total === text.length) return pos;
  // Text outside the first and last non-ASCII characters (in an event, all
  // but the content, usually) maps by arithmetic.
  if (pos <= source.asciiHead) return pos;
  if (text.length - pos <= source.asciiTail) return total - (text.length - pos);
  const first = firstAnchor(source);
  const k = Math.floor(pos / ANCHOR_STRIDE);
  if (anchors.length === 0) anchors.push(anchorAt(text, first));
  for (let j = first + anchors.length; j <= k; j++) {
    const from = anchorAt(text, j - 1);
    const to = anchorAt(text, j);
    anchors.push((anchors[j - 1 - first] as number) + Buffer.byteLength(text.slice(from, to), 'utf8'));
  }
  const anchor = anchorAt(text, k);
  return (anchors[k - first] as number) + Buffer.byteLength(text.slice(anchor, pos), 'utf8');
}

/**
 * The length of the Canonical JSON text of `value` in UTF-16 units (at most
 * its length in UTF-8 bytes) and how many levels it nests, itself included,
 * if it was parsed from that text and recorded in `spans`: what the format
 * check of an event needs of a part, without walking it.
 *
 * @param spans - the record of the parse.
 * @param value - an object or array.
 */
export function recordedExtent(
  spans: CanonicalSpans,
  value: object,
): { readonly length: number; readonly height: number } | undefined {
  const span = spansOf(spans).get(value);
  return span === undefined ? undefined : { length: span.end - span.start, height: span.height };
}

/**
 * Where each member of an object lies in the bytes it was parsed from, for
 * an object whose bytes were its Canonical JSON: member `i` is `"key":value`
 * for `keys[i]` at `bytes[starts[i], ends[i])`, and members are separated
 * by single commas, so a run of neighbouring members is one slice.
 */
export interface CanonicalMembers {
  /** The object's bytes, from `{` to `}` (a view of the input). */
  readonly bytes: Uint8Array;
  /** Its keys in code point order, the order of the bytes. */
  readonly keys: readonly string[];
  /** Where each member starts. */
  readonly starts: readonly number[];
  /** Where each member ends (exclusive). */
  readonly ends: readonly number[];
}

/**
 * The members of `value` in its received bytes (see {@link CanonicalMembers}),
 * if it was parsed from its Canonical JSON bytes and recorded in `spans`.
 *
 * @param spans - the record of the parse.
 * @param value - the object.
 * @returns the members, or `undefined` if `value` was not recorded or its
 *   bytes do not hold as many members as it has keys (an object other than
 *   the one recorded: the records key on identity).
 */
export function canonicalMembers(
  spans: CanonicalSpans,
  value: { readonly [key: string]: unknown },
): CanonicalMembers | undefined {
  const records = spansOf(spans);
  const span = records.get(value);
  const source = span?.source;
  if (span === undefined || source?.bytes === undefined) return undefined;
  const base = byteOffset(source, span.start);
  const bytes = source.bytes.subarray(base, byteOffset(source, span.end));
  // The parser added the keys in the order of the text, which was code
  // point order; property order is that order unless a key is an array
  // index (those come first, in numeric order).
  let keys = Object.keys(value);
  for (const key of keys) {
    const c = key.charCodeAt(0);
    if (c >= 0x30 && c <= 0x39) {
      keys = sortedKeys(value);
      break;
    }
  }
  const starts: number[] = [];
  const ends: number[] = [];
  const last = bytes.length - 1;
  let pos = 1;
  // The text is Canonical JSON (the parser checked): no whitespace, a key
  // string, a colon and a value per member, commas between them.
  while (pos < last) {
    if (starts.length === keys.length) return undefined;
    starts.push(pos);
    pos = skipString(bytes, pos) + 1;
    const child = value[keys[starts.length - 1] as string];
    const c = bytes[pos] as number;
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      // A recorded value of the same parse, where the scan is, is skipped.
      const inner = typeof child === 'object' && child !== null ? records.get(child) : undefined;
      pos =
        inner !== undefined && inner.source === source && byteOffset(source, inner.start) - base === pos
          ? byteOffset(source, inner.end) - base
          : skipContainer(bytes, pos);
    } else if (c === 0x22 /* " */) {
      pos = skipString(bytes, pos);
    } else {
      // A number, true, false or null: no comma or brace inside.
      while (pos < last && bytes[pos] !== 0x2c && bytes[pos] !== 0x7d) pos++;
    }
    ends.push(pos);
    pos++;
  }
  return starts.length === keys.length ? { bytes, keys, starts, ends } : undefined;
}

/**
 * The engine's own search: `Buffer` overrides `indexOf` with a slower
 * general one.
 */
const typedIndexOf = Uint8Array.prototype.indexOf;

/** The position after the string that starts at `pos` (its opening quote). */
function skipString(bytes: Uint8Array, pos: number): number {
  let from = pos + 1;
  for (;;) {
    const quote = typedIndexOf.call(bytes, 0x22, from);
    if (quote < 0) return bytes.length;
    // The quote ends the string unless an odd run of backslashes escapes it
    // (the opening quote ends any run).
    let before = quote - 1;
    while (bytes[before] === 0x5c) before--;
    if ((quote - 1 - before) % 2 === 0) return quote + 1;
    from = quote + 1;
  }
}

/** The position after the (small, unrecorded) object or array at `pos`. */
function skipContainer(bytes: Uint8Array, pos: number): number {
  let depth = 0;
  let i = pos;
  while (i < bytes.length) {
    const c = bytes[i] as number;
    if (c === 0x22) {
      i = skipString(bytes, i);
      continue;
    }
    if (c === 0x7b || c === 0x5b) depth++;
    else if ((c === 0x7d || c === 0x5d) && --depth === 0) return i + 1;
    i++;
  }
  return i;
}
