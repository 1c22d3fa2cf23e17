/**
 * `printable`: remote text made safe to show. Expected values written by
 * hand: each control or formatting character as `\u` and four hex digits.
 */

import { describe, expect, it } from 'vitest';
import { printable } from '../../src/federation/text.js';

describe('printable', () => {
  it.each([
    ['plain text, é 😀 日本', 'plain text, é 😀 日本'],
    ['\u001b[31mred', '\\u001b[31mred'],
    ['a\r\nb\tc\u0000', 'a\\u000d\\u000ab\\u0009c\\u0000'],
    ['\u007f\u0080\u009b\u009f\u00a0', '\\u007f\\u0080\\u009b\\u009f\u00a0'],
    ['\u2028\u2029', '\\u2028\\u2029'],
    ['\u200e\u200f\u202a\u202e\u2066\u2069', '\\u200e\\u200f\\u202a\\u202e\\u2066\\u2069'],
  ])('escapes %j', (text, shown) => {
    expect(printable(text, 100)).toBe(shown);
  });

  it('cuts at maxLength with …, never splitting a surrogate pair', () => {
    expect(printable('abcdef', 6)).toBe('abcdef');
    expect(printable('abcdefg', 6)).toBe('abcde…');
    expect(printable('abcd😀xyz', 6)).toBe('abcd…');
    expect(printable('abc😀xyz', 6)).toBe('abc😀…');
    expect(printable(`${'x'.repeat(1_000_000)}\u001b`, 10)).toBe(`${'x'.repeat(9)}…`);
    // Escapes count towards the length.
    expect(printable('\u001b\u001b', 6)).toBe('\\u001…');
  });
});
