/**
 * Smoke test of the live harness with a real Synapse on loopback: its key
 * response verifies with our signing code; it accepts our stub's TLS
 * certificate and keys (as a notary); and a profile lookup by one of its
 * users makes it send our stub an X-Matrix-signed federation request whose
 * signature our signing code verifies.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { parseJson } from '../../../src/canonicaljson/index.js';
import { isJsonObject, type JsonObject } from '../../../src/canonicaljson/value.js';
import {
  decodeBase64,
  encodeBase64,
  type VerifyKey,
  verifyJson,
  verifyKeyFromBytes,
} from '../../../src/signing/index.js';
import { createTestCa } from './certs.js';
import { request } from './http.js';
import { type FederationStub, type RecordedRequest, startFederationStub } from './stub.js';
import { type Synapse, startSynapse } from './synapse.js';

let synapse: Synapse | undefined;
let stub: FederationStub | undefined;

function running(): { synapse: Synapse; stub: FederationStub } {
  if (synapse === undefined || stub === undefined) throw new Error('beforeAll did not start Synapse and the stub');
  return { synapse, stub };
}

beforeAll(async () => {
  const ca = createTestCa();
  stub = await startFederationStub({ ca });
  synapse = await startSynapse({ ca });
}, 90_000);

afterAll(async () => {
  await synapse?.stop();
  await stub?.close();
});

beforeEach(({ onTestFailed }) => {
  onTestFailed(() => {
    if (synapse !== undefined) console.error(`--- Synapse log tail (${synapse.dir}) ---\n${synapse.logTail()}`);
    if (stub !== undefined) {
      console.error(`--- stub requests ---\n${stub.requests.map((r) => `${r.method} ${r.uri}`).join('\n')}`);
    }
  });
});

/** Parses a JSON response body with our strict parser; it must be an object. */
function jsonObject(body: Buffer): JsonObject {
  const v = parseJson(body);
  if (!isJsonObject(v)) throw new Error(`Expected a JSON object, got ${body.toString('utf8').slice(0, 200)}`);
  return v;
}

/** The public keys in a key response's `verify_keys`. */
function verifyKeysOf(response: JsonObject): Map<string, VerifyKey> {
  const keys = new Map<string, VerifyKey>();
  const vk = response.verify_keys;
  if (!isJsonObject(vk)) throw new Error('verify_keys is not an object');
  for (const [id, entry] of Object.entries(vk)) {
    if (!isJsonObject(entry) || typeof entry.key !== 'string') throw new Error(`verify_keys[${id}] has no key`);
    keys.set(id, verifyKeyFromBytes(decodeBase64(entry.key)));
  }
  return keys;
}

/**
 * The parameters of an `Authorization: X-Matrix ...` header. A small test
 * parser (quoted values with backslash escapes, or bare values); the real
 * one belongs to src/federation.
 */
function xMatrixParams(header: string): Record<string, string> {
  const m = /^X-Matrix\s+(.*)$/i.exec(header.trim());
  if (m === null) throw new Error(`Not an X-Matrix header: ${header}`);
  const params: Record<string, string> = {};
  const re = /\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,]*))\s*(?:,|$)/gy;
  const rest = m[1] as string;
  let p: RegExpExecArray | null;
  while (re.lastIndex < rest.length && (p = re.exec(rest)) !== null) {
    const name = (p[1] as string).toLowerCase();
    params[name] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : (p[3] ?? '').trim();
  }
  return params;
}

