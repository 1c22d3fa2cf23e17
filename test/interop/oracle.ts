/**
 * Drives the Synapse oracle (test/interop/oracle/oracle.py) and our runner
 * with the same request lines, and compares their answers.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { encodeCanonicalJson, parseJson } from '../../src/canonicaljson/index.js';
import { operations } from '../../src/cli/ops.js';
import { answerLine } from '../../src/cli/runner.js';

const dir = fileURLToPath(new URL('./oracle/', import.meta.url));
const python = `${dir}.venv/bin/python`;

/** Sends request lines to the oracle and returns its answer lines. */
export async function askSynapse(lines: string[]): Promise<string[]> {
  if (!existsSync(python)) throw new Error(`The oracle is not set up: run bash ${dir}setup.sh`);
  const child = spawn(python, [`${dir}oracle.py`], { stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (d: Buffer) => out.push(d));
  child.stderr.on('data', (d: Buffer) => err.push(d));
  child.stdin.end(`${lines.join('\n')}\n`);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`The oracle exited with ${code}: ${Buffer.concat(err).toString()}`);
  const answers = Buffer.concat(out).toString('utf8').split('\n');
  if (answers.at(-1) === '') answers.pop();
  if (answers.length !== lines.length) {
    throw new Error(`The oracle answered ${answers.length} of ${lines.length} lines`);
  }
  return answers;
}

/**
 * The part of an answer both implementations must agree on: `ok`, the error
 * code, and every result field but `reason` and `message` (prose), written
 * as Canonical JSON (legacy numbers, so big integers and floats compare
 * exactly).
 */
export function comparable(answer: string): string {
  const v = parseJson(answer, { numbers: 'legacy', allowUnpairedSurrogates: true }) as Record<string, unknown>;
  delete v.reason;
  const error = v.error as Record<string, unknown> | undefined;
  if (error !== undefined) delete error.message;
  return encodeCanonicalJson(v, { numbers: 'legacy', allowUnpairedSurrogates: true });
}

const LOSSLESS = { numbers: 'legacy', allowUnpairedSurrogates: true, allowInfiniteFloats: true } as const;

/**
 * The request re-written as Canonical JSON (the same value tree), or
 * undefined if it cannot be (not JSON, or an infinite float).
 */
function canonicalLine(request: string): string | undefined {
  try {
    return encodeCanonicalJson(parseJson(request, LOSSLESS), LOSSLESS);
  } catch {
    return undefined;
  }
}

/**
 * Our answer to `request` where it differs from Synapse's answer `synapse`
 * (as {@link comparable} compares them), or undefined if it does not. We
 * answer each request two ways, and each must agree: taking the parts
 * written as Canonical JSON as written (as a server checks a received
 * event), and encoding every value again. With `rewritten`, also the first
 * way on the request re-written as Canonical JSON, so that every part of
 * its events is taken as written: only for ops whose answer cannot depend
 * on the order of keys (Synapse checks a key response's signatures in the
 * order they come, so reordering them may change its answer).
 */
export function ourDifferingAnswer(request: string, synapse: string, rewritten = false): string | undefined {
  const want = comparable(synapse);
  const canonical = rewritten ? canonicalLine(request) : undefined;
  const answers = [
    () => answerLine(request),
    () => answerLine(request, operations, { canonicalSpans: false }),
    () => (canonical === undefined ? undefined : answerLine(canonical)),
  ];
  for (const answer of answers) {
    const ours = answer();
    if (ours !== undefined && comparable(ours) !== want) return ours;
  }
  return undefined;
}

/** A disagreement between the oracle and us. */
export interface Difference {
  request: string;
  synapse: string;
  ours: string;
}

/** Runs the lines through both and returns where they disagree. */
export async function differences(lines: string[]): Promise<Difference[]> {
  return compareWithOurs(lines, await askSynapse(lines));
}

/** Where our answers to `lines` disagree with the oracle's answers `theirs`. */
export function compareWithOurs(lines: string[], theirs: string[]): Difference[] {
  const diffs: Difference[] = [];
  lines.forEach((request, i) => {
    const synapse = theirs[i] as string;
    const ours = ourDifferingAnswer(request, synapse);
    if (ours !== undefined) diffs.push({ request, synapse, ours });
  });
  return diffs;
}
