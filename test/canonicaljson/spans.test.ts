import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { prng } from '../../bench/corpus.ts';
import {
  encodeCanonicalJson,
  encodeCanonicalJsonBytes,
  type JsonValue,
  type ParseOptions,
  parseJson,
  sortedKeys,
} from '../../src/canonicaljson/index.js';
import { parseReceived } from '../../src/canonicaljson/parse.js';
import { CanonicalSpans, canonicalMembers, recordedExtent } from '../../src/canonicaljson/spans.js';

/** The parse that records canonical spans, of text as its UTF-8 bytes. */
function recordedParse(input: string | Uint8Array, options: ParseOptions = {}) {
  return parseReceived(typeof input === 'string' ? Buffer.from(input, 'utf8') : input, options);
}

/** Every object and array in a parsed tree, outermost first. */
function containers(root: JsonValue): object[] {
  const out: object[] = [];
  const stack: JsonValue[] = [root];
  while (stack.length > 0) {
    const v = stack.pop() as JsonValue;
    if (Array.isArray(v)) {
      out.push(v);
      stack.push(...v);
    } else if (v !== null && typeof v === 'object' && !(v.constructor !== Object && v.constructor !== undefined)) {
      out.push(v);
      stack.push(...Object.values(v));
    }
  }
  return out;
}

/**
 * Writes `v` as JSON text that means the same value, departing from
 * Canonical JSON at each opportunity with probability `p`: whitespace, keys
 * out of order, a duplicated key (whose first value is then replaced),
 * other escapes (`\/`, `\u0041`, upper-case hex, `\u000a` for `\n`), other
 * number forms (`-0`, `1.0`, `1e0`). With `p = 0` it writes Canonical JSON
 * (by its own rules, not by calling the encoder).
 */
function write(v: JsonValue, p: number, rand: () => number): string {
  const maybe = () => p > 0 && rand() < p;
  const ws = () => (maybe() ? ' \n\t\r'[Math.floor(rand() * 4)] : '');
  const str = (s: string) => {
    let out = '"';
    for (const ch of s) {
      const c = ch.codePointAt(0) as number;
      const hex = (n: number) => `\\u${n.toString(16).padStart(4, '0')}`;
      if (ch === '"') out += '\\"';
      else if (ch === '\\') out += '\\\\';
      else if (ch === '\n') out += maybe() ? '\\u000a' : '\\n';
      else if (ch === '\t') out += '\\t';
      else if (ch === '\r') out += '\\r';
      else if (ch === '\b') out += '\\b';
      else if (ch === '\f') out += '\\f';
      else if (c < 0x20) out += maybe() ? hex(c).toUpperCase().replace('\\U', '\\u') : hex(c);
      else if (ch === '/' && maybe()) out += '\\/';
      else if (c < 0x10000 && maybe()) out += hex(c);
      else out += ch;
    }
    return `${out}"`;
  };
  const num = (n: number) => {
    if (n === 0 && maybe()) return '-0';
    if (maybe()) return rand() < 0.5 ? `${n}.0` : `${n}e0`;
    return String(n);
  };
  const go = (x: JsonValue): string => {
    if (x === null) return 'null';
    if (typeof x === 'boolean') return String(x);
    if (typeof x === 'number') return num(x);
    if (typeof x === 'string') return str(x);
    if (Array.isArray(x)) return `[${ws()}${x.map((e) => `${go(e)}${ws()}`).join(`,${ws()}`)}]`;
    const keys = Object.keys(x as object).sort((a, b) => {
      const ca = Array.from(a, (c) => c.codePointAt(0) as number);
      const cb = Array.from(b, (c) => c.codePointAt(0) as number);
      for (let i = 0; i < Math.min(ca.length, cb.length); i++) {
        if (ca[i] !== cb[i]) return (ca[i] as number) - (cb[i] as number);
      }
      return ca.length - cb.length;
    });
    if (keys.length > 1 && maybe()) keys.reverse();
    const members: string[] = [];
    for (const k of keys) {
      if (maybe()) members.push(`${str(k)}:${ws()}"replaced"`);
      members.push(`${ws()}${str(k)}${ws()}:${ws()}${go((x as Record<string, JsonValue>)[k] as JsonValue)}${ws()}`);
    }
    return `{${members.join(',')}}`;
  };
  return `${ws()}${go(v)}${ws()}`;
}

