/**
 * Runs the benchmark suites in order: `npm run bench` (builds first), or
 * `node bench/run.ts [canonicaljson|signing|events|auth|discovery|federation]` against an existing build.
 * `BENCH_QUICK=1` for short rounds; `BENCH_ROUNDS` and `BENCH_ROUND_MS` for
 * more or longer ones.
 */

import { cpus, loadavg } from 'node:os';
import { runAuthBench } from './auth.bench.ts';
import { runCanonicalJsonBench } from './canonicaljson.bench.ts';
import { runDiscoveryBench } from './discovery.bench.ts';
import { runEventsBench } from './events.bench.ts';
import { runFederationBench } from './federation.bench.ts';
import { printSummary, settings, type TargetResult } from './harness.ts';
import { runSigningBench } from './signing.bench.ts';

const suites: Record<string, () => TargetResult[] | Promise<TargetResult[]>> = {
  canonicaljson: runCanonicalJsonBench,
  signing: runSigningBench,
  events: runEventsBench,
  auth: runAuthBench,
  discovery: runDiscoveryBench,
  federation: runFederationBench,
};

const wanted = process.argv.slice(2);
for (const name of wanted) {
  if (!(name in suites)) {
    console.error(`Unknown suite ${name}; known: ${Object.keys(suites).join(', ')}`);
    process.exit(2);
  }
}

const s = settings();
console.log('matrix-serverlib benchmarks');
const cpu = cpus();
console.log(
  `Node ${process.version} · ${cpu[0]?.model ?? 'unknown CPU'} × ${cpu.length} · ${process.platform}/${process.arch}` +
    ` · load average ${loadavg()[0]?.toFixed(2)} at start`,
);
console.log(
  `${s.rounds} rounds of ~${s.roundMs} ms per candidate after ~${s.warmupMs} ms of warm-up, interleaved;` +
    " median of rounds; a ratio is the median of the rounds' ratios" +
    (s.quick ? ' (BENCH_QUICK: figures are rough)' : ''),
);
console.log('Every figure is measured in this run on this machine: compare the ratios, not the absolute numbers.');

const results: TargetResult[] = [];
for (const [name, run] of Object.entries(suites)) {
  if (wanted.length === 0 || wanted.includes(name)) results.push(...(await run()));
}
printSummary(results);
