/**
 * Mutators for the fuzzing campaign: arbitraries that turn a valid seed
 * (an event, a key response, a header) into hostile variants, at the byte
 * level and at the level of the JSON tree, so that generated input is
 * mostly almost-valid and reaches the checks behind the parser.
 *
 * Everything is driven by fast-check, so a failure shrinks and replays
 * from its seed.
 */

import fc from 'fast-check';
import { type JsonValue, parseJson } from '../../src/canonicaljson/index.js';
import { JsonFloat } from '../../src/canonicaljson/value.js';

const utf8 = new TextEncoder();

/**
 * Fragments known to hurt parsers and checkers (DESIGN.md, "Known pitfalls"):
 * number edges, escapes, surrogates, control characters, structure tokens,
 * deep nesting, long runs.
 */
const TOKENS: readonly string[] = [
  '{',
  '}',
  '[',
  ']',
  ',',
  ':',
  '"',
  '\\',
  '\\u0000',
  '\\ud800',
  '\\udc00',
  '\\ud83d\\ude00',
  '\\u00e9',
  '\\/',
  '\u2028',
  '\u0000',
  '\u001f',
  '\u007f',
  '\ufeff',
  '😀',
  '-0',
  '-0.0',
  '0.0',
  '0e0',
  '1E5',
  '1e+5',
  '1e400',
  '-1e400',
  '9007199254740991',
  '9007199254740992',
  '-9007199254740992',
  '18446744073709551616',
  '1'.repeat(4301),
  '0.1',
  'true',
  'false',
  'null',
  'NaN',
  'Infinity',
  ' ',
  '\t\n\r',
  '"__proto__"',
  '"constructor"',
  '"m.room.create"',
  '"m.room.power_levels"',
  '"ed25519:a"',
  '"$e:x"',
  '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[',
  '['.repeat(130),
  '{"a":'.repeat(130),
  ']'.repeat(130),
  '"'.concat('a'.repeat(70_000), '"'),
  '[],'.repeat(2000),
];

const TOKEN_BYTES = TOKENS.map((t) => utf8.encode(t));

/** One byte-level edit; positions are taken modulo the input's length. */
type ByteEdit =
  | { readonly kind: 'set'; readonly at: number; readonly byte: number }
  | { readonly kind: 'insert'; readonly at: number; readonly token: number }
  | { readonly kind: 'delete'; readonly at: number; readonly length: number }
  | { readonly kind: 'copy'; readonly at: number; readonly length: number; readonly to: number }
  | { readonly kind: 'truncate'; readonly at: number };

const byteEdit: fc.Arbitrary<ByteEdit> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), token: fc.nat(TOKENS.length - 1) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 64 }) }),
  fc.record({
    kind: fc.constant('copy' as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 256 }),
    to: fc.nat(),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);

function applyEdit(input: Uint8Array, edit: ByteEdit): Uint8Array {
  const n = input.length;
  const at = n === 0 ? 0 : edit.at % (n + 1);
  switch (edit.kind) {
    case 'set': {
      if (n === 0) return Uint8Array.of(edit.byte);
      const out = input.slice();
      out[at % n] = edit.byte;
      return out;
    }
    case 'insert': {
      const token = TOKEN_BYTES[edit.token] as Uint8Array;
      const out = new Uint8Array(n + token.length);
      out.set(input.subarray(0, at));
      out.set(token, at);
      out.set(input.subarray(at), at + token.length);
      return out;
    }
    case 'delete': {
      const end = Math.min(n, at + edit.length);
      const out = new Uint8Array(n - (end - at));
      out.set(input.subarray(0, at));
      out.set(input.subarray(end), at);
      return out;
    }
    case 'copy': {
      const piece = input.subarray(at, Math.min(n, at + edit.length));
      const to = n === 0 ? 0 : edit.to % (n + 1);
      const out = new Uint8Array(n + piece.length);
      out.set(input.subarray(0, to));
      out.set(piece, to);
      out.set(input.subarray(to), to + piece.length);
      return out;
    }
    case 'truncate':
      return input.subarray(0, at);
  }
}

/** A seed with one to four byte-level edits. */
export function mutatedBytes(seeds: readonly Uint8Array[]): fc.Arbitrary<Uint8Array> {
  return fc
    .tuple(fc.nat(seeds.length - 1), fc.array(byteEdit, { minLength: 1, maxLength: 4 }))
    .map(([i, edits]) => edits.reduce(applyEdit, seeds[i] as Uint8Array));
}

/** JSON values meant to break whatever expects a particular one. */
const hostileValue: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '-0',
    '1.5',
    '1e5',
    '9007199254740992',
    '-9007199254740992',
    '18446744073709551616',
    '"50"',
    '" +0100 "',
    '"50.9"',
    'true',
    'null',
    '[]',
    '{}',
    '[1,2,3]',
    '{"a":1}',
    '""',
    '"\\u0000"',
    '"😀"',
    '"\\ud800"',
    '"@user:example.org"',
    '"!room:example.org"',
    '"$event"',
    '"ed25519:a"',
    '{"ed25519:a":"AAAA"}',
    '{"sha256":"AAAA"}',
    '["$a",{"sha256":"x"}]',
    `"${'x'.repeat(300)}"`,
    `${'['.repeat(127)}${']'.repeat(127)}`,
    `${'['.repeat(128)}${']'.repeat(128)}`,
    `[${'1,'.repeat(5000)}1]`,
    `{${Array.from({ length: 300 }, (_, i) => `"@u${i}:x":${i}`).join(',')}}`,
  ),
  fc.json({ maxDepth: 3 }),
);

