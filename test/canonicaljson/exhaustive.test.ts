/**
 * Every short input over the characters that steer the parser, checked
 * against JSON.parse. It runs in a child process with a time limit, because
 * a parser that loops forever (as one once did on `"\"`) cannot be stopped
 * from inside the test runner.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const dist = fileURLToPath(new URL('../../dist/canonicaljson/index.js', import.meta.url));

const script = `
import { parseJson } from ${JSON.stringify(dist)};
const alphabet = ['"', '\\\\', '[', ']', '{', '}', ':', ',', '1', 'u', 'e', '-', ' '];
const disagreements = [];
let count = 0;
function visit(prefix, depth) {
  count++;
  let ours = true, theirs = true;
  try { parseJson(prefix, { numbers: 'legacy' }); } catch (e) { if (e?.name !== 'InvalidInputError') throw e; ours = false; }
  try { JSON.parse(prefix); } catch { theirs = false; }
  if (ours !== theirs && disagreements.length < 10) disagreements.push(prefix);
  if (depth < 5) for (const c of alphabet) visit(prefix + c, depth + 1);
}
visit('', 0);
console.log(JSON.stringify({ count, disagreements }));
`;

describe('parseJson on every short input', () => {
  it('answers each one (no hang) and accepts exactly what JSON.parse accepts', () => {
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      timeout: 60_000,
      encoding: 'utf8',
    });
    expect(run.error?.message, 'the parser hung or crashed').toBeUndefined();
    expect(run.status, run.stderr).toBe(0);
    const { count, disagreements } = JSON.parse(run.stdout) as { count: number; disagreements: string[] };
    expect(count).toBe(1 + 13 + 13 ** 2 + 13 ** 3 + 13 ** 4 + 13 ** 5);
    expect(disagreements).toEqual([]);
  });
});
