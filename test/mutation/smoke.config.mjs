// The smoke run of test/mutation/smoke.test.ts: the project's Stryker
// configuration on one small module and its own test file, from scratch
// (no incremental file), so that `npm test` fails when the configuration
// rots. The JSON report is the test's to read.
import base from '../../stryker.config.mjs';

// Its own tests only (test/mutation/vitest.config.ts reads this): the whole
// selection would take minutes.
process.env.MUTATION_TESTS = 'test/signing/base64.test.ts';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  ...base,
  mutate: ['src/signing/base64.ts'],
  incremental: false,
  reporters: ['json'],
  jsonReporter: { fileName: 'reports/mutation/smoke/mutation.json' },
};
