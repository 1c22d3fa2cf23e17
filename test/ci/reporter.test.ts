import { describe, expect, it, vi } from 'vitest';
import type { TestModule } from 'vitest/node';
import SummaryLine from '../reporter.js';

/** A stand-in for vitest's TestModule with the parts the reporter reads. */
function module(state: string, tests: string[], errors: unknown[] = []): TestModule {
  return {
    state: () => state,
    errors: () => errors,
    children: { allTests: () => tests.map((s) => ({ result: () => ({ state: s }) })) },
  } as unknown as TestModule;
}

function line(modules: TestModule[]): string {
  const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    new SummaryLine().onTestRunEnd(modules);
    return String(write.mock.calls.at(-1)?.[0]).trim();
  } finally {
    write.mockRestore();
  }
}

describe('the closing line CI reads', () => {
  it('counts passed, failed and skipped tests', () => {
    expect(line([module('passed', ['passed', 'passed', 'skipped']), module('failed', ['passed', 'failed'])])).toBe(
      '3 passed, 1 failed, 1 skipped',
    );
  });

  it('counts the tests of a module whose beforeAll threw as failed, not skipped', () => {
    // vitest marks them skipped; the run did not pass, so the line must not say 0 failed.
    expect(line([module('failed', ['skipped', 'skipped'])])).toBe('0 passed, 2 failed');
  });

  it('counts a module that failed to load, with no tests, as one failure', () => {
    expect(line([module('failed', [], [new Error('syntax')]), module('passed', ['passed'])])).toBe(
      '1 passed, 1 failed',
    );
  });
});
