/**
 * `npm run example -- <name>` (issue 15: the examples run and print what
 * they show): each example, run as a user runs it against the build,
 * prints the outcomes its guide describes.
 */

import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const node = `${root}node_modules/.bin/node`;

function run(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(node, [`${root}scripts/example.ts`, ...args], { encoding: 'utf8', timeout: 60_000 });
}

/** What each example must print, in order. */
const EXPECTED: Record<string, RegExp[]> = {
  'check-event-allowed': [
    /^Alice's message: \{"outcome":"accepted"\}$/m,
    /"outcome":"rejected","why":"sender_not_joined/,
    /arrives after his ban: \{"outcome":"soft-failed"/,
  ],
  'sign-verify-request': [/^signed: 200 /m, /^body altered on the way: 401 /m, /^malformed header: 400 /m],
  'trust-server-keys': [
    /^from the origin itself: valid$/m,
    /^from the notary, the origin being down: valid$/m,
    /^from a notary that altered the origin's keys: invalid/m,
  ],
  'verify-incoming-pdu': [/^as sent: accepted/m, /^content altered: accepted redacted/m, /^signature forged: refused/m],
};

describe('npm run example', () => {
  it('lists the examples without a name, and refuses an unknown one', () => {
    const list = run();
    expect(list.status).toBe(0);
    const names = readdirSync(`${root}examples`)
      .filter((f) => f.endsWith('.ts') && !f.startsWith('_'))
      .map((f) => f.slice(0, -3));
    for (const name of names) expect(list.stderr).toContain(name);
    expect(Object.keys(EXPECTED).sort()).toEqual(names.sort());
    expect(run('nope').status).toBe(2);
  });

  it.each(Object.entries(EXPECTED))('%s prints what its guide shows', (name, lines) => {
    const r = run(name);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    let from = 0;
    for (const line of lines) {
      const m = line.exec(r.stdout.slice(from));
      expect(m, `${name}: ${line} after offset ${from} in:\n${r.stdout}`).not.toBeNull();
      from += (m?.index ?? 0) + (m?.[0].length ?? 0);
    }
  });
});
