/**
 * The repository's copy of the conformance protocol (conformance/PROTOCOL.md)
 * says what the shared one (`../shared/CONFORMANCE.md`, beside the checkout
 * in CI) says: the runner is built and reviewed against the copy, and the
 * other implementations and hidden suites drive it by the shared one. The
 * copy adds only its note saying so.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const shared = `${root}../shared/CONFORMANCE.md`;

describe('conformance/PROTOCOL.md', () => {
  it('is the shared protocol, with only its note added', () => {
    expect(existsSync(shared), `${shared} beside the checkout`).toBe(true);
    const copy = readFileSync(`${root}conformance/PROTOCOL.md`, 'utf8');
    // The note: the blockquote right after the title.
    const withoutNote = copy.replace(/^(# [^\n]*\n\n)(?:> [^\n]*\n)+\n/, '$1');
    expect(withoutNote).not.toBe(copy);
    expect(withoutNote).toBe(readFileSync(shared, 'utf8'));
  });
});
