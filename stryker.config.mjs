// StrykerJS: mutation testing of the consensus-critical code (issue 16).
// `npm run test:mutation` runs it through scripts/mutation.ts, which picks
// the incremental file and prints the score per module; see
// test/mutation/README.md for the knobs, the test selection and the
// equivalent mutants.

// The checkout Stryker runs in: its sandboxes link the oracle's
// virtualenv from here (test/mutation/vitest.config.ts). Stryker's worker
// processes inherit the environment.
process.env.MUTATION_ROOT ??= process.cwd();

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  // The modules whose every branch decides whether rooms stay in consensus.
  // index.ts files only re-export.
  mutate: [
    'src/canonicaljson/*.ts',
    '!src/canonicaljson/index.ts',
    // The WebAssembly scanner's bytes, not code.
    '!src/canonicaljson/scanwasm.ts',
    'src/signing/*.ts',
    '!src/signing/index.ts',
    'src/hashing/*.ts',
    '!src/hashing/index.ts',
    'src/events/format.ts',
    'src/auth/*.ts',
    '!src/auth/index.ts',
  ],
  testRunner: 'vitest',
  vitest: {
    // Narrows the suite to the in-process unit tests of these modules (no
    // network, no build output, no fuzzing or benchmarks): see the file.
    configFile: 'test/mutation/vitest.config.ts',
    // Only the test files that import the mutated file, and of those only
    // the tests that reach each mutant (coverageAnalysis perTest).
    related: true,
    // Threads, not the forks of the project's config: a third faster to
    // start per mutant, and every test of the selection passes in them.
    pool: 'threads',
  },
  coverageAnalysis: 'perTest',
  // Stryker would add `// @ts-nocheck` to every source file in the sandbox,
  // for a type checker; none runs here (vitest strips types), and a test
  // compares src/canonicaljson/scanwasm.ts with what generates it.
  disableTypeChecks: false,
  // No TypeScript checker: vitest strips types, so a mutant that would not
  // type-check still runs and is killed or survives on its behaviour, which
  // is what the score is about; the checker would double the run time.
  // One test process: the project's machines have two cores, shared.
  // `npm run test:mutation -- --concurrency 2` on a free machine.
  concurrency: 1,
  // A mutant that loops is a timeout (counted as detected): generous,
  // because the machine is shared.
  timeoutMS: 10_000,
  timeoutFactor: 2,
  incremental: true,
  // scripts/mutation.ts passes --incrementalFile: one file per selection of
  // modules, so a run on one module does not discard the others' results.
  incrementalFile: 'reports/mutation/incremental/all.json',
  reporters: ['html', 'json', 'progress'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  tempDirName: '.stryker-tmp',
  // Not copied into the sandbox: build output, generated docs, and the
  // oracle's virtualenv (a symlink on some checkouts, which the sandbox
  // copy cannot follow; test/mutation/vitest.config.ts links it instead).
  ignorePatterns: [
    'dist',
    'dist-check',
    'docs/api',
    'coverage',
    'reports',
    '.examples',
    'bench/results',
    'conformance/dist',
    'test/interop/oracle/.venv',
    '__pycache__',
  ],
  cleanTempDir: true,
  // Breaking below a score is the smoke test's job (test/mutation/), with
  // a threshold per module; the whole run reports and does not fail.
  thresholds: { high: 90, low: 80, break: null },
};
