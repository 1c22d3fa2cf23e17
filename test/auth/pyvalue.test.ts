/**
 * The Python-semantics readers the auth rules use, against CPython itself
 * (the oracle's interpreter, the one Synapse runs on there): the expected
 * value of every generated case is what Python computes for the same JSON.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PythonError, pyContains, pyGetItem, pyInt, pyList, pyMembership, pyTruthy } from '../../src/auth/pyvalue.js';
import { JsonFloat, parseJson } from '../../src/canonicaljson/index.js';
import type { JsonValue } from '../../src/canonicaljson/value.js';

const python = fileURLToPath(new URL('../interop/oracle/.venv/bin/python', import.meta.url));

// Each line: [op, args...] as JSON; each answer: ["ok", value] or ["raise", type].
const SCRIPT = `
import json, sys
def run(op, args):
    if op == "int": return int(args[0])
    if op == "list": return list(args[0])
    if op == "in": return args[1] in args[0]
    if op == "in_many": return [k in args[0] for k in args[1]]
    if op == "getitem": return args[0][args[1]]
    if op == "truthy": return bool(args[0])
for line in sys.stdin:
    op, *args = json.loads(line)
    try:
        r = run(op, args)
        out = ["ok", str(r) if op == "int" else r]
    except Exception as e:
        out = ["raise", type(e).__name__]
    print(json.dumps(out))
`;

function askPython(requests: unknown[][]): unknown[][] {
  if (!existsSync(python)) throw new Error('The oracle is not set up: run bash test/interop/oracle/setup.sh');
  const input = `${requests.map((r) => JSON.stringify(r)).join('\n')}\n`;
  const out = spawnSync(python, ['-c', SCRIPT], { input, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (out.status !== 0) throw new Error(out.stderr);
  return out.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as unknown[]);
}

/** Ours, in the same shape as the Python answers. */
function ours(op: string, args: JsonValue[]): unknown[] {
  try {
    switch (op) {
      case 'int':
        return ['ok', String(pyInt(args[0]))];
      case 'list':
        return ['ok', pyList(args[0])];
      case 'in':
        return ['ok', pyContains(args[0], args[1])];
      case 'in_many': {
        const has = pyMembership(args[0]);
        return ['ok', (args[1] as JsonValue[]).map((k) => has(k))];
      }
      case 'getitem':
        return ['ok', pyGetItem(args[0], args[1])];
      default:
        return ['ok', pyTruthy(args[0])];
    }
  } catch (e) {
    if (e instanceof PythonError) return ['raise', 'PythonError'];
    throw e;
  }
}

/** Strings near what int() accepts: digits of several scripts, spaces of both kinds, signs, underscores. */
const intish = fc
  .array(
    fc.constantFrom(
      ...'0123456789+-_ .eE',
      '\t',
      '\n',
      '\x0b',
      '\x1c',
      '\u00a0',
      '\u3000',
      '\u2007',
      '\u0085',
      '\u0661',
      '\u0669',
      '\u06f5',
      '\u0966',
      '\uff11',
      '\u{1d7d9}',
      '\u{1d7ce}',
      '\u{104a5}',
      '\u00b2',
      '\u2155',
      'x',
      '\u{1f600}',
    ),
    { maxLength: 12 },
  )
  .map((cs) => cs.join(''));

const scalar = fc.oneof(
  intish,
  fc.integer({ min: -1000, max: 1000 }),
  fc.constantFrom(true, false, null, 1.5, -2.75, 1e20, 0.0, 'a', 'ab', '', 'users'),
);
const container = fc.oneof(
  fc.array(scalar, { maxLength: 4 }),
  fc.dictionary(fc.constantFrom('a', 'b', 'users', '1', 'x'), scalar, { maxKeys: 3 }),
  fc.constantFrom('abc', 'a', '', 'users', '\u{1f600}x'),
  scalar,
);

