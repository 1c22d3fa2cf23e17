/**
 * The benchmarks run in CI only as a smoke test: every suite must run to the
 * end (their own checks that all candidates agree included). Figures from
 * this quick mode are meaningless and not looked at.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

describe('npm run bench', () => {
  // The incoming-PDU suite builds the Go harness of its gomatrixserverlib
  // peer first (a minute on a new machine, fetching the module), so that
  // it cannot rot unseen.
  it('runs every suite to the end in quick mode', { timeout: 600_000 }, () => {
    const run = spawnSync(process.execPath, [fileURLToPath(new URL('../../bench/run.ts', import.meta.url))], {
      env: { ...process.env, BENCH_QUICK: '1' },
      encoding: 'utf8',
      timeout: 540_000,
    });
    expect(run.status, run.stderr).toBe(0);
    for (const suite of [
      'Canonical JSON encoding',
      'Strict parsing',
      'Ed25519 verify',
      'Incoming PDU',
      'Auth rules',
      'Server discovery',
      'Federation requests',
    ]) {
      expect(run.stdout).toContain(`=== ${suite}`);
    }
    expect(run.stdout).toMatch(/=== Targets: \d+ of \d+ met ===/);
    // The Go peer was built and measured, or the run says why not (no Go).
    expect(run.stdout).toMatch(
      /gomatrixserverlib \(Go\), full check +[\d,.]+|gomatrixserverlib \(Go\), full check: not measured here: go is not available/,
    );
  });
});
