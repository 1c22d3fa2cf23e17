/**
 * A stateful target of the fuzzing campaign: one keyring and one notary
 * living through a stream of hostile traffic (forged X-Matrix requests
 * naming any origin and key IDs, notary queries naming many servers), on a
 * clock that moves a second per input, with origins that answer, fail or
 * publish hundreds of keys. What must hold throughout is what issue 14's
 * bounds promise: no server is fetched twice within the refetch interval
 * of its last answer, one notary query starts at most `MAX_QUERY_FETCHES`
 * fetches, and the store never holds more than its bound. Its heap is what
 * the campaign measures between chunks.
 */

import fc from 'fast-check';
import type { JsonObject } from '../../src/canonicaljson/index.js';
import { formatXMatrix, verifyRequest } from '../../src/federation/index.js';
import {
  KEY_REFETCH_INTERVAL_MS,
  KeyNotary,
  Keyring,
  type KeyTransportRequest,
  MAX_QUERY_FETCHES,
  MemoryKeyStore,
  parseKeyQuery,
  serverKeysResponse,
} from '../../src/keys/index.js';
import { SigningKey } from '../../src/signing/index.js';
import { Broken, type Target } from './target.js';

const STORE_BYTES = 1024 * 1024;
const ORIGIN_KEY = new SigningKey(new Uint8Array(32).fill(5));
const OLD = Object.fromEntries(
  Array.from({ length: 300 }, (_, i) => [`ed25519:old${i}`, { key: ORIGIN_KEY.verifyKey, expiredTs: 1 }]),
);

/** The world the stream lives in: clock, transport, keyring, notary, and what was fetched when. */
class World {
  now = 1_700_000_000_000;
  readonly store = new MemoryKeyStore({ maxBytes: STORE_BYTES });
  readonly fetched = new Map<string, number>();
  fetches = 0;
  /** A bound broken inside the transport, where the keyring would take a throw for a failed fetch. */
  broken: string | undefined;
  readonly keyring: Keyring;
  readonly notary: KeyNotary;

  constructor() {
    const transport = {
      fetchJson: async (serverName: string, request: KeyTransportRequest): Promise<JsonObject> => {
        if (request.method !== 'GET') throw new Error('this world has no notaries');
        this.fetches++;
        const last = this.fetched.get(serverName);
        if (last !== undefined && this.now - last < KEY_REFETCH_INTERVAL_MS) {
          this.broken = `${serverName} fetched again ${this.now - last} ms after it answered`;
        }
        // Names say how their server behaves: `down` never answers,
        // `many` publishes 300 old keys besides its current one.
        if (serverName.startsWith('down')) throw new Error('connection refused');
        this.fetched.set(serverName, this.now);
        return serverKeysResponse({
          serverName,
          keys: { 'ed25519:a': ORIGIN_KEY },
          ...(serverName.startsWith('many') ? { oldVerifyKeys: OLD } : {}),
          validUntilTs: this.now + 3_600_000,
        });
      },
    };
    this.keyring = new Keyring({ transport, store: this.store, now: () => this.now });
    this.notary = new KeyNotary({
      keyring: this.keyring,
      identity: { serverName: 'notary.example', keys: { 'ed25519:n': ORIGIN_KEY } },
    });
  }
}

/** One step of the stream: a forged request, or a notary query. */
export type KeyringStep =
  | { readonly kind: 'request'; readonly origin: string; readonly keyIds: readonly string[] }
  | { readonly kind: 'query'; readonly servers: readonly string[] };

const server = fc.oneof(
  fc.constantFrom('up.example', 'down.example', 'many.example'),
  fc.tuple(fc.constantFrom('up', 'down', 'many'), fc.nat(100_000)).map(([kind, n]) => `${kind}${n}.example`),
  fc.string({ maxLength: 20 }),
);
const keyId = fc.oneof(
  fc.constant('ed25519:a'),
  fc.string({ maxLength: 12 }).map((s) => `ed25519:${s}`),
);

/** One world for the whole campaign: its state must stay bounded however long the stream. */
const world = new World();

/** The keyring under forged requests and notary queries. */
export const keyring: Target<KeyringStep> = {
  name: 'keyring',
  input: fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant('request' as const),
        origin: server,
        keyIds: fc.array(keyId, { minLength: 1, maxLength: 20 }),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('query' as const),
        servers: fc.array(server, { minLength: 1, maxLength: 80 }),
      }),
    },
  ),
  size: (step) => (step.kind === 'request' ? step.keyIds.length : step.servers.length),
  async run(step) {
    world.now += 1000;
    const before = world.fetches;
    let outcome: string;
    if (step.kind === 'request') {
      try {
        const authorization = step.keyIds.map((key) =>
          formatXMatrix({ origin: step.origin, destination: 'us.example', key, sig: 'AAAA' }),
        );
        const check = await verifyRequest(
          { method: 'GET', uri: '/_matrix/federation/v1/version', destination: 'us.example', authorization },
          world.keyring.lookup,
          { now: world.now },
        );
        outcome = check.valid ? 'valid' : 'invalid';
      } catch (e) {
        if (e instanceof Broken) throw e;
        outcome = e instanceof Error && 'errcode' in e ? String(e.errcode) : `threw ${String(e)}`;
        if (outcome.startsWith('threw')) throw new Broken(`verifyRequest ${outcome}`);
      }
    } else {
      const body = { server_keys: Object.fromEntries(step.servers.map((s) => [s, {}])) };
      const answer = await world.notary.query(parseKeyQuery(body));
      outcome = `answered ${Math.min(3, (answer.server_keys as unknown[]).length)}+`;
      if (world.fetches - before > MAX_QUERY_FETCHES) {
        throw new Broken(`One notary query made ${world.fetches - before} fetches`);
      }
    }
    if (world.broken !== undefined) throw new Broken(world.broken);
    if (world.store.bytes > STORE_BYTES) throw new Broken(`The store holds ${world.store.bytes} bytes`);
    return outcome;
  },
};
