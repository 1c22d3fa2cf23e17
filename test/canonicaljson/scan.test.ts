import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assembleScan, scanModuleSource } from '../../scripts/wasm.ts';
import { needsCare, scanUtf8 } from '../../src/canonicaljson/scan.js';
import { SCAN_WASM_BASE64 } from '../../src/canonicaljson/scanwasm.js';

/**
 * The independent judge: a unit Canonical JSON escapes, or a string that is
 * not well-formed UTF-16 (the engine's own `isWellFormed`).
 */
const judge = (s: string) => /["\\\u0000-\u001f]/.test(s) || !s.isWellFormed();

/** Units around every boundary the scan has: escapes, surrogates, U+D7FF/U+E000. */
const unit = fc.constantFrom(
  'a',
  'é',
  '日',
  '😀',
  '"',
  '\\',
  '\n',
  '\u0000',
  '\u001f',
  ' ',
  '!',
  '[',
  ']',
  '\ud7ff',
  '\ud800',
  '\udbff',
  '\udc00',
  '\udfff',
  '\ue000',
  '\uffff',
);

describe('needsCare', () => {
  it('is assembled from scan.wat: the committed module is what scripts/wasm.ts makes', async () => {
    const bytes = await assembleScan();
    expect(Buffer.from(SCAN_WASM_BASE64, 'base64').equals(Buffer.from(bytes))).toBe(true);
    const { readFileSync } = await import('node:fs');
    const committed = readFileSync(new URL('../../src/canonicaljson/scanwasm.ts', import.meta.url), 'utf8');
    expect(committed).toBe(scanModuleSource(bytes));
  });

  it('agrees with the judge on strings of every length around the eight-unit blocks, both scans', () => {
    // Long clean text with one chosen unit placed anywhere: every position
    // in a block, the block ends and the tail.
    for (const length of [159, 160, 161, 167, 168, 169, 175, 176, 177, 300]) {
      for (const u of ['"', '\\', '\u0001', '\ud800', '\udc00', '\udbff\udc00', '😀', '\ue000']) {
        for (let at = 0; at <= length - u.length; at += at < 24 || at > length - 24 ? 1 : 7) {
          const s = 'x'.repeat(at) + u + 'y'.repeat(length - at - u.length);
          expect(needsCare(s), JSON.stringify([length, u, at])).toBe(judge(s));
        }
      }
    }
  });

  it('agrees with the judge on generated strings, short and long', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit, maxLength: 40 }),
          fc.string({ unit, minLength: 150, maxLength: 400 }),
          fc
            .tuple(
              fc.string({ unit: fc.constantFrom('a', '日', '😀'), minLength: 160, maxLength: 500 }),
              fc.string({ unit, maxLength: 3 }),
              fc.nat(),
            )
            .map(([clean, odd, at]) => {
              const i = at % (clean.length + 1);
              return clean.slice(0, i) + odd + clean.slice(i);
            }),
          fc.string({ unit: 'binary', minLength: 160, maxLength: 600 }),
        ),
        (s) => {
          expect(needsCare(s)).toBe(judge(s));
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('grows its memory for long strings and keeps answering', () => {
    const long = 'é'.repeat(300_000);
    expect(needsCare(long)).toBe(false);
    expect(needsCare(`${long}"`)).toBe(true);
    expect(needsCare(`${long}\ud800`)).toBe(true);
    expect(needsCare('ok'.repeat(100))).toBe(false);
    // Past the module's limit the expression answers.
    expect(needsCare('a'.repeat(1_100_000))).toBe(false);
    expect(needsCare(`${'a'.repeat(1_100_000)}\u0000`)).toBe(true);
  });
});

describe('scanUtf8', () => {
  /** The independent judge: any byte below 0x20; the ASCII run at each end. */
  const judge = (b: Uint8Array) => {
    const high = [...b].map((x) => x >= 0x80);
    const first = high.indexOf(true);
    const last = high.lastIndexOf(true);
    return {
      control: b.some((x) => x < 0x20),
      asciiHead: first < 0 ? b.length : first,
      asciiTail: last < 0 ? b.length : b.length - 1 - last,
    };
  };

  it('finds a byte below 0x20 at every position around the 16-byte blocks, the loop and the tail', () => {
    for (const length of [0, 1, 15, 16, 17, 63, 64, 65, 79, 80, 81, 95, 96, 97, 200]) {
      for (const odd of [0x00, 0x09, 0x0a, 0x1f]) {
        for (let at = 0; at < length; at++) {
          const bytes = Buffer.alloc(length, 0x61);
          bytes[at] = odd;
          expect(scanUtf8(bytes).control, JSON.stringify([length, odd, at])).toBe(true);
        }
      }
      // 0x20 itself, and every byte of multi-byte UTF-8, is not one.
      expect(scanUtf8(Buffer.alloc(length, 0x20))).toEqual({ control: false, asciiHead: length, asciiTail: length });
      expect(scanUtf8(Buffer.from('é日😀'.repeat(length)).subarray(0, length)).control).toBe(false);
    }
  });

  it('finds the first and last non-ASCII byte at every position around the blocks', () => {
    for (const length of [1, 15, 16, 17, 63, 64, 65, 80, 81, 200]) {
      for (let a = 0; a < length; a += a < 20 || a > length - 20 ? 1 : 5) {
        for (const b of [a, Math.min(length - 1, a + 1), Math.min(length - 1, a + 17), length - 1]) {
          const bytes = Buffer.alloc(length, 0x61);
          bytes[a] = 0xc3;
          bytes[b] = 0xff;
          expect(scanUtf8(bytes), JSON.stringify([length, a, b])).toEqual({
            control: false,
            asciiHead: a,
            asciiTail: length - 1 - b,
          });
        }
      }
    }
  });

  it('agrees with the judge on generated bytes, views into larger buffers included', () => {
    fc.assert(
      fc.property(
        fc
          .uint8Array({ minLength: 0, maxLength: 300 })
          .map((b) => b.map((x) => (x < 0x20 && x % 5 !== 0 ? x + 0x20 : x >= 0x80 && x % 3 !== 0 ? x - 0x40 : x))),
        fc.nat(8),
        (bytes, offset) => {
          const view = new Uint8Array(bytes.length + offset + 3).fill(0x81).subarray(offset, offset + bytes.length);
          view.set(bytes);
          expect(scanUtf8(view)).toEqual(judge(bytes));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('scans input beyond the module memory in blocks, the last byte of each included', () => {
    const block = 2 << 20;
    const big = Buffer.alloc(2 * block + 5, 0x61);
    expect(scanUtf8(big)).toEqual({ control: false, asciiHead: big.length, asciiTail: big.length });
    for (const at of [block - 1, block, 2 * block - 1, 2 * block + 4]) {
      big[at] = 0x0a;
      expect(scanUtf8(big).control, String(at)).toBe(true);
      big[at] = 0xe9;
      expect(scanUtf8(big), String(at)).toEqual({ control: false, asciiHead: at, asciiTail: big.length - 1 - at });
      big[at] = 0x61;
    }
    big[block + 3] = 0xe9;
    big[2 * block + 1] = 0xe9;
    expect(scanUtf8(big)).toEqual({ control: false, asciiHead: block + 3, asciiTail: 3 });
  });
});
