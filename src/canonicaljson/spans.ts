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

/** One parsed input: its decoded text and, for byte input, the bytes. */
interface Source {
  readonly text: string;
  readonly bytes: Uint8Array | undefined;
  /**
   * Text positions whose byte offsets are known, ascending, and those
   * offsets: a byte offset is counted from the nearest known position, so
   * each stretch of text is measured about once.
   */
  readonly positions: number[];
  readonly offsets: number[];
}

interface Span {
  readonly source: Source;
  readonly start: number;
  readonly end: number;
}

/** The records of a {@link CanonicalSpans}, for the parser. */
let spansOf: (spans: CanonicalSpans) => WeakMap<object, Span>;

/**
 * Starts recording one parse of `text` (decoded from `bytes`, if the input
 * was bytes) into `spans`; returns the function that records that a value
 * was parsed from `text[start, end)`, which is its Canonical JSON.
 */
export function spanRecorder(
  spans: CanonicalSpans,
  text: string,
  bytes: Uint8Array | undefined,
): (value: object, start: number, end: number) => void {
  const records = spansOf(spans);
  const source: Source = {
    text,
    bytes,
    positions: [0, text.length],
    offsets: [0, bytes === undefined ? text.length : bytes.length],
  };
  return (value, start, end) => {
    records.set(value, { source, start, end });
  };
}

/**
 * Records, while parsing, the objects and arrays whose input text is their
 * Canonical JSON; give it to `parseJson` as
 * {@link ParseOptions.canonicalSpans}, then to the encoder and the event
 * checks, which use the recorded text instead of encoding those values
 * again.
 *
 * The records describe the values as parsed: a value changed afterwards must
 * not be encoded or checked with this object. They keep the parsed input in
 * memory as long as the values live.
 *
 * @example
 * ```ts
 * const spans = new CanonicalSpans();
 * const pdu = parseJson(body, { numbers: rules.json.numbers, canonicalSpans: spans });
 * checkIncomingPdu(pdu as JsonObject, rules, lookup, { canonicalSpans: spans });
 * ```
 */
export class CanonicalSpans {
  readonly #spans = new WeakMap<object, Span>();

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
   * @param value - an object or array from a parse of bytes that recorded
   *   here.
   */
  bytes(value: object): Uint8Array | undefined {
    const span = this.#spans.get(value);
    if (span === undefined || span.source.bytes === undefined) return undefined;
    const { source } = span;
    return (source.bytes as Uint8Array).subarray(byteOffset(source, span.start), byteOffset(source, span.end));
  }
}

/**
 * The byte offset of text position `pos`: the UTF-8 length of the text up
 * to it, measured from the nearest position already known. Positions are at
 * brackets, never inside a surrogate pair.
 */
function byteOffset(source: Source, pos: number): number {
  const { positions, offsets, text } = source;
  const total = offsets[offsets.length - 1] as number;
  // All ASCII: offsets are positions.
  if (total === text.length) return pos;
  let hi = positions.length - 1;
  let lo = 0;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if ((positions[mid] as number) <= pos) lo = mid;
    else hi = mid;
  }
  const before = positions[lo] as number;
  const after = positions[hi] as number;
  if (pos === before) return offsets[lo] as number;
  if (pos === after) return offsets[hi] as number;
  const offset =
    pos - before <= after - pos
      ? (offsets[lo] as number) + Buffer.byteLength(text.slice(before, pos), 'utf8')
      : (offsets[hi] as number) - Buffer.byteLength(text.slice(pos, after), 'utf8');
  positions.splice(hi, 0, pos);
  offsets.splice(hi, 0, offset);
  return offset;
}
