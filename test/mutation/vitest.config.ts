/**
 * The vitest config of the mutation runs (stryker.config.mjs): the
 * project's config, narrowed to the in-process tests of the mutated
 * modules. Each folder's tests kill the mutants of the same area and of the
 * areas below it (test/auth reaches canonicaljson, hashing and events
 * through its rooms); vitest's related mode then runs, for a mutated file,
 * only the test files that import it.
 *
 * Left out, because they cannot kill a mutant or cost minutes per mutant:
 * - test/interop (the differential runs against Synapse: generated rooms,
 *   minutes each; the oracle answers the same whatever the mutant),
 * - test/fuzz, test/bench, test/package (the packed tarball), test/conformance
 *   and test/examples (they run the build in `dist/`, which the sandbox does
 *   not rebuild), test/canonicaljson/exhaustive.test.ts (the same, in a
 *   child process),
 * - test/keys and test/federation (network, keyring and request signing:
 *   layers above the mutated ones, not their tests).
 *
 * MUTATION_TESTS (comma-separated globs) narrows the selection further,
 * e.g. to a module's own test file. Not Stryker's `--testFiles`: with it,
 * Stryker 10.1.1 activates mutants of module-level code (static mutants)
 * only after the module has loaded, and reports them survived
 * (stryker-js issues 6144 and 6209).
 *
 * The named-case files of test/auth also put their cases to the Synapse
 * oracle (its answers are compared with the spec's expected verdicts, not
 * with ours); the oracle's virtualenv is not copied into Stryker's sandbox,
 * so it is linked here from the checkout Stryker was started in
 * (MUTATION_ROOT, set by stryker.config.mjs's process).
 */
import { existsSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { configDefaults, defineConfig } from 'vitest/config';
import base from '../../vitest.config.ts';

const venv = 'test/interop/oracle/.venv';
const root = process.env.MUTATION_ROOT;
if (root !== undefined && !existsSync(venv) && existsSync(join(root, venv))) symlinkSync(join(root, venv), venv);

// Replaces the project's include list (mergeConfig would append to it).
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: process.env.MUTATION_TESTS?.split(',') ?? [
      'test/auth/**/*.test.ts',
      'test/canonicaljson/**/*.test.ts',
      'test/events/**/*.test.ts',
      'test/hashing/**/*.test.ts',
      'test/identifiers/**/*.test.ts',
      'test/roomversions/**/*.test.ts',
      'test/signing/**/*.test.ts',
    ],
    exclude: [...configDefaults.exclude, 'test/canonicaljson/exhaustive.test.ts'],
  },
});
