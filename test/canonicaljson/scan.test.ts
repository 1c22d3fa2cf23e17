import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assembleScan, scanModuleSource } from '../../scripts/wasm.ts';
import { needsCare } from '../../src/canonicaljson/scan.js';
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
