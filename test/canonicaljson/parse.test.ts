import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  encodeCanonicalJson,
  InvalidInputError,
  JsonFloat,
  type JsonValue,
  parseJson,
} from '../../src/canonicaljson/index.js';
import { errcode } from '../helpers.js';

describe('parseJson: syntax', () => {
  it('parses every JSON type', () => {
    expect(parseJson('{"a":[1,"x",true,false,null,{"b":{}}],"c":[]}')).toEqual({
      a: [1, 'x', true, false, null, { b: {} }],
      c: [],
    });
  });

  it('accepts the four JSON whitespace characters around tokens', () => {
    expect(parseJson(' \t\n\r{ "a" :\n[ 1 ,\t2 ] }\r\n')).toEqual({ a: [1, 2] });
  });

  it.each([
    ['', 'empty input'],
    ['{', 'unterminated object'],
    ['[1,]', 'trailing comma'],
    ['{"a":1,}', 'trailing comma in object'],
    ['{a:1}', 'unquoted key'],
    ["{'a':1}", 'single quotes'],
    ['01', 'leading zero'],
    ['-', 'lone minus'],
    ['1.', 'fraction without digits'],
    ['.5', 'no integer part'],
    ['1e', 'exponent without digits'],
    ['+1', 'plus sign'],
    ['NaN', 'NaN'],
    ['Infinity', 'Infinity'],
    ['-Infinity', '-Infinity'],
    ['tru', 'truncated literal'],
    ['nulll', 'data after literal'],
    ['"\\x41"', 'invalid escape'],
    ['"\\u12"', 'short \\u escape'],
    ['"\\u12G4"', 'non-hex \\u escape'],
    ['"a\u0001b"', 'raw control character'],
    ['"a\nb"', 'raw newline in string'],
    ['"abc', 'unterminated string'],
    ['"\\"', 'string whose only closing quote is escaped (once hung the parser)'],
    ['["a\\"]', 'escaped closing quote inside an array'],
    ['{"k\\":1}', 'escaped closing quote in a key'],
    ['"\\u00', 'truncated \\u escape at the end'],
    ['[1 2]', 'missing comma'],
    ['{"a" 1}', 'missing colon'],
    ['1 2', 'two values'],
    ['/* c */ 1', 'comment'],
    ['\u00a01', 'non-JSON whitespace'],
    ['\ufeff{}', 'byte order mark'],
  ])('refuses %j (%s) with M_NOT_JSON', (text) => {
    expect(errcode(() => parseJson(text))).toBe('M_NOT_JSON');
  });

  it('refuses a raw control character in a string of long byte input, and accepts whitespace there', () => {
    // Byte input of 64 bytes and more is searched for control bytes by the
    // WebAssembly scan; text and short input by the parser itself.
    const pad = 'é'.repeat(80);
    for (const raw of ['\u0000', '\u0001', '\n', '\t', '\u001f']) {
      const bytes = Buffer.from(`{"a":"${pad}${raw}${pad}"}`);
      expect(
        errcode(() => parseJson(bytes)),
        JSON.stringify(raw),
      ).toBe('M_NOT_JSON');
      const key = Buffer.from(`{"${pad}${raw}":1}`);
      expect(
        errcode(() => parseJson(key)),
        JSON.stringify(raw),
      ).toBe('M_NOT_JSON');
    }
    const spaced = Buffer.from(`{\n\t"a" : "${pad}",\r\n"b":[ 1 ,\t2 ]\n}`);
    expect(parseJson(spaced)).toEqual({ a: pad, b: [1, 2] });
    expect(errcode(() => parseJson(Buffer.from(`{\n"a":"${pad}\u0001"}`)))).toBe('M_NOT_JSON');
  });

  it('reads keys right when recently parsed keys share their length and end characters', () => {
    // Keys are looked up in a cache of recent ones by length, first and last
    // character: colliding keys must still be told apart, and a parse of
    // many distinct keys (which stops using the cache) must read them all.
    for (let round = 0; round < 3; round++) {
      expect(Object.keys(parseJson('{"axb":1,"ayb":2,"azb":3,"__proto__":4,"axb ":5}') as object)).toEqual([
        'axb',
        'ayb',
        'azb',
        '__proto__',
        'axb ',
      ]);
      expect(Object.keys(parseJson('{"ayb":1,"axb":2}') as object)).toEqual(['ayb', 'axb']);
    }
    const many = Array.from({ length: 300 }, (_, i) => `k${String(i).padStart(3, '0')}z`);
    const text = `{${many.map((k, i) => `"${k}":${i}`).join(',')}}`;
    for (let round = 0; round < 2; round++) {
      const parsed = parseJson(Buffer.from(text)) as Record<string, number>;
      expect(Object.keys(parsed)).toEqual(many);
      expect(many.every((k, i) => parsed[k] === i)).toBe(true);
    }
    expect(parseJson('{"k000z":"k001z"}')).toEqual({ k000z: 'k001z' });
  });

  it('keeps the last value of a duplicated key, as Python and so Synapse do', () => {
    expect(parseJson('{"a":1,"b":2,"a":3}')).toEqual({ a: 3, b: 2 });
    // Escapes are decoded before keys are compared: "appl\u0065" is "apple".
    expect(parseJson('{"apple":"foo","appl\\u0065":"bar"}')).toEqual({ apple: 'bar' });
  });

  it('judges a duplicated key by its last value only, as Synapse does (validation after resolution)', () => {
    expect(parseJson('{"a":1.5,"a":1}')).toEqual({ a: 1 });
    expect(parseJson('{"a":"\\ud800","a":1}')).toEqual({ a: 1 });
    expect(parseJson('{"a":{"b":[9007199254740992]},"a":2}')).toEqual({ a: 2 });
    expect(parseJson('{"a":1e400,"a":1.5}', { numbers: 'legacy' })).toEqual({ a: new JsonFloat(1.5) });
    expect(errcode(() => parseJson('{"a":1,"a":1.5}'))).toBe('M_BAD_JSON');
    expect(errcode(() => parseJson('{"a":1,"b":{"c":1.5,"c":2.5}}'))).toBe('M_BAD_JSON');
    // Python refuses over-long integers while parsing, before duplicates are resolved.
    expect(errcode(() => parseJson(`{"a":1${'0'.repeat(4300)},"a":1}`, { numbers: 'legacy' }))).toBe('M_BAD_JSON');
  });

  it('keeps a "__proto__" key as an own property, never as the prototype', () => {
    const v = parseJson('{"__proto__":{"polluted":true},"a":1}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v).sort()).toEqual(['__proto__', 'a']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(encodeCanonicalJson(v)).toBe('{"__proto__":{"polluted":true},"a":1}');
  });

  it('decodes escapes, including surrogate pairs, to the characters they name', () => {
    expect(parseJson('"\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\u00e9\\u65e5\\ud83d\\ude00"')).toBe('"\\/\b\f\n\r\tAé日😀');
  });
});

describe('parseJson: unpaired surrogates (MSC4458)', () => {
  it.each([
    ['"\\ud800"', 'lone high surrogate escape'],
    ['"\\udc00"', 'lone low surrogate escape'],
    ['"\\ud800\\u0041"', 'high surrogate followed by a non-surrogate escape'],
    ['"\\ud800x"', 'high surrogate followed by a character'],
    ['"\\udc00\\ud800"', 'reversed pair'],
    ['{"\\ud800":1}', 'in a key'],
    ['"\ud800"', 'raw lone surrogate in the text'],
  ])('refuses %j (%s) with M_BAD_JSON', (text) => {
    expect(errcode(() => parseJson(text))).toBe('M_BAD_JSON');
  });

  it('can carry them for tools when asked', () => {
    expect(parseJson('"\\ud800"', { allowUnpairedSurrogates: true })).toBe('\ud800');
  });
});

describe('parseJson: UTF-8 bytes', () => {
  const bytes = (...b: number[]) => Uint8Array.from(b);
  it('parses UTF-8 input', () => {
    expect(parseJson(new TextEncoder().encode('{"k":"日本語😀"}'))).toEqual({ k: '日本語😀' });
  });
  it.each([
    [bytes(0x22, 0xff, 0x22), 'invalid byte'],
    [bytes(0x22, 0xc0, 0xaf, 0x22), 'overlong encoding'],
    [bytes(0x22, 0xed, 0xa0, 0x80, 0x22), 'encoded surrogate (CESU-8)'],
    [bytes(0x22, 0xe6, 0x97, 0x22), 'truncated sequence'],
    [bytes(0x22, 0xf4, 0x90, 0x80, 0x80, 0x22), 'above U+10FFFF'],
    [bytes(0xef, 0xbb, 0xbf, 0x7b, 0x7d), 'byte order mark'],
  ])('refuses %s (%s) with M_NOT_JSON', (b) => {
    expect(errcode(() => parseJson(b))).toBe('M_NOT_JSON');
  });
});

describe('parseJson: numbers by room version rules', () => {
  // Expected values: strict rules from the spec's Canonical JSON section and
  // MSC4458; legacy values are what Python's json + repr produce, which is
  // how Synapse re-encodes them (checked against Synapse by the oracle test).
  const cases: [string, string | null, string | null][] = [
    // text, canonical under strict (null: refused), canonical under legacy
    ['0', '0', '0'],
    ['-0', '0', '0'],
    ['-0.0', null, '-0.0'],
    ['0.0', null, '0.0'],
    ['0e0', null, '0.0'],
    ['1E5', null, '100000.0'],
    ['1e+5', null, '100000.0'],
    ['1e-5', null, '1e-05'],
    ['1.5', null, '1.5'],
    ['100.0', null, '100.0'],
    ['1e16', null, '1e+16'],
    ['1e400', null, null],
    ['-1e400', null, null],
    ['9007199254740991', '9007199254740991', '9007199254740991'],
    ['-9007199254740991', '-9007199254740991', '-9007199254740991'],
    ['9007199254740992', null, '9007199254740992'],
    ['-9007199254740992', null, '-9007199254740992'],
    ['9007199254740993', null, '9007199254740993'],
    ['123456789012345678901234567890', null, '123456789012345678901234567890'],
    ['999999999999999', '999999999999999', '999999999999999'],
    ['1000000000000000', '1000000000000000', '1000000000000000'],
  ];
  it.each(cases)('%s', (text, strict, legacy) => {
    if (strict === null) expect(errcode(() => parseJson(text, { numbers: 'strict' }))).toBe('M_BAD_JSON');
    else expect(encodeCanonicalJson(parseJson(text, { numbers: 'strict' }))).toBe(strict);
    if (legacy === null) expect(errcode(() => parseJson(text, { numbers: 'legacy' }))).toBe('M_BAD_JSON');
    else expect(encodeCanonicalJson(parseJson(text, { numbers: 'legacy' }), { numbers: 'legacy' })).toBe(legacy);
  });

  it('keeps legacy integers exact as bigint outside the safe range and floats as JsonFloat', () => {
    expect(parseJson('9007199254740993', { numbers: 'legacy' })).toBe(9007199254740993n);
    expect(parseJson('1.0', { numbers: 'legacy' })).toEqual(new JsonFloat(1));
    expect(Object.is(parseJson('-0', { numbers: 'legacy' }), 0)).toBe(true);
  });

  it('refuses integers of more than 4300 digits in legacy rules, as Python does', () => {
    expect(parseJson('1'.repeat(4300), { numbers: 'legacy' })).toBe(BigInt('1'.repeat(4300)));
    expect(errcode(() => parseJson('1'.repeat(4301), { numbers: 'legacy' }))).toBe('M_BAD_JSON');
  });
});

describe('parseJson: limits', () => {
  it('accepts nesting up to maxDepth and refuses deeper with M_BAD_JSON', () => {
    expect(() => parseJson('['.repeat(1024) + ']'.repeat(1024))).not.toThrow();
    expect(errcode(() => parseJson('['.repeat(1025) + ']'.repeat(1025)))).toBe('M_BAD_JSON');
    expect(errcode(() => parseJson('{"a":'.repeat(11) + '1' + '}'.repeat(11), { maxDepth: 10 }))).toBe('M_BAD_JSON');
  });

  it('survives a million opening brackets without a stack overflow', () => {
    expect(errcode(() => parseJson('['.repeat(1_000_000)))).toBe('M_BAD_JSON');
    expect(errcode(() => parseJson('{"a":'.repeat(200_000), { maxDepth: 1e9 }))).toBe('M_NOT_JSON');
  });

  it('refuses input over maxLength with M_TOO_LARGE before parsing', () => {
    expect(errcode(() => parseJson('[1,2,3]', { maxLength: 6 }))).toBe('M_TOO_LARGE');
    expect(errcode(() => parseJson(new Uint8Array(7), { maxLength: 6 }))).toBe('M_TOO_LARGE');
  });

  it('parses a 5 MB document of long strings', () => {
    const big = JSON.stringify({ a: 'x'.repeat(5_000_000), b: ['y'.repeat(1000)] });
    expect((parseJson(big) as { a: string }).a.length).toBe(5_000_000);
  });
});

/** JSON values whose numbers are all safe integers. */
const strictJson: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.maxSafeInteger(),
    fc.string({ unit: 'grapheme' }),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(fc.string({ unit: 'grapheme' }), tie('value'), { maxKeys: 5 }),
  ),
})).value;

