/**
 * Canonical JSON benchmarks: encoding and strict parsing of the corpus, each
 * op processing a whole group of events.
 *
 * Two key orders: "as received" (the texts re-encoded in Canonical JSON
 * order, as Synapse sends them, so sorting finds the keys already in order)
 * and "shuffled" (every object's keys in random order, the worst case for
 * sorting).
 */

import anotherJson from 'another-json';
import canonicalize from 'canonicalize';
import { parse as losslessParse } from 'lossless-json';
import { encodeCanonicalJson, parseJson } from 'matrix-serverlib/canonicaljson';
import { corpus, prng } from './corpus.ts';
import { atMostTimes, fasterThan, runBenchmark, section, type TargetResult } from './harness.ts';

/** One group in one key order: the objects to encode and the texts to parse. */
interface Input {
  group: string;
  order: string;
  objects: unknown[];
  texts: string[];
  /** UTF-8 bytes of the group as Canonical JSON (the encoder's output). */
  canonicalBytes: number;
  /** UTF-8 bytes of the texts (the parser's input). */
  textBytes: number;
}

/** A deep copy of a JSON value with every object's keys in random order. */
function shuffleKeys(value: unknown, rand: () => number): unknown {
  if (Array.isArray(value)) return value.map((v) => shuffleKeys(v, rand));
  if (typeof value !== 'object' || value === null) return value;
  const keys = Object.keys(value);
  for (let i = keys.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [keys[i], keys[j]] = [keys[j] as string, keys[i] as string];
  }
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = shuffleKeys((value as Record<string, unknown>)[k], rand);
  return out;
}

function utf8Length(texts: string[]): number {
  return texts.reduce((n, t) => n + Buffer.byteLength(t, 'utf8'), 0);
}

function inputs(): Input[] {
  const rand = prng(4458);
  const out: Input[] = [];
  for (const { name, texts } of corpus()) {
    const canonical = texts.map((t) => encodeCanonicalJson(JSON.parse(t)));
    const canonicalBytes = utf8Length(canonical);
    // No key in the corpus looks like an array index, so JSON.parse keeps
    // the keys in the order of the text.
    out.push({
      group: name,
      order: 'as received',
      objects: canonical.map((t) => JSON.parse(t)),
      texts: canonical,
      canonicalBytes,
      textBytes: canonicalBytes,
    });
    const shuffled = canonical.map((t) => shuffleKeys(JSON.parse(t), rand));
    const shuffledTexts = shuffled.map((o) => JSON.stringify(o));
    out.push({
      group: name,
      order: 'shuffled',
      objects: shuffled,
      texts: shuffledTexts,
      canonicalBytes,
      textBytes: utf8Length(shuffledTexts),
    });
  }
  return out;
}

/**
 * Checks that the candidates agree on the input, so that they all do the
 * same work: our encoder gives the expected text, the other Canonical JSON
 * encoders give the same, and our parser gives the same tree as JSON.parse.
 */
function check(input: Input): void {
  for (let i = 0; i < input.objects.length; i++) {
    const expected = encodeCanonicalJson(JSON.parse(input.texts[i] as string));
    const obj = input.objects[i];
    const ours = encodeCanonicalJson(obj);
    if (ours !== expected) throw new Error(`${input.group}: encodeCanonicalJson differs from the expected text`);
    if (anotherJson.stringify(obj) !== ours) throw new Error(`${input.group}: another-json output differs from ours`);
    if (canonicalize(obj) !== ours) throw new Error(`${input.group}: canonicalize output differs from ours`);
    if (encodeCanonicalJson(parseJson(input.texts[i] as string)) !== expected) {
      throw new Error(`${input.group}: parseJson gives a different tree than JSON.parse`);
    }
  }
}

function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(0)} KB`;
}

// Each candidate has its own loop (no shared helper taking a callback) so
// that every call site sees one function and none is penalised by another's
// type feedback.

function encodeBenchmark(input: Input): TargetResult[] {
  const objects = input.objects;
  return runBenchmark({
    title: `encode · ${input.group} · ${input.order}`,
    note: `${objects.length} events, ${kb(input.canonicalBytes)} of Canonical JSON per op; MB/s of output`,
    baseline: 'JSON.stringify',
    bytesPerOp: input.canonicalBytes,
    candidates: [
      {
        name: 'JSON.stringify',
        fn: () => {
          let n = 0;
          for (const o of objects) n += JSON.stringify(o).length;
          return n;
        },
      },
      {
        name: 'ours',
        fn: () => {
          let n = 0;
          for (const o of objects) n += encodeCanonicalJson(o).length;
          return n;
        },
      },
      {
        name: 'another-json',
        fn: () => {
          let n = 0;
          for (const o of objects) n += anotherJson.stringify(o).length;
          return n;
        },
      },
      {
        name: 'canonicalize',
        fn: () => {
          let n = 0;
          for (const o of objects) n += (canonicalize(o) as string).length;
          return n;
        },
      },
    ],
    targets: [
      atMostTimes('ours', 'JSON.stringify', 2),
      fasterThan('ours', 'another-json'),
      fasterThan('ours', 'canonicalize'),
    ],
  });
}

function parseBenchmark(input: Input): TargetResult[] {
  const texts = input.texts;
  return runBenchmark({
    title: `parse · ${input.group} · ${input.order}`,
    note: `${texts.length} events, ${kb(input.textBytes)} of JSON text per op; MB/s of input`,
    baseline: 'JSON.parse',
    bytesPerOp: input.textBytes,
    candidates: [
      {
        name: 'JSON.parse',
        fn: () => {
          let last: unknown;
          for (const t of texts) last = JSON.parse(t);
          return last;
        },
      },
      {
        name: 'ours',
        fn: () => {
          let last: unknown;
          for (const t of texts) last = parseJson(t);
          return last;
        },
      },
      {
        name: 'lossless-json',
        fn: () => {
          let last: unknown;
          for (const t of texts) last = losslessParse(t);
          return last;
        },
      },
    ],
    targets: [atMostTimes('ours', 'JSON.parse', 2.5), fasterThan('ours', 'lossless-json')],
  });
}

/** Runs the Canonical JSON suite; returns how the targets fared. */
export function runCanonicalJsonBench(): TargetResult[] {
  const all = inputs();
  for (const input of all) check(input);
  const results: TargetResult[] = [];
  section('Canonical JSON encoding: ours = encodeCanonicalJson(obj)');
  console.log('another-json: matrix-org JS Canonical JSON; canonicalize: RFC 8785 (JCS).');
  console.log('All three Canonical JSON encoders were checked to give identical output on this corpus.');
  for (const input of all) results.push(...encodeBenchmark(input));
  section('Strict parsing: ours = parseJson(text) (strict number rules)');
  console.log('lossless-json: parse() with its default number handling (LosslessNumber).');
  for (const input of all) results.push(...parseBenchmark(input));
  return results;
}
