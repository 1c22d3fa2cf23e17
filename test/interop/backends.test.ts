/**
 * The Synapse differential of the ops that verify an Ed25519 signature
 * (verify_json, verify_event, check_server_keys, verify_request), run on
 * each verification backend: the same request lines answered by Synapse
 * (PyNaCl, so libsodium) and by us with `setVerifyBackend('node')` and
 * with `setVerifyBackend('sodium')` must agree (issue 15).
 *
 * The signatures are made by hand where verifiers differ (test/signing/
 * forge.ts): keys and R of mixed or small order, non-canonical keys,
 * signatures that hold only under the cofactored equation, malleated S.
 * The other differential tests (test/interop/*.test.ts) run on the
 * default backend (sodium where sodium-native is installed, as in this
 * repository); `MATRIX_SERVERLIB_ED25519=node npx vitest run test/interop`
 * runs them all on node:crypto.
 */
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  buildEvent,
  encodeBase64,
  getRoomVersion,
  type JsonObject,
  redactEvent,
  SigningKey,
  signedBytes,
  verifyBackend,
} from '../../src/index.js';
import { BACKENDS, useBackend } from '../signing/backends.js';
import { forgedKey, forgeSignature, fromLE, holds, L, toLE } from '../signing/forge.js';
import { askSynapse, compareWithOurs } from './oracle.js';

/** The kinds of signature, and whether libsodium accepts each. */
const KINDS = {
  /** An ordinary key and signature. */
  valid: true,
  /** A = [a]B + T of mixed order, the cofactorless equation holding (R mixed or not). */
  'mixed-order key': true,
  /** The same key, the equation holding only when multiplied by the cofactor. */
  'cofactored only': false,
  /** R of small order (R = [j]T), the cofactorless equation holding. */
  'small-order R': false,
  /** A of small order (A = [i]T), the cofactorless equation holding. */
  'small-order key': false,
  /** A given as a non-canonical encoding of the identity; [h]A = O, so S = r always holds. */
  'non-canonical key': false,
  /** A valid signature with S replaced by S + L. */
  'S + L': false,
} as const;
type Kind = keyof typeof KINDS;

/** Scalars from a label: deterministic, so every run checks the same lines. */
function scalar(label: string): bigint {
  return fromLE(createHash('sha512').update(label).digest()) % L;
}

/** The identity written non-canonically: x = 0 with the sign bit set, y = p + 1, and both. */
const NON_CANONICAL_IDENTITY = [
  '0100000000000000000000000000000000000000000000000000000000000080',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
].map((h) => Uint8Array.from(Buffer.from(h, 'hex')));

/** Signs a message, or finds no signature of the kind wanted. */
type Signer = (message: Uint8Array) => Uint8Array | undefined;

/**
 * A public key of `kind`, and a signer for messages under it (the message
 * may contain the key: a key response signs itself).
 */
function keyOf(kind: Kind, label: string): { pk: Uint8Array; sign: Signer } {
  const a = scalar(`${label} a`);
  const i = 1 + Number(scalar(`${label} i`) % 7n);
  // A = [a]B + [ti]T, and signatures whose cofactorless equation holds or
  // fails as wanted, trying R = [r]B + [j]T (each holds about one time in
  // eight); with `smallR`, r = 0: only eight R to try, which may all fail.
  const search = (a: bigint, ti: number, wanted: boolean, smallR: boolean) => {
    const pk = forgedKey(a, ti);
    const sign: Signer = (message) => {
      for (let t = 0; t < (smallR ? 8 : 64); t++) {
        const j = t % 8;
        const sig = forgeSignature(a, smallR ? 0n : scalar(`${label} r ${t}`), j, pk, message);
        if (holds({ pk, sig }, ti, j, message) === wanted) return sig;
      }
      return undefined;
    };
    return { pk, sign };
  };
  switch (kind) {
    case 'valid':
      return search(a, 0, true, false);
    case 'S + L': {
      const { pk, sign } = search(a, 0, true, false);
      const malleate = (sig: Uint8Array | undefined) => {
        sig?.set(toLE(fromLE(sig.subarray(32)) + L), 32);
        return sig;
      };
      return { pk, sign: (message) => malleate(sign(message)) };
    }
    case 'mixed-order key':
      return search(a, i, true, false);
    case 'cofactored only':
      return search(a, i, false, false);
    case 'small-order R':
      return search(a, i, true, true);
    case 'small-order key':
      return search(0n, i, true, false);
    case 'non-canonical key': {
      const pk = NON_CANONICAL_IDENTITY[i % 3] as Uint8Array;
      return { pk, sign: (message) => forgeSignature(0n, scalar(`${label} r`), 0, pk, message) };
    }
  }
}

const SERVER = 'origin.example';
const KEY_ID = 'ed25519:k';
const NOW = 1_700_000_000_000;
const b64 = encodeBase64;
const bytesOf = (o: JsonObject) => signedBytes(o);