/** Where a tree mutation applies: the n-th node in document order. */
type TreeEdit =
  | { readonly kind: 'replace'; readonly node: number; readonly value: string }
  | { readonly kind: 'delete'; readonly node: number }
  | { readonly kind: 'add'; readonly node: number; readonly key: string; readonly value: string };

const KEYS = [
  'type',
  'state_key',
  'content',
  'sender',
  'room_id',
  'hashes',
  'signatures',
  'auth_events',
  'prev_events',
  'depth',
  'origin_server_ts',
  'unsigned',
  'membership',
  'users',
  'users_default',
  'events',
  'notifications',
  'redacts',
  'verify_keys',
  'old_verify_keys',
  'valid_until_ts',
  'server_name',
  'expired_ts',
  'key',
  '',
  '__proto__',
  '😀',
];

const treeEdit: fc.Arbitrary<TreeEdit> = fc.oneof(
  fc.record({ kind: fc.constant('replace' as const), node: fc.nat(), value: hostileValue }),
  fc.record({ kind: fc.constant('delete' as const), node: fc.nat() }),
  fc.record({
    kind: fc.constant('add' as const),
    node: fc.nat(),
    key: fc.oneof(fc.constantFrom(...KEYS), fc.string({ maxLength: 8 })),
    value: hostileValue,
  }),
);

/** Placeholder for a raw JSON text inside a tree being rewritten. */
class Raw {
  constructor(readonly text: string) {}
}

type Tree = JsonValue | Raw | Tree[] | { [key: string]: Tree };

/** Writes a tree as JSON text; numbers as written, raw pieces as given. */
function write(tree: Tree): string {
  if (tree instanceof Raw) return tree.text;
  if (tree instanceof JsonFloat) return String(tree.value);
  if (typeof tree === 'bigint') return tree.toString();
  if (Array.isArray(tree)) return `[${tree.map(write).join(',')}]`;
  if (tree !== null && typeof tree === 'object') {
    return `{${Object.keys(tree)
      .map((k) => `${JSON.stringify(k)}:${write((tree as Record<string, Tree>)[k] as Tree)}`)
      .join(',')}}`;
  }
  return JSON.stringify(tree);
}

/** The containers of a tree with their parents, in document order. */
function nodes(tree: Tree): { parent: Tree[] | Record<string, Tree>; key: string | number }[] {
  const out: { parent: Tree[] | Record<string, Tree>; key: string | number }[] = [];
  const stack: Tree[] = [tree];
  while (stack.length > 0) {
    const t = stack.pop() as Tree;
    if (t instanceof Raw || t instanceof JsonFloat || t === null || typeof t !== 'object') continue;
    if (Array.isArray(t)) {
      t.forEach((child, i) => {
        out.push({ parent: t, key: i });
        stack.push(child);
      });
    } else {
      for (const k of Object.keys(t)) {
        out.push({ parent: t, key: k });
        stack.push(t[k] as Tree);
      }
    }
  }
  return out;
}

function applyTreeEdit(text: string, edits: readonly TreeEdit[]): string {
  const tree = parseJson(text, { numbers: 'legacy', maxLength: Number.MAX_SAFE_INTEGER }) as Tree;
  for (const edit of edits) {
    const all = nodes(tree);
    if (all.length === 0) break;
    const { parent, key } = all[edit.node % all.length] as (typeof all)[number];
    if (edit.kind === 'replace') {
      (parent as Record<string | number, Tree>)[key] = new Raw(edit.value);
    } else if (edit.kind === 'delete') {
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key as string];
    } else {
      const target = (parent as Record<string | number, Tree>)[key] as Tree;
      if (Array.isArray(target)) (target as Tree[]).push(new Raw(edit.value));
      else if (target !== null && typeof target === 'object' && !(target instanceof Raw || target instanceof JsonFloat))
        (target as Record<string, Tree>)[edit.key] = new Raw(edit.value);
    }
  }
  return write(tree);
}

/** A seed (valid JSON text) with one to three edits of its tree. */
export function mutatedTree(seeds: readonly string[]): fc.Arbitrary<Uint8Array> {
  return fc
    .tuple(fc.nat(seeds.length - 1), fc.array(treeEdit, { minLength: 1, maxLength: 3 }))
    .map(([i, edits]) => utf8.encode(applyTreeEdit(seeds[i] as string, edits)));
}

/**
 * Hostile documents around seeds: byte edits, tree edits, the seeds as
 * they are, random JSON and random bytes.
 */
export function hostileDocuments(seeds: readonly string[]): fc.Arbitrary<Uint8Array> {
  const seedBytes = seeds.map((s) => utf8.encode(s));
  return fc.oneof(
    { weight: 4, arbitrary: mutatedTree(seeds) },
    { weight: 4, arbitrary: mutatedBytes(seedBytes) },
    { weight: 1, arbitrary: fc.constantFrom(...seedBytes) },
    { weight: 1, arbitrary: fc.json({ maxDepth: 4 }).map((t) => utf8.encode(t)) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 256 }) },
  );
}
