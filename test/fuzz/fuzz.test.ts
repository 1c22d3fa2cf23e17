/**
 * The fuzzing campaign (issue 14), at CI size: every target on generated
 * hostile input with no broken promise and no heap growth between the
 * first and the last chunk beyond a fixed allowance. `FUZZ_RUNS` (inputs
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
 * Heap a target may keep beyond what it held after its first chunk. The
 * library's caches are bounded (the parser's key cache, verify keys): once
 * they are warm, more inputs must not need more memory.
 */
const HEAP_ALLOWANCE = 24 * 1048576;

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
        const first = report.heap[0] as number;
        const last = report.heap[report.heap.length - 1] as number;
        expect(last - first).toBeLessThan(HEAP_ALLOWANCE);
      },
      Math.max(60_000, RUNS * 20),
    );
  }
});
