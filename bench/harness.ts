/**
 * A small measurement helper for the benchmarks.
 *
 * Candidates of one benchmark run over the same input, interleaved: after a
 * warm-up, each round measures every candidate for about `roundMs`, and the
 * order rotates from round to round so that drift (thermal, frequency, GC,
 * other load) affects all candidates alike. The figure kept for a candidate
 * is its median ops/s over the rounds; the spread of the rounds is printed
 * next to it. Targets are reported, never asserted: nothing here exits with a
 * non-zero status because a target is missed.
 *
 * `BENCH_QUICK=1` makes the rounds short (for a smoke test; the figures are
 * then too noisy to mean much).
 */

import { performance } from 'node:perf_hooks';

/** A function to measure; one call is one op. */
export interface Candidate {
  /** Shown in the table; targets refer to candidates by name. */
  name: string;
  /** One op. Its result is kept in a sink so the call cannot be optimised away. */
  fn: () => unknown;
}

/**
 * A target: `candidate`'s speed relative to `reference` (ops/s ÷ ops/s)
 * must satisfy `test`. Build them with {@link atMostTimes},
 * {@link fasterThan}, {@link atLeastTimesFaster} and {@link atLeastFraction}.
 */
export interface Target {
  /** How the target reads, e.g. `ours ≤ 2.0x JSON.stringify's time`. */
  text: string;
  candidate: string;
  reference: string;
  test: (speedRatio: number) => boolean;
  /** How the measured ratio reads, e.g. `1.62x its time`. */
  describe: (speedRatio: number) => string;
}

/** `candidate` takes at most `factor` times as long per op as `reference`. */
export function atMostTimes(candidate: string, reference: string, factor: number): Target {
  return {
    text: `${candidate} ≤ ${Number(factor.toFixed(2))}x ${reference}'s time`,
    candidate,
    reference,
    test: (speed) => 1 / speed <= factor,
    describe: (speed) => `${fmtRatio(1 / speed)} its time`,
  };
}

/** `candidate` does more ops/s than `reference`. */
export function fasterThan(candidate: string, reference: string): Target {
  return {
    text: `${candidate} faster than ${reference}`,
    candidate,
    reference,
    test: (speed) => speed > 1,
    describe: (speed) => `${fmtRatio(speed)} its speed`,
  };
}

/** `candidate` does at least `factor` times `reference`'s ops/s. */
export function atLeastTimesFaster(candidate: string, reference: string, factor: number): Target {
  return {
    text: `${candidate} ≥ ${Number(factor.toFixed(2))}x ${reference}'s speed`,
    candidate,
    reference,
    test: (speed) => speed >= factor,
    describe: (speed) => `${fmtRatio(speed)} its speed`,
  };
}

/** `candidate` does at least `fraction` of `reference`'s ops/s. */
export function atLeastFraction(candidate: string, reference: string, fraction: number): Target {
  return {
    text: `${candidate} ≥ ${Math.round(fraction * 100)}% of ${reference}'s speed`,
    candidate,
    reference,
    test: (speed) => speed >= fraction,
    describe: (speed) => `${(speed * 100).toFixed(1)}% of its speed`,
  };
}

/** A benchmark: candidates over one input, compared with a baseline. */
export interface Benchmark {
  title: string;
  /** Name of the candidate the ratios are computed against. */
  baseline: string;
  candidates: Candidate[];
  /** Bytes processed per op, when MB/s is meaningful. */
  bytesPerOp?: number;
  targets?: Target[];
  /** A line of context printed under the title. */
  note?: string;
}

/** One candidate's measurement. */
export interface Measurement {
  name: string;
  /** Median ops/s over the rounds. */
  opsPerSec: number;
  /** ops/s of each round, in round order. */
  rounds: number[];
}

/** A target and whether this run met it. */
export interface TargetResult {
  benchmark: string;
  target: Target;
  speedRatio: number;
  met: boolean;
  /** The larger spread of the rounds of the two candidates, relative. */
  spread: number;
}

/** Measurement settings; {@link settings} reads them from the environment. */
export interface Settings {
  rounds: number;
  roundMs: number;
  warmupMs: number;
  quick: boolean;
}

