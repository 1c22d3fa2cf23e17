import fc from 'fast-check';
import nacl from 'tweetnacl';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  loadSodium,
  SODIUM_MAX_MESSAGE,
  type SodiumBinding,
  type SodiumUnavailable,
} from '../../src/signing/backend.js';
import {
  InvalidInputError,
  SigningKey,
  setVerifyBackend,
  type VerifyBackend,
  VerifyKey,
  verifyBackend,
} from '../../src/signing/index.js';
import { errcode } from '../helpers.js';
import { forge, fromLE, holds, L, NON_CANONICAL, SMALL_ORDER, sodium, toLE } from './forge.js';

/** Why `sodium-native` was not used (fails the test if it was). */
function reason(loaded: SodiumBinding | SodiumUnavailable): string {
  if (!('reason' in loaded)) throw new Error('the binding was used');
  return loaded.reason;
}

/** The verdict of `backend` with a key made for the call, and with one reused across calls. */
function verdicts(backend: VerifyBackend, pk: Uint8Array, message: Uint8Array, sig: Uint8Array, reused: VerifyKey) {
  setVerifyBackend(backend);
  return [new VerifyKey(pk).verify(message, sig), reused.verify(message, sig)];
}

const scalar = fc.oneof(
  { arbitrary: fc.bigInt({ min: 1n, max: L - 1n }), weight: 6 },
  { arbitrary: fc.constant(0n), weight: 1 },
);
const index = (n: number) => fc.integer({ min: 0, max: n - 1 });

/** What is done to a forged signature before it is verified. */
const mutation = fc.oneof(
  fc.constant({ kind: 'none' as const }),
  fc.record({ kind: fc.constant('S + kL' as const), k: fc.integer({ min: 1, max: 15 }) }),
  fc.record({ kind: fc.constant('S bits' as const), bits: fc.integer({ min: 1, max: 7 }) }),
  fc.record({ kind: fc.constant('S = 0 or L' as const), l: fc.boolean() }),
  fc.record({ kind: fc.constant('R small' as const), n: index(SMALL_ORDER.length) }),
  fc.record({ kind: fc.constant('A small' as const), n: index(SMALL_ORDER.length) }),
  fc.record({ kind: fc.constant('R non-canonical' as const), n: index(NON_CANONICAL.length) }),
  fc.record({ kind: fc.constant('A non-canonical' as const), n: index(NON_CANONICAL.length) }),
  fc.record({ kind: fc.constant('A sign' as const) }),
  fc.record({
    kind: fc.constantFrom('sig byte' as const, 'pk byte' as const, 'msg byte' as const),
    pos: fc.nat(),
    val: fc.integer({ min: 0, max: 255 }),
  }),
);

