/**
 * Which implementation verifies Ed25519 signatures: `node:crypto` with
 * libsodium's checks made in front of it (always present), or libsodium
 * itself through `sodium-native`, an optional peer dependency that verifies
 * about twice as fast.
 *
 * Both accept exactly what libsodium's `crypto_sign_verify_detached`
 * accepts, which is what Synapse accepts (PyNaCl bundles libsodium): the
 * checks that `ed25519.ts` makes by hand before OpenSSL (S below L, R and A
 * not of small order, A canonical) are the ones libsodium makes itself
 * (`crypto_sign/ed25519/ref10/open.c`). Because acceptance is
 * consensus-critical, a loaded `sodium-native` is used only after it gives
 * libsodium's answers on {@link SELF_TEST}: a binding that differs (an old
 * libsodium, one built with `ED25519_COMPAT`, a pure-JavaScript stand-in
 * aliased to the name by a bundler) is never used.
 *
 * The backend is chosen once, at the first verification: the environment
 * variable `MATRIX_SERVERLIB_ED25519` if set (read when this module loads),
 * otherwise `sodium` when `sodium-native` loads and passes the self-test,
 * else `node`. {@link setVerifyBackend} changes it; {@link verifyBackend}
 * says which is in use.
 *
 * @module
 */

import { createRequire } from 'node:module';
import { InvalidInputError } from '../errors.js';

/**
 * An Ed25519 verification backend: `node` (`node:crypto`, with libsodium's
 * extra checks made by this library) or `sodium` (libsodium's
 * `crypto_sign_verify_detached` through the `sodium-native` package, for
 * messages up to 32 KiB; longer ones go to `node:crypto`, whose SHA-512 is
 * faster).
 */
export type VerifyBackend = 'node' | 'sodium';

/**
 * The longest message the `sodium` backend gives libsodium: 32 KiB. The
 * curve arithmetic is about twice as fast in libsodium, but its SHA-512 is
 * portable C where OpenSSL's is assembly, so the advantage shrinks as the
 * message grows. With Node 24 (OpenSSL 3.5) and sodium-native 5.1 on the
 * development machine, libsodium did 2.1x the verifications per second of
 * `node:crypto` at 512 bytes, 2.0x at 4 KiB, 1.5x at 16 KiB, 1.2x at
 * 32 KiB, 0.9–1.1x at 48–64 KiB and 0.6–0.7x at 1 MiB (`npm run bench`
 * measures it by size). Both accept the same signatures, so the split
 * changes speed only.
 */
export const SODIUM_MAX_MESSAGE = 32 * 1024;

/**
 * What {@link setVerifyBackend} and `MATRIX_SERVERLIB_ED25519` take: a
 * backend, or `auto` for `sodium` when `sodium-native` can be loaded and
 * passes the self-test, else `node`.
 */
export type VerifyBackendChoice = VerifyBackend | 'auto';

