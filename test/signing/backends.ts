/**
 * Runs a block of tests on each Ed25519 verification backend: every test
 * of acceptance must hold on both (issue 15).
 */
import { afterAll, beforeAll } from 'vitest';
import { setVerifyBackend, type VerifyBackend, verifyBackend } from '../../src/signing/index.js';

/** Both backends; `sodium` needs the `sodium-native` dev dependency. */
export const BACKENDS: readonly VerifyBackend[] = ['node', 'sodium'];

/** Switches the enclosing `describe` block to `backend`, and back after it. */
export function useBackend(backend: VerifyBackend): void {
  let before: VerifyBackend = 'node';
  beforeAll(() => {
    before = verifyBackend();
    setVerifyBackend(backend);
  });
  afterAll(() => {
    setVerifyBackend(before);
  });
}