describe('parseJson: properties', () => {
  it('agrees with JSON.parse on JSON whose numbers are safe integers', () => {
    fc.assert(
      fc.property(strictJson, fc.boolean(), (v, pretty) => {
        const text = JSON.stringify(v, null, pretty ? 2 : undefined);
        expect(parseJson(text)).toEqual(JSON.parse(text));
      }),
      { numRuns: 500 },
    );
  });

  it('never throws anything but InvalidInputError, and accepts only what JSON.parse accepts', () => {
    const alphabet = fc.constantFrom(...'{}[]":,\\ u0123456789abcdefeE.-+tnrl\n\t\ud83d\ude00é'.split(''));
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 40 }), (chars) => {
        const text = chars.join('');
        let ours: unknown;
        let threw = false;
        try {
          ours = parseJson(text, { numbers: 'legacy', allowUnpairedSurrogates: true });
        } catch (e) {
          expect(e).toBeInstanceOf(InvalidInputError);
          threw = true;
        }
        let theirs: unknown;
        let theyThrew = false;
        try {
          theirs = JSON.parse(text);
        } catch {
          theyThrew = true;
        }
        // Legacy parsing refuses only non-finite floats beyond JSON.parse.
        if (!(threw && !theyThrew && typeof theirs === 'number' && !Number.isFinite(theirs))) {
          expect(threw).toBe(theyThrew);
        }
        if (!threw && typeof ours !== 'object') {
          const n = ours instanceof JsonFloat ? ours.value : typeof ours === 'bigint' ? Number(ours) : ours;
          // -0 parses to the integer 0 by design; otherwise the same number.
          expect(n === theirs).toBe(true);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('round-trips: parse(encode(v)) equals v', () => {
    fc.assert(
      fc.property(strictJson, (v) => {
        const once = encodeCanonicalJson(parseJson(JSON.stringify(v)) as JsonValue);
        expect(encodeCanonicalJson(parseJson(once))).toBe(once);
      }),
      { numRuns: 300 },
    );
  });
});
