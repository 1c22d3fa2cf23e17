/**
 * Finding and trusting other servers' keys: the code of
 * docs/server-keys.md, run by test/examples/trust-server-keys.test.ts.
 * `npm run example -- trust-server-keys` verifies an event with keys from
 * its origin, then from a notary while the origin is down, then from a
 * notary that altered them.
 */
import type { JsonObject, JsonValue } from 'matrix-serverlib/canonicaljson';
import { buildEvent, type EventCheck, verifyEvent } from 'matrix-serverlib/events';
import {
  InvalidInputError,
  KeyNotary,
  Keyring,
  type KeyTransport,
  keyQueryForServer,
  parseKeyQuery,
  serverKeysResponse,
} from 'matrix-serverlib/keys';
import { getRoomVersion } from 'matrix-serverlib/roomversions';
import { decodeBase64, encodeBase64, SigningKey, verifyKeyFromBytes } from 'matrix-serverlib/signing';

/** Our identity: server name, key ID and signing key. */
export interface Identity {
  serverName: string;
  keyId: string;
  key: SigningKey;
}

/**
 * 1. The body of `GET /_matrix/key/v2/server`: our key, valid for a day
 *    (what Synapse publishes), signed.
 */
export function ourKeys(me: Identity, now: number): JsonObject {
  return serverKeysResponse({
    serverName: me.serverName,
    keys: { [me.keyId]: me.key },
    validUntilTs: now + 24 * 60 * 60 * 1000,
  });
}

/**
 * 2. A keyring that asks servers for their own keys, and a notary when they
 *    do not answer. The notary's key comes from configuration, never from
 *    the notary itself.
 */
export function makeKeyring(
  transport: KeyTransport,
  notary: { serverName: string; keyId: string; publicKey: string },
  now: () => number = Date.now,
): Keyring {
  return new Keyring({
    transport,
    now,
    notaries: [
      {
        serverName: notary.serverName,
        verifyKeys: new Map([[notary.keyId, verifyKeyFromBytes(decodeBase64(notary.publicKey))]]),
      },
    ],
  });
}

/** 3. Checking an event's signatures with keys fetched on demand. */
export function checkEvent(keyring: Keyring, pdu: JsonObject, roomVersion: string): Promise<EventCheck> {
  return verifyEvent(pdu, getRoomVersion(roomVersion), keyring.lookup);
}

/**
 * 4. Acting as a notary: the handler for `GET /_matrix/key/v2/query/{server}`
 *    and `POST /_matrix/key/v2/query`. Returns the status and body.
 */
export function notaryEndpoint(
  keyring: Keyring,
  me: Identity,
): (method: 'GET' | 'POST', path: string, body?: unknown) => Promise<{ status: number; body: JsonObject }> {
  const notary = new KeyNotary({ keyring, identity: { serverName: me.serverName, keys: { [me.keyId]: me.key } } });
  return async (method, path, body) => {
    try {
      if (method === 'POST' && path === '/_matrix/key/v2/query') {
        return { status: 200, body: await notary.query(parseKeyQuery(body as JsonObject)) };
      }
      const m = /^\/_matrix\/key\/v2\/query\/([^/]+)$/.exec(path);
      if (method === 'GET' && m !== null) {
        return { status: 200, body: await notary.query(keyQueryForServer(decodeURIComponent(m[1] as string))) };
      }
      return { status: 404, body: { errcode: 'M_UNRECOGNIZED', error: 'Unrecognized request' } };
    } catch (e) {
      if (e instanceof InvalidInputError) return { status: 400, body: { errcode: e.errcode, error: e.message } };
      throw e;
    }
  };
}

/**
 * An in-process federation of two servers for the demonstration and the
 * tests: `origin` serves its keys, `notary` answers key queries (with its
 * own keyring, which asks `origin`). Take a server down by deleting it
 * from `up`; `tamper` makes the notary alter what it passes on.
 */
export class Network implements KeyTransport {
  readonly up: Set<string>;
  tamper = false;
  readonly #origin: Identity;
  readonly #notaryName: string;
  readonly #now: number;
  readonly #notary: ReturnType<typeof notaryEndpoint>;

  constructor(origin: Identity, notary: Identity, now: number) {
    this.#origin = origin;
    this.#notaryName = notary.serverName;
    this.#now = now;
    this.up = new Set([origin.serverName, notary.serverName]);
    this.#notary = notaryEndpoint(
      makeKeyring(this, notaryConfig(notary), () => now),
      notary,
    );
  }

  async fetchJson(
    server: string,
    req: { method: 'GET' | 'POST'; path: string; body?: JsonObject },
  ): Promise<JsonValue> {
    if (!this.up.has(server)) throw new Error(`${server} is down`);
    if (server === this.#origin.serverName && req.path === '/_matrix/key/v2/server') {
      return ourKeys(this.#origin, this.#now);
    }
    if (server === this.#notaryName) {
      const { status, body } = await this.#notary(req.method, req.path, req.body);
      if (status !== 200) throw new Error(`status ${status}`);
      if (this.tamper) {
        for (const entry of body.server_keys as JsonObject[]) entry.valid_until_ts = this.#now + 365 * 86_400_000;
      }
      return body;
    }
    throw new Error('not found');
  }
}

/** What a server's configuration says of a notary: its name and its key. */
export function notaryConfig(notary: Identity): { serverName: string; keyId: string; publicKey: string } {
  return { serverName: notary.serverName, keyId: notary.keyId, publicKey: encodeBase64(notary.key.publicKey) };
}

/** Verifies one event three ways: origin up; origin down, notary honest; notary dishonest. */
export async function main(): Promise<void> {
  const now = Date.now();
  const origin: Identity = { serverName: 'origin.example', keyId: 'ed25519:o1', key: SigningKey.generate() };
  const notary: Identity = { serverName: 'notary.example', keyId: 'ed25519:n1', key: SigningKey.generate() };
  const pdu = buildEvent(
    {
      type: 'm.room.message',
      room_id: '!room:origin.example',
      sender: '@alice:origin.example',
      content: { body: 'hello', msgtype: 'm.text' },
      depth: 2,
      prev_events: [`$${'P'.repeat(43)}`],
      auth_events: [`$${'A'.repeat(43)}`],
    },
    getRoomVersion('11'),
    { serverName: origin.serverName, keyId: origin.keyId, key: origin.key, now: () => now },
  ).event;
  const show = (what: string, check: EventCheck) =>
    console.log(`${what}: ${check.result}${check.result === 'invalid' ? ` (${check.reason})` : ''}`);

  const net = new Network(origin, notary, now);
  show(
    'from the origin itself',
    await checkEvent(
      makeKeyring(net, notaryConfig(notary), () => now),
      pdu,
      '11',
    ),
  );
  // The notary fetches and keeps the origin's keys while it is up; then the origin goes down.
  await net.fetchJson(notary.serverName, { method: 'GET', path: `/_matrix/key/v2/query/${origin.serverName}` });
  net.up.delete(origin.serverName);
  show(
    'from the notary, the origin being down',
    await checkEvent(
      makeKeyring(net, notaryConfig(notary), () => now),
      pdu,
      '11',
    ),
  );
  net.tamper = true;
  show(
    "from a notary that altered the origin's keys",
    await checkEvent(
      makeKeyring(net, notaryConfig(notary), () => now),
      pdu,
      '11',
    ),
  );
}