/** JSON values: safe integers, every kind of string, nesting. */
const value: fc.Arbitrary<JsonValue> = fc.letrec<{ v: JsonValue }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'medium' },
    fc.string({ unit: 'binary', maxLength: 30 }).filter((s) => s.isWellFormed()),
    fc.string({
      unit: fc.constantFrom('a', 'é', '日', '😀', '"', '\\', '/', '\n', '\u0001', '\u007f', '\ue000'),
      maxLength: 30,
    }),
    fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }),
    fc.constantFrom(0, -1, 2 ** 53 - 1, -(2 ** 53) + 1),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('v'), { maxLength: 6 }),
    fc.dictionary(fc.string({ unit: fc.constantFrom('a', 'b', 'é', '😀', '\ufb33', '_') }), tie('v'), { maxKeys: 6 }),
  ),
})).v;

/** Event-like documents: an object of several members, each any value. */
const documentValue: fc.Arbitrary<JsonValue> = fc.dictionary(
  fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'é', '😀', '\ufb33', '_', '1', '9'), minLength: 1, maxLength: 4 }),
  value,
  { minKeys: 3, maxKeys: 10 },
);

describe('CanonicalSpans', () => {
  it('records only text that is exactly the Canonical JSON of its value, as text and as bytes', () => {
    let checked = 0;
    fc.assert(
      fc.property(documentValue, fc.integer(), fc.constantFrom(0.01, 0.05, 0.2), (v, seed, p) => {
        const text = write(v, p, prng(seed));
        let parsed: ReturnType<typeof recordedParse>;
        try {
          parsed = recordedParse(text, { numbers: 'legacy' });
        } catch {
          return; // e.g. a duplicate key at the top of a non-object
        }
        const { value: tree, spans } = parsed;
        expect(tree).toEqual(parseJson(text, { numbers: 'legacy' }));
        for (const c of containers(tree)) {
          const t = spans.text(c);
          const b = spans.bytes(c);
          expect(b === undefined).toBe(t === undefined);
          if (t !== undefined) {
            checked++;
            expect(t).toBe(encodeCanonicalJson(c, { numbers: 'legacy' }));
            expect(t).toBe(encodeCanonicalJson(c, { numbers: 'strict' }));
            expect(Buffer.from(b as Uint8Array).equals(encodeCanonicalJsonBytes(c))).toBe(true);
          }
        }
      }),
      { numRuns: 1500 },
    );
    // The property is only as good as the records it saw.
    expect(checked).toBeGreaterThan(1000);
  });

  it('records every container of 48 characters or more of a Canonical JSON text', () => {
    fc.assert(
      fc.property(documentValue, (v) => {
        const text = write(v, 0, () => 0);
        expect(text).toBe(encodeCanonicalJson(v));
        const { value: tree, spans } = recordedParse(text);
        for (const c of containers(tree)) {
          const canonical = encodeCanonicalJson(c);
          if (canonical.length < 48) continue;
          expect(spans.text(c)).toBe(canonical);
          expect(Buffer.from(spans.bytes(c) as Uint8Array).equals(Buffer.from(canonical, 'utf8'))).toBe(true);
        }
      }),
      { numRuns: 1000 },
    );
  });

  const long = 'x'.repeat(60);
  const recorded = (text: string, pick: (tree: JsonValue) => object = (t) => t as object) => {
    const { value: tree, spans } = recordedParse(text, { numbers: 'legacy' });
    return spans.text(pick(tree)) !== undefined;
  };

  it.each([
    ['canonical', `{"a":"${long}","b":[1,2]}`, true],
    ['whitespace after a colon', `{"a": "${long}","b":[1,2]}`, false],
    ['whitespace inside an empty array', `{"a":"${long}","b":[ ]}`, false],
    ['keys out of order', `{"b":[1,2],"a":"${long}"}`, false],
    ['a duplicated key', `{"a":"${long}","a":"${long}"}`, false],
    ['an escaped slash', `{"a":"\\/${long}"}`, false],
    ['a \\u escape of a printable character', `{"a":"\\u0041${long}"}`, false],
    ['\\u000a for a newline', `{"a":"\\u000a${long}"}`, false],
    ['upper-case hex in a control escape', `{"a":"\\u001F${long}"}`, false],
    ['lower-case hex in a control escape', `{"a":"\\u001f${long}"}`, true],
    ['\\n', `{"a":"\\n${long}"}`, true],
    ['-0', `{"a":"${long}","b":-0}`, false],
    ['1.0', `{"a":"${long}","b":1.0}`, false],
    ['1e2', `{"a":"${long}","b":1e2}`, false],
    ['2^53 (a big integer under legacy rules)', `{"a":"${long}","b":9007199254740992}`, false],
    ['2^53 - 1', `{"a":"${long}","b":9007199254740991}`, true],
    ['U+FB33 before U+1F600 (code point order)', `{"\ufb33":1,"\u{1F600}":"${long}"}`, true],
    ['U+1F600 before U+FB33 (UTF-16 order)', `{"\u{1F600}":"${long}","\ufb33":1}`, false],
  ])('%s: recorded %s', (_, text, expected) => {
    expect(recorded(text)).toBe(expected);
  });

  it('records the canonical members of a non-canonical container', () => {
    const { value, spans } = recordedParse(`{ "content": {"body":"${long}"} }`);
    const tree = value as Record<string, object>;
    expect(spans.text(tree)).toBeUndefined();
    expect(spans.text(tree.content as object)).toBe(`{"body":"${long}"}`);
  });

  it('records nothing holding an unpaired surrogate', () => {
    const { value: tree, spans } = recordedParse(`{"a":"\\ud800${long}"}`, { allowUnpairedSurrogates: true });
    expect((tree as Record<string, string>).a).toBe(`\ud800${long}`);
    expect(spans.text(tree as object)).toBeUndefined();
  });

  it('freezes the value the records describe, and reads the bytes until released', () => {
    const bytes = Buffer.from(`{"a":{"b":"${long}"},"c":[{"d":"${long}"}]}`, 'utf8');
    const { value, spans } = recordedParse(bytes);
    const tree = value as Record<string, Record<string, JsonValue>>;
    const text = spans.text(tree);
    for (const c of containers(value)) expect(Object.isFrozen(c)).toBe(true);
    expect(() => {
      (tree.a as Record<string, JsonValue>).b = 'EDITED';
    }).toThrow(TypeError);
    expect(() => (tree.c as unknown as JsonValue[]).push(1)).toThrow(TypeError);
    // Views of the bytes given, until released: then no bytes, the text still.
    expect(Buffer.from(spans.bytes(tree) as Uint8Array).toString('utf8')).toBe(text);
    expect(canonicalMembers(spans, tree)).toBeDefined();
    spans.release();
    expect(spans.bytes(tree)).toBeUndefined();
    expect(spans.bytes(tree.a as object)).toBeUndefined();
    expect(canonicalMembers(spans, tree)).toBeUndefined();
    bytes.fill(0x20);
    expect(spans.text(tree)).toBe(text);
  });

  it('copies bytes in shared memory, which another thread may change', () => {
    const text = `{"a":{"b":"${long}"}}`;
    const shared = new Uint8Array(new SharedArrayBuffer(Buffer.byteLength(text)));
    shared.set(Buffer.from(text, 'utf8'));
    const { value, spans } = recordedParse(shared);
    const view = spans.bytes(value as object) as Uint8Array;
    expect(view.buffer).not.toBe(shared.buffer);
    shared.fill(0x20);
    expect(Buffer.from(view).toString('utf8')).toBe(text);
  });

  it('gives byte views for non-ASCII input, asked for in any order', () => {
    const parts = Array.from({ length: 40 }, (_, i) => `{"k":"${'😀é日'.repeat(i)}${long}"}`);
    const text = `[${parts.join(',')}]`;
    const bytes = Buffer.from(text, 'utf8');
    const { value, spans } = recordedParse(bytes);
    const tree = value as object[];
    // Views of one copy of the input (whose being a copy the test of
    // ownership below shows).
    const whole = spans.bytes(tree) as Uint8Array;
    // Ask in a scrambled order: the offsets must not depend on it.
    for (const i of [17, 3, 39, 0, 25, 8, 31]) {
      const view = spans.bytes(tree[i] as object) as Uint8Array;
      expect(Buffer.from(view).toString('utf8')).toBe(parts[i]);
      expect(view.buffer).toBe(whole.buffer);
    }
    expect(Buffer.from(spans.bytes(tree) as Uint8Array).equals(bytes)).toBe(true);
  });

  it('maps offsets by arithmetic in the ASCII text before the first and after the last non-ASCII character', () => {
    const ascii = (i: number) => `{"k":"${'a'.repeat(i)}${long}"}`;
    const wide = (i: number) => `{"k":"${'é日😀'.repeat(i + 1)}${long}"}`;
    const parts = [ascii(0), ascii(1), wide(0), ascii(2), wide(1), ascii(3), ascii(4)];
    const text = `[${parts.join(',')}]`;
    const bytes = Buffer.from(text, 'utf8');
    for (const order of [
      [0, 1, 2, 3, 4, 5, 6],
      [6, 5, 4, 3, 2, 1, 0],
      [3, 6, 0, 4, 1, 5, 2],
    ]) {
      const { value, spans } = recordedParse(bytes);
      const tree = value as object[];
      for (const i of order) {
        const view = spans.bytes(tree[i] as object) as Uint8Array;
        expect(Buffer.from(view).toString('utf8'), `${order} ${i}`).toBe(parts[i]);
      }
    }
  });

  it('gives exact byte views in long non-ASCII text, surrogate pairs at every alignment, in any order', () => {
    // Containers of varied length and content between long stretches of
    // text, so that positions asked about, and the measuring steps between
    // them, fall everywhere, inside and beside surrogate pairs included.
    const rand = prng(14);
    const chars = ['a', 'é', '日', '😀', '\ue000'];
    const parts: string[] = [];
    for (let i = 0; i < 300; i++) {
      let s = '';
      const n = 40 + Math.floor(rand() * 300);
      for (let j = 0; j < n; j++) s += chars[Math.floor(rand() * chars.length)];
      parts.push(`{"k":"${s}"}`);
    }
    const text = `[${parts.join(',')}]`;
    const { value, spans } = recordedParse(text);
    const tree = value as object[];
    const order = parts.map((_, i) => i).sort(() => rand() - 0.5);
    for (const i of order) {
      const view = spans.bytes(tree[i] as object) as Uint8Array;
      expect(Buffer.from(view).toString('utf8'), `part ${i}`).toBe(parts[i]);
    }
  });

  it('finds byte offsets in time linear in the input, in any order of asking (issue 14)', () => {
    // Members recorded one by one in a body that is not recorded as a
    // whole, asked for from the last: keeping each offset found in a sorted
    // list made every insertion cost the length of the list (a body of
    // 160,000 members took 19 s). Linear, asking for all of them costs about
    // as much as parsing the body; quadratic, some twenty times as much at
    // this size. Both are timed alternately, the best of five kept.
    const n = 32_000;
    const parts = Array.from({ length: n }, (_, i) => `{"k":"é${i}${'x'.repeat(48)}"}`);
    const bytes = Buffer.from(`[ ${parts.join(',')}]`, 'utf8');
    let parse = Number.POSITIVE_INFINITY;
    let ask = Number.POSITIVE_INFINITY;
    for (let run = 0; run < 5; run++) {
      let start = performance.now();
      const { value, spans } = recordedParse(bytes);
      const values = value as object[];
      parse = Math.min(parse, performance.now() - start);
      start = performance.now();
      for (let i = n - 1; i >= 0; i--) spans.bytes(values[i] as object);
      ask = Math.min(ask, performance.now() - start);
      expect(Buffer.from(spans.bytes(values[7] as object) as Uint8Array).toString()).toBe(parts[7]);
    }
    expect(ask / parse).toBeLessThan(5);
  });
});

