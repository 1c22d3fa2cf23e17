/**
 * The conformance runner: answers one request line with one answer line
 * (PROTOCOL.md). Pure and synchronous, so tests and other tools can drive
 * it without a process.
 *
 * @module
 */

import {
  encodeCanonicalJson,
  InvalidInputError,
  isJsonObject,
  type JsonObject,
  type JsonValue,
  parseJson,
} from 'matrix-serverlib/canonicaljson';
import { type Operation, operations } from './ops.js';

/**
 * Request lines are parsed losslessly (exact numbers, unpaired surrogates
 * kept) so that each operation applies its own room version's rules to the
 * values it is given, and can refuse them with the right errcode.
 */
const LINE_OPTIONS = {
  numbers: 'legacy',
  allowUnpairedSurrogates: true,
  allowInfiniteFloats: true,
  maxLength: 1 << 28,
} as const;

/**
 * The longest request line read, in bytes (256 MiB; a `resolve_state`
 * request for a room of 100,000 members is about 130 MB). A longer line is
 * answered `M_TOO_LARGE` and its bytes are dropped as they arrive, never
 * held.
 */
export const MAX_LINE_BYTES = LINE_OPTIONS.maxLength;

/** What {@link splitLines} gives for a line longer than its limit, whose bytes it did not keep. */
export const LINE_TOO_LONG: unique symbol = Symbol('line too long');

function errorAnswer(id: JsonValue, code: string, message: string): JsonObject {
  return { id, ok: false, error: { code, message } };
}

/**
 * Answers one request line.
 *
 * @param line - the request, JSON text.
 * @param ops - the operations to dispatch to (the library's by default).
 * @returns the answer as one line of JSON text, without a newline.
 */
export function answerLine(line: string, ops: ReadonlyMap<string, Operation> = operations): string {
  let answer: JsonObject;
  let request: JsonValue;
  try {
    request = parseJson(line, LINE_OPTIONS);
  } catch (e) {
    // Not JSON (M_NOT_JSON), or JSON beyond the parser's limits.
    const code = e instanceof InvalidInputError ? e.errcode : 'M_NOT_JSON';
    return serialise(errorAnswer(null, code, e instanceof Error ? e.message : String(e)));
  }
  const id = isJsonObject(request) && request.id !== undefined ? request.id : null;
  try {
    if (!isJsonObject(request)) throw new InvalidInputError('M_BAD_JSON', 'A request must be a JSON object');
    const opName = request.op;
    if (typeof opName !== 'string') throw new InvalidInputError('M_MISSING_PARAM', 'Missing string field "op"');
    const op = ops.get(opName);
    if (op === undefined) throw new InvalidInputError('M_UNRECOGNIZED', `Unknown op ${JSON.stringify(opName)}`);
    answer = { id, ok: true, ...op(request) };
  } catch (e) {
    if (e instanceof InvalidInputError) answer = errorAnswer(id, e.errcode, e.message);
    // Anything else is our bug; it is reported, not fatal.
    else answer = errorAnswer(id, 'M_UNKNOWN', `Internal error: ${e instanceof Error ? e.message : String(e)}`);
  }
  return serialise(answer);
}

/**
 * Decodes request lines: invalid UTF-8 (a stray byte, an overlong form, an
 * encoded surrogate) throws rather than becoming U+FFFD, which would answer
 * a request that was never sent; a leading U+FEFF stays in the text, where
 * the parser refuses it, as it did when lines were decoded as a stream.
 */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Answers one request line given as the bytes read: a line that is not
 * valid UTF-8 gets `M_NOT_JSON` with id null (PROTOCOL.md); any other
 * line is answered by {@link answerLine}.
 *
 * @param line - the request's bytes, without the `\n` that ended it.
 * @param ops - the operations to dispatch to (the library's by default).
 * @returns the answer as one line of JSON text, without a newline.
 */
export function answerBytes(
  line: Uint8Array | typeof LINE_TOO_LONG,
  ops: ReadonlyMap<string, Operation> = operations,
): string {
  if (line === LINE_TOO_LONG) {
    return serialise(errorAnswer(null, 'M_TOO_LARGE', 'The line is longer than the runner reads'));
  }
  let text: string;
  try {
    text = UTF8.decode(line);
  } catch {
    return serialise(errorAnswer(null, 'M_NOT_JSON', 'The line is not valid UTF-8'));
  }
  return answerLine(text, ops);
}

/**
 * Splits a byte stream into request lines at `\n` bytes only
 * (PROTOCOL.md). JSON text may hold U+2028 and U+2029 raw inside
 * strings, and a lone `\r` is part of its line, so neither ends one (Node's
 * `readline` ends lines at all three); the `\r` of a `\r\n` stays at the
 * end of its line, where JSON reads it as whitespace. A last line without
 * `\n` is a line; an empty one after the last `\n` is not. A line longer
 * than `maxLineBytes` is not held: it is dropped as it arrives and given as
 * {@link LINE_TOO_LONG}.
 *
 * @param chunks - the stream, as chunks of bytes cut anywhere.
 * @param maxLineBytes - the longest line kept; default {@link MAX_LINE_BYTES}.
 * @returns the lines, without their `\n`, as soon as each is complete.
 */
export async function* splitLines(
  chunks: AsyncIterable<Uint8Array>,
  maxLineBytes: number = MAX_LINE_BYTES,
): AsyncGenerator<Uint8Array | typeof LINE_TOO_LONG> {
  // The parts of a line that spans chunks, joined once it is complete, so
  // that a long line costs one copy rather than one per chunk.
  let pending: Uint8Array[] = [];
  let size = 0;
  let tooLong = false;
  for await (const chunk of chunks) {
    let start = 0;
    for (let end = chunk.indexOf(0x0a); end >= 0; end = chunk.indexOf(0x0a, start)) {
      const part = chunk.subarray(start, end);
      if (tooLong || size + part.length > maxLineBytes) yield LINE_TOO_LONG;
      else yield pending.length === 0 ? part : Buffer.concat([...pending, part]);
      pending = [];
      size = 0;
      tooLong = false;
      start = end + 1;
    }
    if (start < chunk.length && !tooLong) {
      size += chunk.length - start;
      tooLong = size > maxLineBytes;
      pending = tooLong ? [] : [...pending, chunk.subarray(start)];
    }
  }
  if (tooLong) yield LINE_TOO_LONG;
  else if (pending.length > 0) yield Buffer.concat(pending);
}

function serialise(answer: JsonObject): string {
  try {
    return encodeCanonicalJson(answer, { numbers: 'legacy', allowUnpairedSurrogates: true });
  } catch (e) {
    // Only reachable for results nested past the encoder's depth limit.
    return encodeCanonicalJson(
      errorAnswer(null, 'M_UNKNOWN', `Answer cannot be written: ${e instanceof Error ? e.message : String(e)}`),
    );
  }
}
