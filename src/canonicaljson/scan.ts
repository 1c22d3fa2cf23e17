/**
 * Whether a string needs more than quotes around it in Canonical JSON: a
 * character the spec escapes (`"`, `\`, C0 controls), or an unpaired
 * surrogate, which Canonical JSON cannot express (spec: Appendices,
 * "Canonical JSON").
 *
 * Short strings are tested with one regular expression. Long ones (message
 * bodies, topics) are copied into WebAssembly memory and scanned eight
 * units at a time by `scan.wat`: JavaScript regular expressions take 1–2 ns
 * a unit on two-byte strings, which made scanning the largest cost of
 * encoding text-heavy events.
 *
 * The parser asks the same module, sixteen bytes at a time, whether
 * received bytes hold any byte below 0x20 (for Canonical JSON they never do,
 * and the parser then skips its search for raw control characters in
 * strings: a regular expression over the whole text, which cost as much as a
 * fifth of parsing a 60 KB event) and how far they are ASCII from each end
 * (where canonical spans map text positions to byte offsets by arithmetic).
 *
 * @module
 */

import { SCAN_WASM_BASE64 } from './scanwasm.js';

/**
 * The regular expression: an escaped character, a high surrogate not
 * followed by a low one, or a low one not preceded by a high one.
 */
const NEEDS_CARE =
  /["\\\u0000-\u001f]|[\ud800-\udbff](?![\udc00-\udfff])|^[\udc00-\udfff]|[^\ud800-\udbff][\udc00-\udfff]/;

/** From this length the WebAssembly scan is faster than the expression. */
const WASM_MIN_LENGTH = 160;
/**
 * Longer strings use the expression, so that the module's memory (which
 * never shrinks) stays at most 2 MiB.
 */
const WASM_MAX_LENGTH = 1 << 20;
const PAGE = 65536;

/** The parts of the WebAssembly API used here (its types are in no lib we target). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object) => { readonly exports: Record<string, unknown> };
}

interface Scanner {
  readonly memory: WasmMemory;
  readonly needsCare: (ptr: number, len: number) => number;
  readonly scanBytes: (ptr: number, len: number) => number;
  readonly first: { readonly value: number };
  readonly last: { readonly value: number };
  view: Buffer;
}

/** The instantiated module; null if WebAssembly SIMD is unavailable. */
let scanner: Scanner | null | undefined;

function instantiate(): Scanner | null {
  const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (wasm === undefined) return null;
  try {
    const { exports } = new wasm.Instance(new wasm.Module(Buffer.from(SCAN_WASM_BASE64, 'base64')));
    const memory = exports.memory as WasmMemory;
    return {
      memory,
      needsCare: exports.needsCare as (ptr: number, len: number) => number,
      scanBytes: exports.scanBytes as (ptr: number, len: number) => number,
      first: exports.first as { readonly value: number },
      last: exports.last as { readonly value: number },
      view: Buffer.from(memory.buffer),
    };
  } catch {
    // A runtime without WebAssembly SIMD: the expression does the work.
    return null;
  }
}

/** The module, with room for `bytes` bytes at offset 0; null without WebAssembly SIMD. */
function scannerFor(bytes: number): Scanner | null {
  if (scanner === undefined) scanner = instantiate();
  if (scanner === null) return null;
  if (bytes > scanner.memory.buffer.byteLength) {
    scanner.memory.grow(Math.ceil((bytes - scanner.memory.buffer.byteLength) / PAGE));
    scanner.view = Buffer.from(scanner.memory.buffer);
  }
  return scanner;
}

/**
 * Whether `s` needs escaping or holds an unpaired surrogate.
 *
 * @param s - any string.
 */
export function needsCare(s: string): boolean {
  if (s.length < WASM_MIN_LENGTH || s.length > WASM_MAX_LENGTH) return NEEDS_CARE.test(s);
  const wasm = scannerFor(s.length * 2);
  if (wasm === null) return NEEDS_CARE.test(s);
  // UTF-16LE is the units as they are, unpaired surrogates included.
  wasm.view.write(s, 0, 'utf16le');
  return wasm.needsCare(0, s.length) !== 0;
}

/** Below this many bytes a loop is as fast as copying into the module. */
const WASM_MIN_BYTES = 64;
/** Longer input is scanned in blocks of this size, the memory's bound. */
const WASM_MAX_BYTES = 2 * WASM_MAX_LENGTH;

/** What {@link scanUtf8} found. */
export interface ByteScan {
  /** Whether any byte is below 0x20. */
  readonly control: boolean;
  /** How many bytes at the start are ASCII (all of them if all are). */
  readonly asciiHead: number;
  /** How many bytes at the end are ASCII (all of them if all are). */
  readonly asciiTail: number;
}

/**
 * Looks at every byte once for what the parser needs to know of UTF-8
 * input: whether any byte is below 0x20 (in UTF-8 such a byte is always a
 * C0 control character itself, never part of a longer sequence, so JSON
 * text without one has no whitespace and no raw control character in a
 * string), and how far the input is ASCII from each end (text there maps to
 * its bytes one to one).
 *
 * @param bytes - any bytes.
 */
export function scanUtf8(bytes: Uint8Array): ByteScan {
  const n = bytes.length;
  const wasm = n < WASM_MIN_BYTES ? null : scannerFor(Math.min(n, WASM_MAX_BYTES));
  let control = false;
  let first = -1;
  let last = -1;
  if (wasm === null) {
    for (let i = 0; i < n; i++) {
      const b = bytes[i] as number;
      if (b < 0x20) control = true;
      else if (b >= 0x80) {
        if (first < 0) first = i;
        last = i;
      }
    }
  } else {
    for (let at = 0; at < n; at += WASM_MAX_BYTES) {
      const block = bytes.subarray(at, at + WASM_MAX_BYTES);
      wasm.view.set(block, 0);
      if (wasm.scanBytes(0, block.length) !== 0) control = true;
      if (wasm.first.value >= 0) {
        if (first < 0) first = at + wasm.first.value;
        last = at + wasm.last.value;
      }
    }
  }
  return { control, asciiHead: first < 0 ? n : first, asciiTail: last < 0 ? n : n - 1 - last };
}
