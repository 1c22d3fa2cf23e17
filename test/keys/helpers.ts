/**
 * Helpers for the key tests: keys, an independent signer and verifier
 * (libsodium and RFC 8785 canonicalisation, which agrees with Matrix's
 * Canonical JSON on the ASCII-only objects used here), a fake transport and
 * a fake clock.
 */
import { createRequire } from 'node:module';
import canonicalize from 'canonicalize';
import type { JsonObject, JsonValue } from '../../src/canonicaljson/index.js';
import type { AbortOptions, KeyTransport, KeyTransportRequest } from '../../src/keys/index.js';
import { decodeBase64, encodeBase64, SigningKey } from '../../src/signing/index.js';

const sodium = createRequire(import.meta.url)('sodium-native') as {
  crypto_sign_verify_detached(sig: Buffer, msg: Buffer, pk: Buffer): boolean;
  crypto_sign_seed_keypair(pk: Buffer, sk: Buffer, seed: Buffer): void;
  crypto_sign_detached(sig: Buffer, msg: Buffer, sk: Buffer): void;
};

/** A deterministic signing key. */
export function key(n: number): SigningKey {
  return new SigningKey(new Uint8Array(32).map((_, i) => (n * 37 + i * 11 + 1) & 0xff));
}

/** Unpadded Base64 of a key's public key. */
export const pub = (k: SigningKey) => encodeBase64(k.publicKey);

function signedText(object: JsonObject): Buffer {
  const { signatures: _s, unsigned: _u, ...rest } = object;
  return Buffer.from(canonicalize(rest) as string, 'utf8');
}

/** Signs with libsodium over the RFC 8785 encoding: independent of our signing code. */
export function sodiumSign(object: JsonObject, server: string, keyId: string, k: SigningKey): JsonObject {
  const pk = Buffer.alloc(32);
  const sk = Buffer.alloc(64);
  sodium.crypto_sign_seed_keypair(pk, sk, Buffer.from(k.exportSeed()));
  const sig = Buffer.alloc(64);
  sodium.crypto_sign_detached(sig, signedText(object), sk);
  const signatures = { ...((object.signatures as JsonObject | undefined) ?? {}) };
  signatures[server] = { ...((signatures[server] as JsonObject | undefined) ?? {}), [keyId]: encodeBase64(sig) };
  return { ...object, signatures };
}

/** Verifies with libsodium over the RFC 8785 encoding. */
export function sodiumVerify(object: JsonObject, server: string, keyId: string, publicKey: string): boolean {
  const sig = ((object.signatures as JsonObject)[server] as JsonObject)[keyId] as string;
  return sodium.crypto_sign_verify_detached(
    Buffer.from(decodeBase64(sig)),
    signedText(object),
    Buffer.from(decodeBase64(publicKey)),
  );
}

/** A key response of `server`, signed by each key with libsodium. */
export function response(
  server: string,
  keys: Record<string, SigningKey>,
  validUntilTs: number,
  old: Record<string, { key: SigningKey; expired_ts: number }> = {},
  extra: JsonObject = {},
): JsonObject {
  const verifyKeys: JsonObject = {};
  for (const [id, k] of Object.entries(keys)) verifyKeys[id] = { key: pub(k) };
  const oldKeys: JsonObject = {};
  for (const [id, o] of Object.entries(old)) oldKeys[id] = { key: pub(o.key), expired_ts: o.expired_ts };
  let body: JsonObject = {
    server_name: server,
    valid_until_ts: validUntilTs,
    verify_keys: verifyKeys,
    old_verify_keys: oldKeys,
    ...extra,
  };
  for (const [id, k] of Object.entries(keys)) body = sodiumSign(body, server, id, k);
  return body;
}

/** A request the fake transport saw. */
export interface Call {
  server: string;
  method: string;
  path: string;
  body?: JsonObject;
}

type Handler = (
  req: KeyTransportRequest,
  options: AbortOptions,
) => JsonValue | Uint8Array | Promise<JsonValue | Uint8Array>;

/** A transport answering from handlers by server name, recording every call (and its signal). */
export class FakeTransport implements KeyTransport {
  readonly calls: Call[] = [];
  readonly signals: (AbortSignal | undefined)[] = [];
  readonly handlers = new Map<string, Handler>();

  /** Answers requests to `server` with `handler` (or always with `value`). */
  on(server: string, handler: Handler): this {
    this.handlers.set(server, handler);
    return this;
  }

  async fetchJson(
    server: string,
    req: KeyTransportRequest,
    options: AbortOptions = {},
  ): Promise<JsonValue | Uint8Array> {
    this.calls.push({ server, method: req.method, path: req.path, ...(req.body ? { body: req.body } : {}) });
    this.signals.push(options.signal);
    const h = this.handlers.get(server);
    if (h === undefined) throw new Error(`connection refused: ${server}`);
    return h(req, options);
  }

  /** Calls to `server`. */
  to(server: string): Call[] {
    return this.calls.filter((c) => c.server === server);
  }
}

/** A clock the test moves by hand. */
export class FakeClock {
  constructor(public t: number) {}
  readonly now = () => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

/** A promise with its resolve function outside. */
export function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every pending callback run (setImmediate batches, then microtasks). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

/**
 * The example response of the spec's "Retrieving server keys"
 * (GET /_matrix/key/v2/server), as published: placeholder keys and
 * signature, so no server accepts it.
 */
export const SPEC_EXAMPLE_KEY_RESPONSE = {
  server_name: 'example.org',
  verify_keys: { 'ed25519:abc123': { key: 'VGhpcyBzaG91bGQgYmUgYSByZWFsIGVkMjU1MTkgcGF5bG9hZA' } },
  old_verify_keys: {
    'ed25519:0ldk3y': {
      expired_ts: 1532645052628,
      key: 'VGhpcyBzaG91bGQgYmUgeW91ciBvbGQga2V5J3MgZWQyNTUxOSBwYXlsb2FkLg',
    },
  },
  signatures: { 'example.org': { 'ed25519:auto2': 'VGhpcyBzaG91bGQgYWN0dWFsbHkgYmUgYSBzaWduYXR1cmU' } },
  valid_until_ts: 1652262000000,
};