describe('the node and sodium backends accept the same signatures', () => {
  afterEach(() => {
    setVerifyBackend('auto');
  });

  it('on forged, mutated and random signatures, small-order and non-canonical points, as libsodium does', () => {
    const seen = { accepted: 0, mixedAccepted: 0, cofactoredOnly: 0, smallOrderHolds: 0 };
    const reusedKeys = new Map<string, VerifyKey>();
    fc.assert(
      fc.property(
        scalar,
        scalar,
        index(8),
        index(8),
        fc.uint8Array({ maxLength: 80 }),
        mutation,
        (a, r, i, j, message, m) => {
          const forged = forge(a, r, i, j, message);
          const { pk, sig } = forged;
          const cofactorless = holds(forged, i, j, message);
          const msg = Uint8Array.from(message);
          const s = fromLE(sig.subarray(32));
          if (m.kind === 'S + kL') sig.set(toLE((s + BigInt(m.k) * L) % 2n ** 256n), 32);
          if (m.kind === 'S bits') sig[63] = ((sig[63] as number) & 0x1f) | (m.bits << 5);
          if (m.kind === 'S = 0 or L') sig.set(toLE(m.l ? L : 0n), 32);
          if (m.kind === 'R small') sig.set(SMALL_ORDER[m.n] as Uint8Array);
          if (m.kind === 'A small') pk.set(SMALL_ORDER[m.n] as Uint8Array);
          if (m.kind === 'R non-canonical') sig.set(NON_CANONICAL[m.n] as Uint8Array);
          if (m.kind === 'A non-canonical') pk.set(NON_CANONICAL[m.n] as Uint8Array);
          if (m.kind === 'A sign') pk[31] = (pk[31] as number) ^ 0x80;
          if (m.kind === 'sig byte') sig[m.pos % 64] = m.val;
          if (m.kind === 'pk byte') pk[m.pos % 32] = m.val;
          if (m.kind === 'msg byte' && msg.length > 0) msg[m.pos % msg.length] = m.val;

          const want = sodium.crypto_sign_verify_detached(sig, msg, pk);
          const id = Buffer.from(pk).toString('hex');
          const reused = reusedKeys.get(id) ?? new VerifyKey(pk);
          reusedKeys.set(id, reused);
          expect(verdicts('node', pk, msg, sig, reused)).toEqual([want, want]);
          expect(verdicts('sodium', pk, msg, sig, reused)).toEqual([want, want]);

          if (m.kind === 'none') {
            if (want) seen.accepted++;
            if (want && i !== 0) seen.mixedAccepted++;
            if (a !== 0n && r !== 0n && !want) seen.cofactoredOnly++;
            if ((a === 0n || r === 0n) && cofactorless) seen.smallOrderHolds++;
          }
        },
      ),
      { numRuns: 1500 },
    );
    // The generator reached the cases where verifiers differ: signatures
    // valid only under the cofactored equation, valid ones by keys of mixed
    // order, and ones by or with small-order points that satisfy the
    // cofactorless equation.
    expect(seen.accepted).toBeGreaterThan(0);
    expect(seen.mixedAccepted).toBeGreaterThan(0);
    expect(seen.cofactoredOnly).toBeGreaterThan(0);
    expect(seen.smallOrderHolds).toBeGreaterThan(0);
  });

  it('on every small-order and non-canonical A and R, with a signature that would otherwise verify', () => {
    const key = new SigningKey(new Uint8Array(32).fill(11));
    const msg = Buffer.from('{"type":"m.room.message"}');
    const sig = key.sign(msg);
    for (const point of [...SMALL_ORDER, ...NON_CANONICAL]) {
      const forgedR = Uint8Array.from(sig);
      forgedR.set(point);
      for (const [pk, s] of [
        [key.publicKey, forgedR],
        [point, sig],
        [point, forgedR],
      ] as const) {
        const want = sodium.crypto_sign_verify_detached(s, msg, pk);
        expect(want).toBe(false);
        for (const backend of ['node', 'sodium'] as const) {
          setVerifyBackend(backend);
          expect(new VerifyKey(pk).verify(msg, s), backend).toBe(want);
        }
      }
    }
  });

  it('send messages up to 32 KiB to libsodium and longer ones to node:crypto (faster there), with the same verdicts', () => {
    const key = new SigningKey(new Uint8Array(32).fill(13));
    const calls = vi.spyOn(sodium, 'crypto_sign_verify_detached');
    try {
      setVerifyBackend('sodium');
      for (const [length, toSodium] of [
        [SODIUM_MAX_MESSAGE, 1],
        [SODIUM_MAX_MESSAGE + 1, 0],
        [1 << 20, 0],
      ] as const) {
        const msg = new Uint8Array(length).fill(7);
        const sig = key.sign(msg);
        const malleated = Uint8Array.from(sig);
        malleated.set(toLE(fromLE(sig.subarray(32)) + L), 32);
        calls.mockClear();
        expect(key.verifyKey.verify(msg, sig)).toBe(true);
        expect(key.verifyKey.verify(msg, malleated)).toBe(false);
        expect(calls, `${length} bytes`).toHaveBeenCalledTimes(2 * toSodium);
      }
    } finally {
      calls.mockRestore();
    }
  });

  it('keep the verdicts of a key whose bytes are changed after its first verification', () => {
    const key = new SigningKey(new Uint8Array(32).fill(12));
    const msg = Buffer.from('x');
    const sig = key.sign(msg);
    for (const backend of ['node', 'sodium'] as const) {
      setVerifyBackend(backend);
      const vk = new VerifyKey(key.publicKey);
      expect(vk.verify(msg, sig)).toBe(true);
      vk.bytes[0] = (vk.bytes[0] as number) ^ 1;
      expect(vk.verify(msg, sig), backend).toBe(true);
    }
  });
});