/** A positive integer from the environment variable `name`, or `fallback` if it is unset. */
function positiveFromEnv(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, not ${text}`);
  return n;
}

/**
 * 5 rounds of ~200 ms after ~300 ms of warm-up; `BENCH_QUICK=1`: 3 of ~15
 * ms. `BENCH_ROUNDS` and `BENCH_ROUND_MS` set the number and length of the
 * rounds (more, shorter rounds on a loaded machine: a ratio is the median
 * of the rounds' ratios).
 */
export function settings(): Settings {
  const quick = process.env.BENCH_QUICK === '1';
  if (quick) return { rounds: 3, roundMs: 15, warmupMs: 15, quick };
  return {
    rounds: positiveFromEnv('BENCH_ROUNDS', 5),
    roundMs: positiveFromEnv('BENCH_ROUND_MS', 200),
    warmupMs: 300,
    quick,
  };
}

/** Where results go so the measured calls are not dead code. */
let sink: unknown;
/** Read the sink, so that writing it is not dead either. */
export function sinkValue(): unknown {
  return sink;
}

/** Runs `fn` for about `ms` in batches of `batch`; returns [ops, seconds]. */
function timed(fn: () => unknown, batch: number, ms: number): [number, number] {
  let ops = 0;
  const start = performance.now();
  let now = start;
  do {
    for (let i = 0; i < batch; i++) sink = fn();
    ops += batch;
    now = performance.now();
  } while (now - start < ms);
  return [ops, (now - start) / 1000];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** A candidate measured outside this process (a peer in another language), one round at a time. */
export interface ExternalCandidate {
  name: string;
  /** Runs for about `ms` and gives the ops/s of that round. */
  round: (ms: number) => Promise<number>;
}

/**
 * Measures `baseline` in this process and `peer` outside it in alternate
 * rounds (the order rotating), after a warm-up of each: the two
 * measurements, so that the peer's ratio is to the baseline run beside it.
 */
export async function measureBeside(
  baseline: Candidate,
  peer: ExternalCandidate,
  s: Settings = settings(),
): Promise<[Measurement, Measurement]> {
  const [ops, secs] = timed(baseline.fn, 1, s.warmupMs);
  const batch = Math.max(1, Math.floor(ops / (secs * 1000)));
  await peer.round(s.warmupMs);
  const base: number[] = [];
  const theirs: number[] = [];
  for (let r = 0; r < s.rounds; r++) {
    const ours = () => {
      const [n, t] = timed(baseline.fn, batch, s.roundMs);
      base.push(n / t);
    };
    if (r % 2 === 0) ours();
    theirs.push(await peer.round(s.roundMs));
    if (r % 2 === 1) ours();
  }
  return [
    { name: baseline.name, opsPerSec: median(base), rounds: base },
    { name: peer.name, opsPerSec: median(theirs), rounds: theirs },
  ];
}

/**
 * Measures the candidates interleaved and returns the median ops/s of each,
 * in the order given.
 */
export function measure(candidates: Candidate[], s: Settings = settings()): Measurement[] {
  // Warm-up, which also picks a batch size of about 1 ms per candidate so the
  // clock is read rarely even for very short ops.
  const batches = candidates.map((c) => {
    const [ops, secs] = timed(c.fn, 1, s.warmupMs);
    return Math.max(1, Math.floor(ops / (secs * 1000)));
  });
  const rounds: number[][] = candidates.map(() => []);
  for (let r = 0; r < s.rounds; r++) {
    for (let k = 0; k < candidates.length; k++) {
      const i = (k + r) % candidates.length;
      const c = candidates[i] as Candidate;
      const [ops, secs] = timed(c.fn, batches[i] as number, s.roundMs);
      (rounds[i] as number[]).push(ops / secs);
    }
  }
  return candidates.map((c, i) => {
    const rs = rounds[i] as number[];
    return { name: c.name, opsPerSec: median(rs), rounds: rs };
  });
}

/**
 * The speed of `a` relative to `b`, measured in the same rounds: the
 * median over the rounds of the ratio of their speeds in each, so that
 * drift from round to round (the load of a shared machine) cancels out.
 * Measurements that are not of the same rounds: the ratio of their medians.
 */
export function relativeSpeed(a: Measurement, b: Measurement): number {
  if (a.rounds.length === 0 || a.rounds.length !== b.rounds.length) return a.opsPerSec / b.opsPerSec;
  return median(a.rounds.map((ops, i) => ops / (b.rounds[i] as number)));
}

function fmtRatio(x: number): string {
  return `${x.toFixed(2)}x`;
}

function fmtNumber(x: number): string {
  const digits = x >= 1000 ? 0 : x >= 100 ? 1 : 2;
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Half the range of the rounds, relative to the median. */
function spread(m: Measurement): number {
  return (Math.max(...m.rounds) - Math.min(...m.rounds)) / 2 / m.opsPerSec;
}

/** Target lines are marked noisy past this spread of a candidate's rounds. */
const NOISY_SPREAD = 0.1;

/** The measured figure of a target, marked when the rounds were noisy. */
function figure(r: TargetResult): string {
  const noisy = r.spread > NOISY_SPREAD ? `; noisy: rounds spread ±${(r.spread * 100).toFixed(0)}%` : '';
  return `${r.target.describe(r.speedRatio)}${noisy}`;
}

/**
 * Measures a benchmark, prints its table and target lines, and returns how
 * its targets fared.
 */
export function runBenchmark(b: Benchmark, s: Settings = settings()): TargetResult[] {
  return report(b, measure(b.candidates, s));
}

/**
 * Prints a benchmark's table and target lines from measurements, and returns
 * how its targets fared.
 *
 * `paired` holds, for candidates measured each in a worker of its own beside
 * a run of the baseline (so that no candidate's code shapes the JIT feedback
 * of another's), that run of the baseline: such a candidate's ratios are
 * against it, and the baseline's row shows the median of those runs.
 */
export function report(
  b: Benchmark,
  measured: Measurement[],
  paired: ReadonlyMap<string, Measurement> = new Map(),
): TargetResult[] {
  const results = measured.map((m) => {
    if (m.name !== b.baseline || paired.size === 0) return m;
    const runs = [...paired.values()];
    return { name: m.name, opsPerSec: median(runs.map((r) => r.opsPerSec)), rounds: runs.flatMap((r) => r.rounds) };
  });
  const byName = new Map(results.map((m) => [m.name, m]));
  const get = (name: string): Measurement => {
    const m = byName.get(name);
    if (m === undefined) throw new Error(`${b.title}: no candidate named ${name}`);
    return m;
  };
  const base = get(b.baseline);
  const baseOf = (m: Measurement) => paired.get(m.name) ?? base;

  console.log(`\n${b.title}`);
  if (b.note !== undefined) console.log(`  ${b.note}`);
  const nameWidth = Math.max(9, ...results.map((m) => m.name.length));
  const header = [
    'candidate'.padEnd(nameWidth),
    'ops/s'.padStart(12),
    b.bytesPerOp !== undefined ? 'MB/s'.padStart(9) : '',
    'spread'.padStart(8),
    'speed'.padStart(8),
    'time'.padStart(8),
  ];
  const against = paired.size > 0 ? `${b.baseline} measured beside each` : b.baseline;
  console.log(`  ${header.filter((h) => h !== '').join('  ')}   (speed and time relative to ${against})`);
  for (const m of results) {
    const speed = m === base ? 1 : relativeSpeed(m, baseOf(m));
    const cols = [
      m.name.padEnd(nameWidth),
      fmtNumber(m.opsPerSec).padStart(12),
      b.bytesPerOp !== undefined ? fmtNumber((m.opsPerSec * b.bytesPerOp) / 1e6).padStart(9) : '',
      `±${(spread(m) * 100).toFixed(1)}%`.padStart(8),
      fmtRatio(speed).padStart(8),
      fmtRatio(1 / speed).padStart(8),
    ];
    const beside = paired.get(m.name);
    const note =
      m === base
        ? '   (baseline)'
        : beside !== undefined
          ? `   (beside ${fmtNumber(beside.opsPerSec)} of ${b.baseline})`
          : '';
    console.log(`  ${cols.filter((c) => c !== '').join('  ')}${note}`);
  }

  const out: TargetResult[] = [];
  for (const t of b.targets ?? []) {
    const a = get(t.candidate);
    const r = t.reference === b.baseline ? baseOf(a) : get(t.reference);
    // Candidates of one run are compared round by round; two each measured
    // beside its own run of the baseline, through it, so that drift
    // between their runs cancels out.
    const sameRun = r === baseOf(a) || paired.get(a.name) === paired.get(r.name);
    const speedRatio = sameRun ? relativeSpeed(a, r) : relativeSpeed(a, baseOf(a)) / relativeSpeed(r, baseOf(r));
    const met = t.test(speedRatio);
    const worst = Math.max(spread(a), spread(r));
    const result = { benchmark: b.title, target: t, speedRatio, met, spread: worst };
    console.log(`  target: ${t.text} — ${met ? 'met' : 'NOT met'} (${figure(result)})`);
    out.push(result);
  }
  return out;
}

/** Prints a section heading. */
export function section(title: string): void {
  console.log(`\n=== ${title} ===`);
}

/** Prints how many targets were met, and each one that was not. */
export function printSummary(results: TargetResult[]): void {
  const missed = results.filter((r) => !r.met);
  console.log(`\n=== Targets: ${results.length - missed.length} of ${results.length} met ===`);
  for (const r of missed) {
    console.log(`  NOT met: ${r.benchmark}: ${r.target.text} (${figure(r)})`);
  }
}
