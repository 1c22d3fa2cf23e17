/**
 * Finding and trusting other servers' keys: the code of
 * docs/server-keys.md, run by test/examples/trust-server-keys.test.ts.
 */
import type { JsonObject } from 'matrix-serverlib/canonicaljson';
import { type EventCheck, verifyEvent } from 'matrix-serverlib/events';
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
import { decodeBase64, type SigningKey, verifyKeyFromBytes } from 'matrix-serverlib/signing';

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