describe('choosing the backend', () => {
  afterEach(() => {
    setVerifyBackend('auto');
  });

  it('is sodium by default when sodium-native is installed, unless the environment says otherwise', () => {
    const env = process.env.MATRIX_SERVERLIB_ED25519;
    setVerifyBackend((env || 'auto') as VerifyBackend);
    expect(verifyBackend()).toBe(env === 'node' ? 'node' : 'sodium');
  });

  it('switches between node, sodium and auto, and reports the one in use', () => {
    expect(setVerifyBackend('node')).toBe('node');
    expect(verifyBackend()).toBe('node');
    expect(setVerifyBackend('sodium')).toBe('sodium');
    expect(verifyBackend()).toBe('sodium');
    setVerifyBackend('node');
    expect(setVerifyBackend('auto')).toBe('sodium');
  });

  it('refuses an unknown backend with a typed error and keeps the one in use', () => {
    setVerifyBackend('node');
    expect(errcode(() => setVerifyBackend('openssl' as VerifyBackend))).toBe('M_INVALID_PARAM');
    expect(verifyBackend()).toBe('node');
  });

  it('uses sodium-native only if it loads and gives libsodium’s answers', () => {
    expect('reason' in loadSodium()).toBe(false);
    const notFound = new Error("Cannot find module 'sodium-native'");
    const missing = loadSodium(() => {
      throw notFound;
    });
    expect(missing).toEqual({ reason: expect.stringMatching(/cannot be loaded: Cannot find module/), cause: notFound });
    expect(reason(loadSodium(() => ({})))).toMatch(/no crypto_sign_verify_detached/);
    expect(reason(loadSodium(() => null))).toMatch(/no crypto_sign_verify_detached/);
    // A pure-JavaScript stand-in (sodium-javascript, which bundlers alias
    // to sodium-native, verifies with tweetnacl's code) accepts S + L.
    const standIn = loadSodium(() => ({
      crypto_sign_verify_detached: (sig: Uint8Array, msg: Uint8Array, pk: Uint8Array) =>
        nacl.sign.detached.verify(msg, sig, pk),
    }));
    expect(reason(standIn)).toMatch(/answers true on the same with S \+ L/);
    // One built with ED25519_COMPAT, or older than libsodium's small-order
    // checks, accepts R of small order.
    const lax = loadSodium(() => ({
      crypto_sign_verify_detached: (sig: Uint8Array, msg: Uint8Array, pk: Uint8Array) =>
        sodium.crypto_sign_verify_detached(sig, msg, pk) || sig[0] === 0xc7,
    }));
    expect(reason(lax)).toMatch(/answers true on speccheck 2/);
    const throwing = loadSodium(() => ({
      crypto_sign_verify_detached: () => {
        throw new TypeError('boom');
      },
    }));
    expect(reason(throwing)).toMatch(/answers boom on a valid signature/);
  });
});

describe('MATRIX_SERVERLIB_ED25519', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  /** The backend module as loaded afresh under `value`. */
  async function loadWith(value: string) {
    vi.stubEnv('MATRIX_SERVERLIB_ED25519', value);
    vi.resetModules();
    return import('../../src/signing/backend.js');
  }

  it('picks the backend when the module loads', async () => {
    expect((await loadWith('node')).verifyBackend()).toBe('node');
    expect((await loadWith('sodium')).verifyBackend()).toBe('sodium');
    expect((await loadWith('auto')).verifyBackend()).toBe('sodium');
    expect((await loadWith('')).verifyBackend()).toBe('sodium');
  });

  it('fails at startup with a typed error when misspelt', async () => {
    const failure = await loadWith('libsodium').then(
      () => undefined,
      (e: unknown) => e,
    );
    // A fresh module graph: its InvalidInputError is another class object.
    expect(failure).toMatchObject({ name: InvalidInputError.name, errcode: 'M_INVALID_PARAM' });
    expect(String((failure as Error).message)).toMatch(/MATRIX_SERVERLIB_ED25519=libsodium: Unknown Ed25519 backend/);
    // The error of the choice itself is kept as the cause.
    expect((failure as Error).cause).toMatchObject({ name: InvalidInputError.name, errcode: 'M_INVALID_PARAM' });
    expect(((failure as Error).cause as Error).message).toMatch(/^Unknown Ed25519 backend "libsodium"/);
  });

  it('keeps why sodium-native could not be loaded as the cause of the refusal of `sodium`', async () => {
    const notFound = new Error("Cannot find module 'sodium-native'");
    vi.doMock('node:module', () => ({
      createRequire: () => () => {
        throw notFound;
      },
    }));
    try {
      const backend = await loadWith('node');
      let failure: unknown;
      try {
        backend.setVerifyBackend('sodium');
      } catch (e) {
        failure = e;
      }
      expect(failure).toMatchObject({ name: InvalidInputError.name, errcode: 'M_INVALID_PARAM', cause: notFound });
      expect((failure as Error).message).toMatch(/not available: sodium-native cannot be loaded: Cannot find module/);
      expect(backend.verifyBackend()).toBe('node');
    } finally {
      vi.doUnmock('node:module');
    }
  });
});