describe('recordedExtent', () => {
  /** Levels of nesting, the value itself the first (0 for a scalar). */
  const height = (v: JsonValue): number => {
    if (Array.isArray(v)) return 1 + Math.max(0, ...v.map(height));
    if (v !== null && typeof v === 'object') return 1 + Math.max(0, ...Object.values(v).map(height));
    return 0;
  };

  it('gives the text length and nesting height of every recorded container', () => {
    let checked = 0;
    fc.assert(
      fc.property(documentValue, fc.integer({ min: 0, max: 3 }), (v, wrap) => {
        // Wrapped in arrays and objects, empty ones beside, so that
        // containers open and close at several levels around it.
        let doc: JsonValue = v;
        for (let i = 0; i < wrap; i++) doc = i % 2 === 0 ? [doc, []] : { a: {}, b: doc };
        const { value: tree, spans } = recordedParse(write(doc, 0, () => 0));
        for (const c of containers(tree)) {
          const text = spans.text(c);
          if (text === undefined) {
            expect(recordedExtent(spans, c)).toBeUndefined();
            continue;
          }
          checked++;
          expect(recordedExtent(spans, c)).toEqual({ length: text.length, height: height(c as JsonValue) });
        }
      }),
      { numRuns: 500 },
    );
    expect(checked).toBeGreaterThan(500);
  });
});