/** The part of `sodium-native` this library calls. */
export interface SodiumBinding {
  crypto_sign_verify_detached(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
}

/** The environment variable that picks the backend for a process. */
const ENV = 'MATRIX_SERVERLIB_ED25519';

/**
 * Signatures on which a loaded libsodium must give libsodium's answers,
 * from test/vectors/ed25519-speccheck.json (the "Taming the many EdDSAs"
 * cases and this project's extras; the expected answers are those of
 * PyNaCl's libsodium 1.0.20, which Synapse uses). Each is a check a
 * different verifier gets wrong: [name, public key, message, signature,
 * valid].
 */
const SELF_TEST: readonly (readonly [string, string, string, string, boolean])[] = [
  [
    'a valid signature',
    'a8e2c7b4c0e96dfb58ee869ffe3768b042203572e9bb67b5c73b9e86bd4eaa03',
    '6d61747269782d7365727665726c696220656432353531392065787472612063617365',
    'acd340808ac9a0502d9536e52bad268ea60076f9cb0986aad7753da47f1af67bcb301542f85f5784d3ae3dccd83e38583659c799c096eeaf08eba8ef2bda800d',
    true,
  ],
  [
    'the same with S + L (malleated)',
    'a8e2c7b4c0e96dfb58ee869ffe3768b042203572e9bb67b5c73b9e86bd4eaa03',
    '6d61747269782d7365727665726c696220656432353531392065787472612063617365',
    'acd340808ac9a0502d9536e52bad268ea60076f9cb0986aad7753da47f1af67bb8040b9f12c369dca94b356fb738176d3659c799c096eeaf08eba8ef2bda801d',
    false,
  ],
  [
    'speccheck 1 (A of small order)',
    'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa',
    '9bd9f44f4dcc75bd531b56b2cd280b0bb38fc1cd6d1230e14861d861de092e79',
    'f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43a5bb704786be79fc476f91d3f3f89b03984d8068dcf1bb7dfc6637b45450ac04',
    false,
  ],
  [
    'speccheck 2 (R of small order)',
    'f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43',
    'aebf3f2601a0c8c5d39cc7d8911642f740b78168218da8471772b35f9d35b9ab',
    'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa8c4bd45aecaca5b24fb97bc10ac27ac8751a7dfe1baff8b953ec9f5833ca260e',
    false,
  ],
  [
    'speccheck 3 (A and R of mixed order, cofactorless equation holds)',
    'cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d',
    '9bd9f44f4dcc75bd531b56b2cd280b0bb38fc1cd6d1230e14861d861de092e79',
    '9046a64750444938de19f227bb80485e92b83fdb4b6506c160484c016cc1852f87909e14428a7a1d62e9f22f3d3ad7802db02eb2e688b6c52fcd6648a98bd009',
    true,
  ],
  [
    'speccheck 4 (only the cofactored equation holds)',
    'cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d',
    'e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec4011eaccd55b53f56c',
    '160a1cb0dc9c0258cd0a7d23e94d8fa878bcb1925f2c64246b2dee1796bed5125ec6bc982a269b723e0668e540911a9a6a58921d6925e434ab10aa7940551a09',
    false,
  ],
  [
    'speccheck 10 (A not canonical)',
    'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
    'e96b7021eb39c1a163b6da4e3093dcd3f21387da4cc4572be588fafae23c155b',
    'a9d55260f765261eb9b84e106f665e00b867287a761990d7135963ee0a7d59dca5bb704786be79fc476f91d3f3f89b03984d8068dcf1bb7dfc6637b45450ac04',
    false,
  ],
];

/**
 * Requires `sodium-native`. The package is CommonJS with a native addon,
 * loaded synchronously so that verification stays synchronous;
 * `createRequire` works on Node, Bun and Deno.
 */
const requireSodium = (): unknown => createRequire(import.meta.url)('sodium-native');

/** Why `sodium-native` cannot be used. */
export interface SodiumUnavailable {
  /** A sentence. */
  readonly reason: string;
  /** What loading it threw, if it threw. */
  readonly cause?: unknown;
}

/**
 * Loads `sodium-native` and runs the self-test. Any failure (not installed,
 * no prebuild for this platform, a wrong answer) means the binding is not
 * used.
 *
 * @param load - what requires the package (replaced in tests).
 * @returns the binding, or why it cannot be used.
 */
export function loadSodium(load: () => unknown = requireSodium): SodiumBinding | SodiumUnavailable {
  let binding: SodiumBinding;
  try {
    binding = load() as SodiumBinding;
    if (typeof binding?.crypto_sign_verify_detached !== 'function') {
      return { reason: 'sodium-native has no crypto_sign_verify_detached' };
    }
  } catch (e) {
    return { reason: `sodium-native cannot be loaded: ${e instanceof Error ? e.message : String(e)}`, cause: e };
  }
  for (const [name, pk, msg, sig, valid] of SELF_TEST) {
    let answer: unknown;
    try {
      answer = binding.crypto_sign_verify_detached(
        Buffer.from(sig, 'hex'),
        Buffer.from(msg, 'hex'),
        Buffer.from(pk, 'hex'),
      );
    } catch (e) {
      answer = e instanceof Error ? e.message : String(e);
    }
    if (answer !== valid) {
      return {
        reason: `sodium-native answers ${String(answer)} on ${name}, where libsodium (and Synapse) answers ${valid}`,
      };
    }
  }
  return binding;
}

/** The outcome of loading `sodium-native`, once tried. */
let loaded: SodiumBinding | SodiumUnavailable | undefined;

function sodium(): SodiumBinding | SodiumUnavailable {
  loaded ??= loadSodium();
  return loaded;
}

/** The binding in use: null for `node`, undefined until chosen. */
let active: SodiumBinding | null | undefined;

/** Sets the backend; returns the binding in use, null for `node`. */
function choose(choice: string): SodiumBinding | null {
  if (choice === 'node') {
    active = null;
  } else if (choice === 'sodium') {
    const s = sodium();
    if ('reason' in s) {
      throw new InvalidInputError(
        'M_INVALID_PARAM',
        `The sodium Ed25519 backend is not available: ${s.reason}`,
        'cause' in s ? { cause: s.cause } : {},
      );
    }
    active = s;
  } else if (choice === 'auto') {
    const s = sodium();
    active = 'reason' in s ? null : s;
  } else {
    throw new InvalidInputError(
      'M_INVALID_PARAM',
      `Unknown Ed25519 backend ${JSON.stringify(choice)}: expected 'node', 'sodium' or 'auto'`,
    );
  }
  return active;
}

/**
 * The libsodium binding when the `sodium` backend is in use, else null;
 * the first call chooses `auto` (never throws).
 */
export function sodiumBinding(): SodiumBinding | null {
  return active !== undefined ? active : choose('auto');
}

/**
 * Chooses the Ed25519 verification backend for every `VerifyKey` in
 * this process (or worker), from the next verification on.
 *
 * Both backends accept exactly the signatures libsodium accepts; `sodium`
 * verifies about 1.9x as fast (see the benchmarks). Without a call, the
 * backend is `MATRIX_SERVERLIB_ED25519` if that is set, else `auto`.
 *
 * @param choice - `node`, `sodium`, or `auto` (`sodium` when `sodium-native`
 *   loads and passes the self-test against libsodium's answers, else
 *   `node`).
 * @returns the backend now in use.
 * @throws {@link InvalidInputError} `M_INVALID_PARAM` for an unknown
 *   choice, or for `sodium` when `sodium-native` is not installed, cannot
 *   be loaded, or fails the self-test (the message says which; when loading
 *   threw, `cause` is what it threw). The backend in use is then unchanged.
 */
export function setVerifyBackend(choice: VerifyBackendChoice): VerifyBackend {
  return choose(choice) === null ? 'node' : 'sodium';
}

/**
 * The Ed25519 verification backend in use. If none was chosen yet, chooses
 * `auto` first (which loads `sodium-native` if it is installed).
 *
 * @returns `sodium` if libsodium verifies, `node` if `node:crypto` does.
 *   Never throws: if `sodium-native` cannot be used, `node` is.
 */
export function verifyBackend(): VerifyBackend {
  return sodiumBinding() === null ? 'node' : 'sodium';
}

/**
 * The backend named by `MATRIX_SERVERLIB_ED25519`, read once when this
 * module loads so that a misspelt value, or `sodium` where it cannot be
 * loaded, fails at startup rather than at the first verification (which
 * never throws). `process` is looked up on `globalThis`, and reading it may
 * throw (Deno without `--allow-env`): then the variable counts as unset.
 */
function readEnvironment(): string | undefined {
  try {
    return (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[ENV];
  } catch {
    return undefined;
  }
}

const fromEnvironment = readEnvironment();
if (fromEnvironment !== undefined && fromEnvironment !== '') {
  try {
    choose(fromEnvironment);
  } catch (e) {
    throw new InvalidInputError(
      'M_INVALID_PARAM',
      `${ENV}=${fromEnvironment}: ${e instanceof Error ? e.message : String(e)}`,
      { cause: e },
    );
  }
}
