/**
 * Drives the Synapse oracle (test/interop/oracle/oracle.py) and our runner
 * with the same request lines, and compares their answers.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StringDecoder } from 'node:string_decoder';
import { fileURLToPath } from 'node:url';
import { answerLine } from '../../conformance/src/runner.js';
import { encodeCanonicalJson, parseJson } from '../../src/canonicaljson/index.js';
import { answerReceived } from './received.js';

const dir = fileURLToPath(new URL('./oracle/', import.meta.url));
const python = `${dir}.venv/bin/python`;

/**
 * Sends request lines to the oracle and returns its answer lines. Lines are
 * streamed both ways, never joined into one string: a widened generated run
 * (test/interop/knobs.ts) of large events exceeds V8's longest string.
 */
export async function askSynapse(lines: string[]): Promise<string[]> {
  if (!existsSync(python)) throw new Error(`The oracle is not set up: run bash ${dir}setup.sh`);
  const child = spawn(python, [`${dir}oracle.py`], { stdio: ['pipe', 'pipe', 'pipe'] });
  const answers: string[] = [];
  const err: Buffer[] = [];
  const decoder = new StringDecoder('utf8');
  let partial = '';
  child.stdout.on('data', (d: Buffer) => {
    const parts = (partial + decoder.write(d)).split('\n');
    partial = parts.pop() ?? '';
    for (const part of parts) answers.push(part);
  });
  child.stderr.on('data', (d: Buffer) => err.push(d));
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  // An oracle that dies early breaks the pipe; its exit code says why.
  const sent = pipeline(
    Readable.from(
      (function* () {
        for (const line of lines) yield `${line}\n`;
      })(),
    ),
    child.stdin,
  ).catch(() => undefined);
  const [code] = await Promise.all([closed, sent]);
  if (code !== 0) throw new Error(`The oracle exited with ${code}: ${Buffer.concat(err).toString()}`);
  partial += decoder.end();
  if (partial !== '') answers.push(partial);
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
 * answer each request as the conformance runner does (the plain
 * definitions), and the event ops also through the received-PDU path
 * (`parsePdu` of the event's bytes as written: the parts written as
 * Canonical JSON taken as written), and each answer must agree. With
 * `rewritten`, also the second way on the request re-written as Canonical
 * JSON, so that every part of its events is taken as written: only for ops
 * whose answer cannot depend on the order of keys (Synapse checks a key
 * response's signatures in the order they come, so reordering them may
 * change its answer).
 */
export function ourDifferingAnswer(request: string, synapse: string, rewritten = false): string | undefined {
  const want = comparable(synapse);
  const canonical = rewritten ? canonicalLine(request) : undefined;
  const answers = [
    () => answerLine(request),
    () => answerReceived(request),
    () => (canonical === undefined ? undefined : answerReceived(canonical)),
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
