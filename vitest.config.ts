import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as {
  exports: Record<string, unknown>;
};
const src = fileURLToPath(new URL('./src/', import.meta.url));

/**
 * `matrix-serverlib` and its subpaths (as the conformance runner and the
 * examples import them) are the sources under test, not `dist/`: a test run
 * needs no build first, and sees one copy of each class (one
 * `InvalidInputError`), whichever way the code under test was reached. The
 * built package is tested by running it (test/conformance starts the
 * built runner) and by `npm run check` (publint, the runner's own build).
 */
const areas = Object.keys(pkg.exports)
  .filter((key) => key.startsWith('./') && key !== './package.json')
  .map((key) => ({ find: `matrix-serverlib/${key.slice(2)}`, replacement: `${src}${key.slice(2)}/index.ts` }));

export default defineConfig({
  resolve: {
    alias: [...areas, { find: /^matrix-serverlib$/, replacement: `${src}index.ts` }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 600_000,
    pool: 'forks',
  },
});
