/**
 * Runs the fuzzing campaign: every target on generated hostile input, in
 * chunks of fixed seeds, with the heap measured after a collection between
 * chunks (so that a cache or store growing with the input shows as growth),
 * the outcomes tallied and the slowest inputs noted with their size.
 */

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import type { Target } from './target.js';
import { TARGETS } from './targets.js';

setFlagsFromString('--expose_gc');
/** A full collection, so that heap figures count only what is still referenced. */
const collect = runInNewContext('gc') as () => void;

/** What the campaign found for one target. */
export interface TargetReport {
  readonly name: string;
  /** Inputs run. */
  runs: number;
  /** How often each outcome was seen. */
  readonly outcomes: Map<string, number>;
  /** The slowest inputs: milliseconds and size. */
  readonly slowest: { ms: number; size: number }[];
  /** Heap in use after each chunk, after a full collection, in bytes. */
  readonly heap: number[];
  /** The first broken promise, with what replays it. */
  failure?: { readonly seed: number; readonly path: string; readonly error: string; readonly input: string };
}

/** Options of {@link runCampaign}. */
export interface CampaignOptions {
  /** Inputs per target. */
  readonly runs: number;
  /** The first seed; each chunk of each target has its own, derived from it. */
  readonly seed: number;
  /** The targets to run, by name; default all. */
  readonly targets?: readonly string[];
  /** Chunks per target (heap samples); default 8. */
  readonly chunks?: number;
}

const lenient = new TextDecoder('utf-8', { fatal: false });

/** An input as text a person can read: byte arrays as (lenient) UTF-8. */
function describe(input: unknown): string {
  const text = JSON.stringify(input, (_, v: unknown) =>
    v instanceof Uint8Array ? `bytes(${v.length}): ${lenient.decode(v)}` : typeof v === 'bigint' ? `${v}n` : v,
  );
  return text.length > 2000 ? `${text.slice(0, 2000)}… (${text.length} characters)` : text;
}

async function runTarget<T>(target: Target<T>, index: number, options: CampaignOptions): Promise<TargetReport> {
  const chunks = options.chunks ?? 8;
  const report: TargetReport = { name: target.name, runs: 0, outcomes: new Map(), slowest: [], heap: [] };
  const perChunk = Math.ceil(options.runs / chunks);
  for (let c = 0; c < chunks && report.failure === undefined; c++) {
    const seed = options.seed * 1_000_003 + index * 10_007 + c;
    const details = await fc.check(
      fc.asyncProperty(target.input, async (input) => {
        const started = performance.now();
        const outcome = await target.run(input);
        const ms = performance.now() - started;
        report.runs++;
        report.outcomes.set(outcome, (report.outcomes.get(outcome) ?? 0) + 1);
        if (report.slowest.length < 5 || ms > (report.slowest[4] as { ms: number }).ms) {
          report.slowest.push({ ms, size: target.size(input) });
          report.slowest.sort((a, b) => b.ms - a.ms);
          report.slowest.length = Math.min(report.slowest.length, 5);
        }
      }),
      { numRuns: perChunk, seed, endOnFailure: true },
    );
    if (details.failed) {
      report.failure = {
        seed,
        path: details.counterexamplePath ?? '',
        error: details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance),
        input: describe(details.counterexample?.[0]),
      };
    }
    collect();
    report.heap.push(process.memoryUsage().heapUsed);
  }
  return report;
}

/**
 * Runs the campaign.
 *
 * @param options - sizes, seed and targets.
 * @returns a report per target.
 */
export async function runCampaign(options: CampaignOptions): Promise<TargetReport[]> {
  const reports: TargetReport[] = [];
  for (const [i, target] of TARGETS.entries()) {
    if (options.targets === undefined || options.targets.includes(target.name)) {
      reports.push(await runTarget(target, i, options));
    }
  }
  return reports;
}

/** The report as text, a few lines per target. */
export function formatReport(reports: readonly TargetReport[]): string {
  const mib = (n: number) => (n / 1048576).toFixed(1);
  return reports
    .map((r) => {
      const outcomes = [...r.outcomes]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 8)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ');
      const slowest = r.slowest.map((s) => `${s.ms.toFixed(1)} ms (${s.size} B)`).join(', ');
      const lines = [
        `${r.name}: ${r.runs} inputs; heap ${r.heap.map(mib).join(' → ')} MiB`,
        `  outcomes: ${outcomes}${r.outcomes.size > 8 ? `, … (${r.outcomes.size} kinds)` : ''}`,
        `  slowest: ${slowest}`,
      ];
      if (r.failure !== undefined) {
        lines.push(
          `  BROKEN (seed ${r.failure.seed}, path ${r.failure.path}): ${r.failure.error}`,
          `  input: ${r.failure.input}`,
        );
      }
      return lines.join('\n');
    })
    .join('\n');
}
