/**
 * Prints the plain closing line `N passed, N failed` (and skipped, if any)
 * that CI reads, after vitest's own summary.
 *
 * A module that failed as a whole (an error while collecting it, or a
 * `beforeAll` that threw, say because a tool the tests need is missing)
 * leaves its tests marked skipped; those count as failed here, so that the
 * line never reads "0 failed" for a run that did not pass.
 */
import type { Reporter, TestModule } from 'vitest/node';

export default class SummaryLine implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const m of modules) {
      const moduleFailed = m.state() === 'failed' || m.errors().length > 0;
      let counted = 0;
      for (const t of m.children.allTests()) {
        const state = t.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed' || moduleFailed) {
          failed++;
          counted++;
        } else skipped++;
      }
      if (moduleFailed && counted === 0) failed++;
    }
    process.stdout.write(`\n${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}\n`);
  }
}