describe('canonicalMembers', () => {
  it('finds every member of every recorded object: the slices, in key order, are its members', () => {
    let checked = 0;
    fc.assert(
      fc.property(documentValue, (v) => {
        const bytes = Buffer.from(
          write(v, 0, () => 0),
          'utf8',
        );
        const { value: tree, spans } = recordedParse(bytes);
        for (const c of containers(tree)) {
          if (Array.isArray(c)) continue;
          const object = c as Record<string, JsonValue>;
          const keys = sortedKeys(object);
          const found = canonicalMembers(spans, object);
          const whole = spans.bytes(object);
          if (whole === undefined) {
            expect(found).toBeUndefined();
            continue;
          }
          checked++;
          // Keys in code point order, array-index keys ("0", "10") included.
          expect(found?.keys).toEqual(keys);
          expect(found?.bytes.byteOffset).toBe(whole.byteOffset);
          expect(found?.bytes.length).toBe(whole.length);
          const { starts, ends } = found as { starts: readonly number[]; ends: readonly number[] };
          const slices = keys.map((_, i) => Buffer.from(whole.subarray(starts[i], ends[i])).toString('utf8'));
          // Joined with commas in braces they are the object's bytes; each is
          // one member, `"key":value`, of the key in that place.
          expect(`{${slices.join(',')}}`).toBe(Buffer.from(whole).toString('utf8'));
          slices.forEach((slice, i) => {
            const member = JSON.parse(`{${slice}}`) as Record<string, unknown>;
            expect(Object.keys(member)).toEqual([keys[i]]);
            expect(member[keys[i] as string]).toEqual(JSON.parse(encodeCanonicalJson(object[keys[i] as string])));
          });
        }
      }),
      { numRuns: 1000 },
    );
    expect(checked).toBeGreaterThan(300);
  });

  it('scans small containers and escaped strings, and gives nothing for an object not recorded', () => {
    const long = 'x'.repeat(60);
    // A small object (not recorded, so scanned) holding a brace in a string,
    // and a string ending in an escaped backslash and quote.
    const text = `{"a":"${long}","b":{"c":[1,{"d":"}"}]},"e":"\\""}`;
    const { value, spans } = recordedParse(text);
    const tree = value as Record<string, JsonValue>;
    const members = canonicalMembers(spans, tree);
    const b = text.indexOf('"b"');
    const e = text.indexOf('"e"');
    expect(members?.keys).toEqual(['a', 'b', 'e']);
    expect(members?.starts).toEqual([1, b, e]);
    expect(members?.ends).toEqual([b - 1, e - 1, text.length - 1]);
    // A copy with other keys is not what was recorded.
    expect(canonicalMembers(spans, { ...tree, f: 1 })).toBeUndefined();
    expect(canonicalMembers(spans, { a: 1 })).toBeUndefined();
    expect(canonicalMembers(new CanonicalSpans(), tree)).toBeUndefined();
  });
});