describe('live Synapse', () => {
  let synapseKeys: Map<string, VerifyKey> | undefined;

  test('serves a key response signed by its own key over TLS from the test CA', async () => {
    const { synapse } = running();
    const res = await request(`${synapse.federationUrl}/_matrix/key/v2/server`, { ca: synapse.ca.certPem });
    expect(res.status).toBe(200);
    const body = jsonObject(res.body);
    expect(body.server_name).toBe(synapse.serverName);
    expect(typeof body.valid_until_ts === 'number' && body.valid_until_ts > Date.now()).toBe(true);

    const keys = verifyKeysOf(body);
    expect([...keys.keys()]).toEqual([synapse.keyId]);
    expect(encodeBase64((keys.get(synapse.keyId) as VerifyKey).bytes)).toBe(encodeBase64(synapse.signingKey.publicKey));
    for (const [keyId, key] of keys) {
      expect(verifyJson(body, synapse.serverName, keyId, key)).toEqual({ valid: true });
    }
    // The check is not vacuous: a changed field breaks the signature.
    const tampered = { ...body, valid_until_ts: (body.valid_until_ts as number) + 1 };
    expect(verifyJson(tampered, synapse.serverName, synapse.keyId, keys.get(synapse.keyId) as VerifyKey).valid).toBe(
      false,
    );
    synapseKeys = keys;
  });

  test('fetches the stub server keys over TLS from the test CA, as a notary', async () => {
    const { synapse, stub } = running();
    // POST with a key ID: Synapse answers GET /_matrix/key/v2/query/{serverName}
    // (all keys) from its cache only, so on a cold cache that gives `[]`. And
    // Synapse requires minimum_valid_until_ts, which the spec makes optional.
    const res = await request(`${synapse.federationUrl}/_matrix/key/v2/query`, {
      method: 'POST',
      body: { server_keys: { [stub.serverName]: { [stub.keyId]: { minimum_valid_until_ts: Date.now() } } } },
      ca: synapse.ca.certPem,
      timeoutMs: 30_000,
    });
    expect(res.status, res.text()).toBe(200);
    const serverKeys = jsonObject(res.body).server_keys;
    expect(Array.isArray(serverKeys) && serverKeys.length === 1, res.text()).toBe(true);
    const keys = (serverKeys as JsonObject[])[0] as JsonObject;
    expect(keys.server_name).toBe(stub.serverName);
    // Signed by the stub (passed through) and by Synapse as the notary.
    expect(verifyJson(keys, stub.serverName, stub.keyId, stub.signingKey.verifyKey)).toEqual({ valid: true });
    expect(verifyJson(keys, synapse.serverName, synapse.keyId, synapse.signingKey.verifyKey)).toEqual({
      valid: true,
    });
    expect(stub.requests.some((r) => r.method === 'GET' && r.path === '/_matrix/key/v2/server')).toBe(true);
  });

  test('sends the stub a profile query signed with X-Matrix that our signing code verifies', async () => {
    const { synapse, stub } = running();
    stub.route('GET', '/_matrix/federation/v1/query/profile', () => ({
      body: { displayname: 'Someone Remote' },
    }));
    const alice = await synapse.registerUser('alice');
    const someone = `@someone:${stub.serverName}`;

    const res = await request(`${synapse.clientUrl}/_matrix/client/v3/profile/${encodeURIComponent(someone)}`, {
      headers: { Authorization: `Bearer ${alice.accessToken}` },
      timeoutMs: 30_000,
    });
    expect(res.status, res.text()).toBe(200);
    expect(jsonObject(res.body).displayname).toBe('Someone Remote');

    const got: RecordedRequest = await stub.waitForRequest(
      (r) => r.path === '/_matrix/federation/v1/query/profile',
      5_000,
    );
    expect(got.method).toBe('GET');
    expect(got.query.get('user_id')).toBe(someone);
    const authorization = got.headers.authorization;
    expect(authorization).toMatch(/^X-Matrix /);
    const params = xMatrixParams(authorization as string);
    expect(params.origin).toBe(synapse.serverName);
    expect(params.destination).toBe(stub.serverName);
    expect(params.key).toBe(synapse.keyId);

    // The key as fetched from Synapse (first test), or the one we gave it.
    const key = synapseKeys?.get(params.key as string) ?? synapse.signingKey.verifyKey;
    const signed: JsonObject = {
      method: got.method,
      uri: got.uri,
      origin: params.origin as string,
      destination: params.destination as string,
      signatures: { [params.origin as string]: { [params.key as string]: params.sig as string } },
    };
    if (got.body.length > 0) signed.content = got.json ?? null;
    expect(verifyJson(signed, params.origin as string, params.key as string, key)).toEqual({ valid: true });
    // And the signature covers the URI.
    expect(
      verifyJson({ ...signed, uri: `${got.uri}&x=1` }, params.origin as string, params.key as string, key).valid,
    ).toBe(false);
  });

  test('refuses a federation server whose certificate is not from the test CA', async () => {
    const { synapse } = running();
    const stranger = await startFederationStub({ ca: createTestCa({ commonName: 'some other CA' }) });
    try {
      stranger.route('GET', '/_matrix/federation/v1/query/profile', () => ({ body: { displayname: 'Nobody' } }));
      const alice = await synapse.registerUser('alice2');
      const someone = `@someone:${stranger.serverName}`;
      const res = await request(`${synapse.clientUrl}/_matrix/client/v3/profile/${encodeURIComponent(someone)}`, {
        headers: { Authorization: `Bearer ${alice.accessToken}` },
        timeoutMs: 30_000,
      });
      expect(res.status, res.text()).not.toBe(200);
      // The TLS handshake failed, so no HTTP request got through.
      expect(stranger.requests).toEqual([]);
      expect(synapse.logs()).toMatch(/certificate verify failed/);
    } finally {
      await stranger.close();
    }
  });
});