describe('Python semantics against CPython', () => {
  it('int(), list(), in, [] and truth agree on generated values', () => {
    const requests: unknown[][] = [];
    for (const s of fc.sample(intish, { numRuns: 2500, seed: 41 })) requests.push(['int', s]);
    for (const v of fc.sample(scalar, { numRuns: 500, seed: 42 })) requests.push(['int', v], ['truthy', v]);
    for (const [c, k] of fc.sample(fc.tuple(container, scalar), { numRuns: 1500, seed: 43 })) {
      requests.push(['list', c], ['in', c, k], ['getitem', c, k], ['truthy', c]);
    }
    // pyMembership: many keys against one container, as the power levels rule asks.
    for (const [c, ks] of fc.sample(fc.tuple(container, fc.array(scalar, { maxLength: 6 })), {
      numRuns: 500,
      seed: 44,
    })) {
      requests.push(['in_many', c, ks]);
    }
    // Python parses 1.5 as a float and 1e20 too: read the lines as Synapse does.
    const answers = askPython(requests);
    const diffs: string[] = [];
    requests.forEach((r, i) => {
      const args = (parseJson(JSON.stringify(r.slice(1)), { numbers: 'legacy' }) as JsonValue[]) ?? [];
      const mine = ours(r[0] as string, args);
      const theirs = answers[i] as unknown[];
      const same =
        mine[0] === theirs[0] &&
        (mine[0] === 'raise' || JSON.stringify(normalise(mine[1])) === JSON.stringify(theirs[1]));
      if (!same)
        diffs.push(
          `${JSON.stringify(r)}: python ${JSON.stringify(theirs)}, ours ${JSON.stringify(normalise(mine[1]))}`,
        );
    });
    // Both outcomes occur, or the corpus proves little.
    expect(answers.filter((a) => a[0] === 'raise').length).toBeGreaterThan(500);
    expect(answers.filter((a) => a[0] === 'ok').length).toBeGreaterThan(2000);
    expect(diffs.slice(0, 5), `${diffs.length} of ${requests.length} differ`).toEqual([]);
  });

  it('refuses more than 4,300 digits, as CPython does', () => {
    expect(String(pyInt('7'.repeat(4300)))).toBe('7'.repeat(4300));
    expect(() => pyInt('7'.repeat(4301))).toThrow(PythonError);
    expect(() => pyInt(`${'0'.repeat(4300)}1`)).toThrow(PythonError);
  });

  it('reads the DESIGN.md pitfalls as Synapse does', () => {
    expect(pyInt(' +0100 ')).toBe(100);
    expect(() => pyInt('50.9')).toThrow(PythonError);
    expect(pyInt(parseJson('50.9', { numbers: 'legacy' }))).toBe(50);
    expect(pyInt(parseJson('-50.9', { numbers: 'legacy' }))).toBe(-50);
    expect(pyInt(true)).toBe(1);
    expect(pyInt(2n ** 64n)).toBe(2n ** 64n);
  });
});

/** JSON form of our values for comparison: floats as numbers, bigints as strings. */
function normalise(v: unknown): unknown {
  return JSON.parse(
    JSON.stringify(v, (_k, x) =>
      typeof x === 'bigint' ? Number(x) : x?.constructor?.name === 'JsonFloat' ? x.value : x,
    ),
  );
}

describe('pyMembership, the indexed form of pyContains', () => {
  // Every kind of hashable value, with the pairs Python's == finds equal
  // across types (1, 1.0, True; 0, -0, 0.0, False; 2^53 as a number, a
  // bigint and a float) and near misses (2^53 + 1, 0.1). A JsonFloat is
  // finite (no JSON text gives NaN or an infinity).
  const hashable = fc.oneof(
    fc.constantFrom<JsonValue>(null, true, false, 0, -0, 1, -1, 2 ** 53, '', '1', 'true', 'null', 'n1', 'f0.5'),
    fc.constantFrom<JsonValue>(2n ** 53n, 2n ** 53n + 1n, -(2n ** 64n)),
    fc.constantFrom(0, -0, 1, 0.5, 0.1, -2.5, 2 ** 53, 1e300).map((n) => new JsonFloat(n)),
    fc.integer({ min: -3, max: 3 }),
    fc.string({ maxLength: 2 }),
  );
  const item: fc.Arbitrary<JsonValue> = fc.oneof(
    { weight: 4, arbitrary: hashable },
    { weight: 1, arbitrary: fc.array(hashable, { maxLength: 2 }) },
    { weight: 1, arbitrary: fc.dictionary(fc.constantFrom('a', '1'), hashable, { maxKeys: 2 }) },
  );

  it('gives the answers of the plain scan for every key, lists holding anything', () => {
    fc.assert(
      fc.property(fc.array(item, { maxLength: 8 }), fc.array(fc.option(item, { nil: undefined })), (list, keys) => {
        const has = pyMembership(list);
        for (const key of keys) expect(has(key)).toBe(pyContains(list, key));
      }),
      { numRuns: 2000, seed: 45 },
    );
  });

  it('throws where pyContains throws, on the lookup', () => {
    const has = pyMembership(5);
    expect(() => has('a')).toThrow(PythonError);
    expect(() => pyMembership({ a: 1 })([1])).toThrow(PythonError);
    expect(() => pyMembership('abc')(1)).toThrow(PythonError);
  });
});
