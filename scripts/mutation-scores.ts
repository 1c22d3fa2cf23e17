/**
 * The mutation score per module from Stryker's JSON report
 * (`reports/mutation/mutation.json`, written by `npm run test:mutation`).
 *
 * `node scripts/mutation-scores.ts [report.json] [--survivors]` prints the
 * table of the last run; with `--survivors`, also each mutant that survived
 * or that no test reached, at its place in the source. scripts/mutation.ts
 * prints the table after each run; test/mutation/smoke.test.ts reads the
 * score with {@link moduleScores}.
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The statuses of mutation-testing-report-schema that a mutant ends in. */
type Status = 'Killed' | 'Survived' | 'NoCoverage' | 'Timeout' | 'CompileError' | 'RuntimeError' | 'Ignored' | 'Pending';

interface Mutant {
  readonly mutatorName: string;
  readonly replacement?: string;
  readonly status: Status;
  readonly location: { readonly start: { readonly line: number; readonly column: number } };
}

/** The part of Stryker's JSON report read here. */
export interface MutationReport {
  readonly files: Record<string, { readonly mutants: readonly Mutant[] }>;
}

/** The counts of one module (a file, or the files of an area). */
export interface ModuleScore {
  readonly module: string;
  readonly killed: number;
  readonly survived: number;
  readonly timeout: number;
  readonly noCoverage: number;
  /** Mutants that did not run: CompileError, RuntimeError, Ignored. Not in the score. */
  readonly errors: number;
  /**
   * Stryker's mutation score in percent: detected (killed or timed out)
   * over valid (detected, survived, or not covered by any test). NaN when
   * the module has no valid mutant.
   */
  readonly score: number;
}

/** The report written by the last run of `npm run test:mutation`. */
export const DEFAULT_REPORT = join(import.meta.dirname, '..', 'reports', 'mutation', 'mutation.json');

/** Reads a Stryker JSON report (mutation-testing-report-schema). */
export function readReport(path = DEFAULT_REPORT): MutationReport {
  return JSON.parse(readFileSync(path, 'utf8')) as MutationReport;
}

function score(module: string, mutants: readonly Mutant[]): ModuleScore {
  const count = (...statuses: Status[]) => mutants.filter((m) => statuses.includes(m.status)).length;
  const killed = count('Killed');
  const survived = count('Survived');
  const timeout = count('Timeout');
  const noCoverage = count('NoCoverage');
  const valid = killed + survived + timeout + noCoverage;
  return {
    module,
    killed,
    survived,
    timeout,
    noCoverage,
    errors: count('CompileError', 'RuntimeError', 'Ignored'),
    score: valid === 0 ? Number.NaN : (100 * (killed + timeout)) / valid,
  };
}

/** The scores of each file of the report, then of each area (`src/auth/`), sorted by name. */
export function moduleScores(report: MutationReport): ModuleScore[] {
  const files = Object.keys(report.files).sort();
  const areas = [...new Set(files.map((f) => f.slice(0, f.lastIndexOf('/') + 1)))];
  const mutantsOf = (names: string[]) => names.flatMap((f) => report.files[f]?.mutants ?? []);
  return [
    ...files.map((f) => score(f, mutantsOf([f]))),
    ...areas.map((a) => score(a, mutantsOf(files.filter((f) => f.startsWith(a))))),
  ];
}

/** The scores as a table, one module a line. */
export function formatScores(scores: readonly ModuleScore[]): string {
  const width = Math.max(6, ...scores.map((s) => s.module.length));
  const head = ['killed', 'survived', 'timeout', 'no-cov', 'errors', 'score'];
  const row = (name: string, cells: readonly string[]) =>
    [name.padEnd(width), ...cells.map((c, i) => c.padStart((head[i] as string).length))].join('  ');
  return [
    row('module', head),
    ...scores.map((s) =>
      row(s.module, [
        ...[s.killed, s.survived, s.timeout, s.noCoverage, s.errors].map(String),
        Number.isNaN(s.score) ? '-' : `${s.score.toFixed(1)}%`,
      ]),
    ),
  ].join('\n');
}

/** Each mutant that survived or that no test reached, as `file:line:column mutator: replacement`. */
export function formatSurvivors(report: MutationReport): string {
  return Object.keys(report.files)
    .sort()
    .flatMap((file) =>
      (report.files[file]?.mutants ?? [])
        .filter((m) => m.status === 'Survived' || m.status === 'NoCoverage')
        .sort((a, b) => a.location.start.line - b.location.start.line || a.location.start.column - b.location.start.column)
        .map(
          (m) =>
            `${file}:${m.location.start.line}:${m.location.start.column} ${m.status} ${m.mutatorName}: ${JSON.stringify(m.replacement ?? '')}`,
        ),
    )
    .join('\n');
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const report = readReport(args.find((a) => !a.startsWith('--')));
  console.log(formatScores(moduleScores(report)));
  if (args.includes('--survivors')) console.log(`\n${formatSurvivors(report)}`);
}
