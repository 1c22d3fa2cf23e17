/**
 * `npm run test:mutation [-- stryker options]`: mutation testing of the
 * consensus-critical modules (stryker.config.mjs), then the score per module.
 *
 * Every argument goes to `stryker run`; the usual ones:
 * - `--mutate src/auth/powerlevels.ts` (or the env var `MUTATE`, the same
 *   comma-separated list): only these files, or a range
 *   (`src/auth/rules.ts:40-60`);
 * - `--concurrency 2` on a machine nobody else uses;
 * - `--force`: rerun every mutant, ignoring the incremental file.
 *
 * Incremental mode: each selection of files has its own incremental file
 * under `reports/mutation/incremental/`, named after the selection, because
 * Stryker rewrites the file with the results of the files it mutated only:
 * a run on one module must not throw away the results of a whole run.
 * The HTML report (`reports/mutation/index.html`) and the JSON report are
 * those of the last run.
 */

import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_REPORT, formatScores, moduleScores, readReport } from './mutation-scores.ts';

const root = join(import.meta.dirname, '..');
const args = process.argv.slice(2);
if (process.env.MUTATE) args.push('--mutate', process.env.MUTATE);

/** The value of each `--mutate`/`-m` option, in order. */
const selection = args.flatMap((a, i) => {
  if (a.startsWith('--mutate=')) return [a.slice('--mutate='.length)];
  return a === '--mutate' || a === '-m' ? [args[i + 1] ?? ''] : [];
});
if (!args.some((a) => a === '--incrementalFile' || a.startsWith('--incrementalFile='))) {
  const name = selection.length === 0 ? 'all' : selection.join(',').replace(/[^A-Za-z0-9.]+/g, '-');
  args.push('--incrementalFile', join('reports', 'mutation', 'incremental', `${name}.json`));
}

const started = Date.now();
const bin = join(root, 'node_modules', '@stryker-mutator', 'core', 'bin', 'stryker.js');
const run = spawnSync(process.execPath, [bin, 'run', ...args], { cwd: root, stdio: 'inherit' });
if (run.error) throw run.error;

// Only a report this run wrote: an earlier one would pass for its result.
if (existsSync(DEFAULT_REPORT) && statSync(DEFAULT_REPORT).mtimeMs >= started) {
  console.log(`\nMutation score per module (${((Date.now() - started) / 1000).toFixed(0)} s):`);
  console.log(formatScores(moduleScores(readReport())));
  console.log('Survivors: node scripts/mutation-scores.ts --survivors');
}
process.exit(run.status ?? 1);
