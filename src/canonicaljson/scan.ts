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
      view: Buffer.from(memory.buffer),
    };
  } catch {
    // A runtime without WebAssembly SIMD: the expression does the work.
    return null;
  }
}

/**
 * Whether `s` needs escaping or holds an unpaired surrogate.
 *
 * @param s - any string.
 */
export function needsCare(s: string): boolean {
  if (s.length < WASM_MIN_LENGTH || s.length > WASM_MAX_LENGTH) return NEEDS_CARE.test(s);
  if (scanner === undefined) scanner = instantiate();
  if (scanner === null) return NEEDS_CARE.test(s);
  const bytes = s.length * 2;
  if (bytes > scanner.memory.buffer.byteLength) {
    scanner.memory.grow(Math.ceil((bytes - scanner.memory.buffer.byteLength) / PAGE));
    scanner.view = Buffer.from(scanner.memory.buffer);
  }
  // UTF-16LE is the units as they are, unpaired surrogates included.
  scanner.view.write(s, 0, 'utf16le');
  return scanner.needsCare(0, s.length) !== 0;
}