/** One request line per op for a key and signatures of `kind`, the `n`th. */
function lines(kind: Kind, n: number): { op: string; line: string }[] {
  for (let attempt = 0; ; attempt++) {
    try {
      return linesWith(kind, n, keyOf(kind, `${kind} ${n} ${attempt}`));
    } catch (e) {
      if (!(e instanceof NoSignature)) throw e;
    }
  }
}

/** No signature of the kind wanted on one of the messages: the next key is tried. */
class NoSignature extends Error {}

function linesWith(kind: Kind, n: number, { pk, sign }: { pk: Uint8Array; sign: Signer }) {
  const sigs = (message: Uint8Array) => {
    const sig = sign(message);
    if (sig === undefined) throw new NoSignature();
    return { [SERVER]: { [KEY_ID]: b64(sig) } };
  };
  const keys = { [SERVER]: { [KEY_ID]: b64(pk) } };

  const object: JsonObject = { kind, n, text: `signed ${kind} ${n}` };
  const verifyJson = {
    op: 'verify_json',
    object: { ...object, signatures: sigs(bytesOf(object)) },
    server_name: SERVER,
    key_id: KEY_ID,
    public_key: b64(pk),
  };

  // An event as built and signed by us, its signature then replaced; the
  // content hash stays right.
  const rules = getRoomVersion('10');
  const { event } = buildEvent(
    {
      type: 'm.room.message',
      room_id: `!room:${SERVER}`,
      sender: `@user:${SERVER}`,
      content: { msgtype: 'm.text', body: `${kind} ${n}` },
      prev_events: [],
      auth_events: [],
      depth: 1 + n,
    },
    rules,
    { serverName: SERVER, keyId: KEY_ID, key: new SigningKey(new Uint8Array(32).fill(n)), now: () => NOW },
  );
  const verifyEvent = {
    op: 'verify_event',
    room_version: '10',
    event: { ...event, signatures: sigs(bytesOf(redactEvent(event, rules))) },
    keys,
  };

  const response: JsonObject = {
    server_name: SERVER,
    valid_until_ts: NOW + 86_400_000,
    verify_keys: { [KEY_ID]: { key: b64(pk) } },
    old_verify_keys: {},
  };
  const checkServerKeys = {
    op: 'check_server_keys',
    server_name: SERVER,
    response: { ...response, signatures: sigs(bytesOf(response)) },
    now_ts: NOW,
  };

  const request = {
    method: 'GET',
    uri: `/_matrix/federation/v1/query/k?n=${n}`,
    origin: SERVER,
    destination: 'd.example',
  };
  const sig = sigs(bytesOf(request))[SERVER][KEY_ID];
  const verifyRequest = {
    op: 'verify_request',
    method: request.method,
    uri: request.uri,
    destination: request.destination,
    authorization: `X-Matrix origin="${SERVER}",destination="${request.destination}",key="${KEY_ID}",sig="${sig}"`,
    keys,
    now_ts: NOW,
  };
  return [verifyJson, verifyEvent, checkServerKeys, verifyRequest].map((r) => ({ op: r.op, line: JSON.stringify(r) }));
}

/** Whether an answer says the signature is good. */
function accepted(answer: string): boolean {
  const a = JSON.parse(answer) as { ok: boolean; valid?: boolean; result?: string };
  return a.ok && (a.valid === true || a.result === 'valid');
}

const INSTANCES = 6;
const CASES = (Object.keys(KINDS) as Kind[]).flatMap((kind) =>
  Array.from({ length: INSTANCES }, (_, n) => lines(kind, n).map((l) => ({ kind, ...l }))).flat(),
);
const LINES = CASES.map((c) => c.line);

let theirs: string[] = [];
beforeAll(async () => {
  theirs = await askSynapse(LINES);
}, 60_000);

describe('Synapse accepts exactly the kinds of signature libsodium accepts', () => {
  it('in every op', () => {
    const wrong = CASES.filter((c, i) => accepted(theirs[i] as string) !== KINDS[c.kind]).map(
      (c, i) => `${c.op} ${c.kind}: ${theirs[i]}`,
    );
    expect(wrong).toEqual([]);
  });
});

describe.each(BACKENDS)('Synapse oracle: the ops that verify signatures, %s backend', (backend) => {
  useBackend(backend);

  it.each(['verify_json', 'verify_event', 'check_server_keys', 'verify_request'])(
    'agrees on %s with hand-made keys and signatures',
    (op) => {
      expect(verifyBackend()).toBe(backend);
      const indices = CASES.flatMap((c, i) => (c.op === op ? [i] : []));
      const diffs = compareWithOurs(
        indices.map((i) => LINES[i] as string),
        indices.map((i) => theirs[i] as string),
      );
      expect(diffs.slice(0, 3)).toEqual([]);
      expect(indices.length).toBe(Object.keys(KINDS).length * INSTANCES);
    },
  );
});
