/**
 * The fuzzing campaign (issue 14), at CI size: every target on generated
 * hostile input with no broken promise, and a heap that stops growing. `FUZZ_RUNS` (inputs
 * per target) and `FUZZ_SEED` widen or re-seed it; `npm run fuzz` runs a
 * million inputs.
 */

import { describe, expect, it } from 'vitest';
import { knob } from '../interop/knobs.js';
import { formatReport, runCampaign } from './campaign.js';
import { TARGETS } from './targets.js';

const RUNS = knob('FUZZ_RUNS', 1500);
const SEED = knob('FUZZ_SEED', 1);
const ONLY = process.env.FUZZ_TARGETS?.split(',').filter((t) => t !== '');

/**
 * Growth the heap may show at the end of a run whatever happened before:
 * collection is not exact, and a few bounded caches fill slowly.
 */
const HEAP_NOISE = 2 * 1048576;

/**
 * Whether the heap stops growing: what the last quarter of the run added
 * must be small, or at most half of what the second quarter added. The
 * library's caches, stores and back-off tables are bounded, so they fill
 * early and then stay; a leak adds as much at the end as at the start.
 */
function settles(heap: readonly number[]): { early: number; late: number; settled: boolean } {
  const q = Math.floor(heap.length / 4);
  const early = (heap[2 * q - 1] as number) - (heap[q - 1] as number);
  const late = (heap[heap.length - 1] as number) - (heap[heap.length - 1 - q] as number);
  return { early, late, settled: late < Math.max(HEAP_NOISE, early / 2) };
}

describe('fuzzing campaign', () => {
  for (const target of TARGETS) {
    if (ONLY !== undefined && !ONLY.includes(target.name)) continue;
    it(
      `${target.name}: ${RUNS} hostile inputs, no broken promise, no growth`,
      async () => {
        const [report] = await runCampaign({ runs: RUNS, seed: SEED, targets: [target.name] });
        if (report === undefined) throw new Error(`no report for ${target.name}`);
        console.log(formatReport([report]));
        expect(report.failure).toBeUndefined();
        expect(report.runs).toBeGreaterThanOrEqual(RUNS);
        expect(settles(report.heap)).toMatchObject({ settled: true });
      },
      Math.max(60_000, RUNS * 20),
    );
  }
});
