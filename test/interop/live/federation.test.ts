/**
 * End-to-end federation against a real Synapse on loopback (issue 5: tests
 * with real parts, not mocks). Each test proves one claim with our library
 * on one side and Synapse on the other, over TLS with the test CA:
 *
 * 1. our Keyring fetches Synapse's keys directly and caches them;
 * 2. our Keyring uses Synapse as a notary for our stub's keys, and refuses a
 *    tampered notary answer;
 * 3. Synapse accepts a request our FederationClient signs (signRequest), and
 *    refuses one signed with a wrong key;
 * 4. our verifyRequest accepts a request Synapse signs, and refuses a
 *    tampered copy;
 * 5. we join a room on Synapse over federation (make_join, template check,
 *    signing, send_join v2) in room versions 10 and 12, verify what it sends
 *    back (signatures and auth rules), and Synapse shows us joined and sends
 *    us the room's next event, which we verify; then we leave the same way;
 *    Before leaving, we send a message of our own in a transaction
 *    (sendTransaction), which Synapse accepts and serves to its user;
 * 6. Synapse invites our user: our stub verifies the request and the event,
 *    counter-signs it, and Synapse records the invite (and refuses one we
 *    decline); our user then joins the invite-only room, and the invite in
 *    the join's auth chain carries our counter-signature;
 * 7. we knock on a knock-only room (make_knock, template check, signing,
 *    send_knock), verify the room state Synapse answers, and Synapse shows
 *    the knock.
 *
 * The keyrings fetch keys through the library's FederationClient.keyTransport.
 *
 * "Our" server is the harness's stub (stub.ts) on 127.0.0.3; its key
 * response is built with serverKeysResponse.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { authTypesForEvent, checkEventAuth } from '../../../src/auth/index.js';
import { encodeCanonicalJsonBytes } from '../../../src/canonicaljson/encode.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../../../src/canonicaljson/value.js';
import {
  buildEvent,
  checkIncomingPdu,
  checkMembershipTemplate,
  checkPduFormat,
  type MembershipRequest,
  type Pdu,
  parsePdu,
  signEvent,
  signMembershipTemplate,
  verifyEvent,
} from '../../../src/events/index.js';
import {
  type DestinationResolver,
  FederationClient,
  FederationError,
  type RequestCheck,
  ServerResolver,
  signRequest,
  verifyRequest,
} from '../../../src/federation/index.js';
import { eventId, redactEvent, roomIdOfCreateEvent } from '../../../src/hashing/index.js';
import type { RoomIdString, UserIdString } from '../../../src/identifiers/index.js';
import {
  Keyring,
  type KeyTransport,
  type KeyTransportRequest,
  NotaryKeyFetcher,
  parseKeysBody,
  serverKeysResponse,
  type TrustedNotary,
} from '../../../src/keys/index.js';
import { getRoomVersion, type RoomVersionRules } from '../../../src/roomversions/index.js';
import { encodeBase64, SigningKey, signJson, verifyJson } from '../../../src/signing/index.js';
import { createTestCa } from './certs.js';
import { request, sleep } from './http.js';
import { type FederationStub, type RecordedRequest, startFederationStub } from './stub.js';
import { type RegisteredUser, type Synapse, startSynapse } from './synapse.js';

/** The test CA: issues both servers' certificates; the only CA either side trusts. */
const ca = createTestCa();
let synapse: Synapse | undefined;
let stub: FederationStub | undefined;
let alice: RegisteredUser | undefined;
/** Our FederationClient, signing as the stub. */
let client: FederationClient | undefined;
const clients: FederationClient[] = [];

function running(): { synapse: Synapse; stub: FederationStub; alice: RegisteredUser; client: FederationClient } {
  if (synapse === undefined || stub === undefined || alice === undefined || client === undefined) {
    throw new Error('beforeAll did not start Synapse and the stub');
  }
  return { synapse, stub, alice, client };
}

/**
 * Where to connect for a server name: the library's server discovery. Every
 * server here has an IP-literal name with a port (the spec's step 1), on
 * loopback, which discovery refuses unless allowed: these tests allow it.
 */
const discovery = new ServerResolver({ allow: ['127.0.0.0/8'] });
const resolveServer: DestinationResolver = (serverName) => discovery.resolve(serverName);

/** A FederationClient for the stub's server name, signing with `key` (default the stub's) under `keyId`. */
function federationClient(s: FederationStub, key: SigningKey = s.signingKey, keyId: string = s.keyId) {
  const c = new FederationClient({
    serverName: s.serverName,
    sign: (r) => signRequest(r, keyId, key),
    resolve: resolveServer,
    // The client holds what the resolver gives to its own address policy: loopback, allowed here too.
    allow: ['127.0.0.0/8'],
    ca: ca.certPem,
    timeoutMs: 20_000,
    // A transient failure (a 5xx) must not back Synapse off for the tests after it.
    backoff: { initialMs: 1, maxMs: 1 },
  });
  clients.push(c);
  return c;
}

/** The key transport of the keyrings: the library's own, over our FederationClient. */
function keyTransport(c: FederationClient): KeyTransport {
  return c.keyTransport();
}

/** A transport that records every request and may rewrite the answers (parsed as the keyring parses them). */
function recording(inner: KeyTransport, rewrite?: (body: JsonValue) => JsonValue) {
  const calls: (KeyTransportRequest & { serverName: string })[] = [];
  const transport: KeyTransport = {
    async fetchJson(serverName, r) {
      calls.push({ serverName, ...r });
      const body = await inner.fetchJson(serverName, r);
      if (rewrite === undefined) return body;
      return rewrite(body instanceof Uint8Array ? parseKeysBody(body) : body);
    },
  };
  return { calls, transport };
}

beforeAll(async () => {
  stub = await startFederationStub({ ca });
  const s = stub;
  // Our key response, built by the library (later routes win over the harness's).
  s.route('GET', '/_matrix/key/v2/server', () => ({
    body: serverKeysResponse({
      serverName: s.serverName,
      keys: { [s.keyId]: s.signingKey },
      validUntilTs: Date.now() + 24 * 3_600_000,
    }),
  }));
  // What Synapse sends a server in its rooms: transactions, device list queries.
  s.route('PUT', /^\/_matrix\/federation\/v1\/send\/[^/]+$/, () => ({ body: { pdus: {} } }));
  s.route('GET', /^\/_matrix\/federation\/v1\/user\/devices\/[^/]+$/, (req) => ({
    body: { user_id: decodeURIComponent(req.path.split('/').at(-1) as string), stream_id: 0, devices: [] },
  }));
  s.route('POST', '/_matrix/federation/v1/user/keys/query', () => ({ body: { device_keys: {} } }));
  synapse = await startSynapse({ ca });
  alice = await synapse.registerUser('alice');
  client = federationClient(s);
}, 90_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await synapse?.stop();
  await stub?.close();
});

beforeEach(({ onTestFailed }) => {
  onTestFailed(() => {
    if (synapse !== undefined) console.error(`--- Synapse log tail (${synapse.dir}) ---\n${synapse.logTail(120)}`);
    if (stub !== undefined) {
      console.error(`--- stub requests ---\n${stub.requests.map((r) => `${r.method} ${r.uri}`).join('\n')}`);
    }
  });
});

/** A client-server API call as `user`; the parsed JSON answer, which must be 200. */
async function cs(user: RegisteredUser, method: string, path: string, body?: object): Promise<Record<string, unknown>> {
  const { synapse } = running();
  const res = await request(`${synapse.clientUrl}${path}`, {
    method,
    headers: { Authorization: `Bearer ${user.accessToken}` },
    ...(body !== undefined ? { body } : {}),
    timeoutMs: 30_000,
  });
  if (res.status !== 200) throw new Error(`${method} ${path}: ${res.status} ${res.text()}`);
  return JSON.parse(res.text()) as Record<string, unknown>;
}

/** `user`'s membership in the room as Synapse's client API gives it to `viewer`. */
async function membershipSeenBy(viewer: RegisteredUser, roomId: string, user: string): Promise<unknown> {
  const path = `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/state/m.room.member/${encodeURIComponent(user)}`;
  return (await cs(viewer, 'GET', path)).membership;
}

/** Retries `check` until it returns without throwing, or throws its last error after `timeoutMs`. */
async function eventually<T>(check: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await sleep(200);
    }
  }
}

/** Every `Authorization` header of a recorded request, in order. */
function authorizations(req: RecordedRequest): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    if ((req.rawHeaders[i] as string).toLowerCase() === 'authorization') out.push(req.rawHeaders[i + 1] as string);
  }
  return out;
}

/** Runs our verifyRequest on a request the stub received. */
function verifyIncoming(
  req: RecordedRequest,
  lookup: Keyring['lookup'],
  overrides: { uri?: string; destination?: string; content?: JsonValue } = {},
): Promise<RequestCheck> {
  const { stub } = running();
  const content = 'content' in overrides ? overrides.content : req.json;
  return verifyRequest(
    {
      method: req.method,
      uri: overrides.uri ?? req.uri,
      destination: overrides.destination ?? stub.serverName,
      authorization: authorizations(req),
      ...(content !== undefined ? { content } : {}),
    },
    lookup,
  );
}

function objects(v: JsonValue | undefined, what: string): JsonObject[] {
  if (!Array.isArray(v) || !v.every(isJsonObject)) throw new Error(`${what} is not a list of objects`);
  return v as JsonObject[];
}

// Each test takes well under a second; the limit only bounds a hang (Synapse not answering).
describe('federation with a live Synapse', { timeout: 30_000 }, () => {
  test('1. our Keyring fetches Synapse keys directly over TLS, and caches them', async () => {
    const { synapse, client } = running();
    const { calls, transport } = recording(keyTransport(client));
    const keyring = new Keyring({ transport });

    const keys = await keyring.lookup(synapse.serverName, [synapse.keyId]);
    const key = keys.get(synapse.keyId);
    expect(key, 'Synapse key found').toBeDefined();
    if (key === undefined) return;
    // The key Synapse published is the one the harness gave it.
    expect(encodeBase64(key.key.bytes)).toBe(encodeBase64(synapse.signingKey.publicKey));
    expect(key).toMatchObject({ old: false, fromServer: synapse.serverName });
    expect(key.validUntilTs).toBeGreaterThan(Date.now());
    expect(calls).toEqual([{ serverName: synapse.serverName, method: 'GET', path: '/_matrix/key/v2/server' }]);

    // Cached: no second request, whether asked once or several times at once.
    const again = await Promise.all([
      keyring.lookup(synapse.serverName, [synapse.keyId]),
      keyring.lookup(synapse.serverName, [synapse.keyId]),
    ]);
    for (const k of again)
      expect(encodeBase64(k.get(synapse.keyId)?.key.bytes ?? new Uint8Array())).toBe(
        encodeBase64(synapse.signingKey.publicKey),
      );
    expect(calls).toHaveLength(1);

    // Lookups made at the same time on a cold keyring share one request.
    const cold = recording(keyTransport(client));
    const keyring2 = new Keyring({ transport: cold.transport });
    const three = await Promise.all([1, 2, 3].map(() => keyring2.lookup(synapse.serverName, [synapse.keyId])));
    expect(three.every((k) => k.has(synapse.keyId))).toBe(true);
    expect(cold.calls).toHaveLength(1);
  });

  test('2. our Keyring gets the stub keys through Synapse as a notary, and refuses a tampered answer', async () => {
    const { synapse, stub, client } = running();
    const notary: TrustedNotary = {
      serverName: synapse.serverName,
      verifyKeys: new Map([[synapse.keyId, synapse.signingKey.verifyKey]]),
    };
    const notaryOnly = (transport: KeyTransport, n: TrustedNotary = notary) =>
      new Keyring({ fetchers: [new NotaryKeyFetcher(transport, n)] });
    const ask = () => ({ serverName: stub.serverName, keyIds: [stub.keyId], minimumValidUntilTs: Date.now() + 60_000 });

    const { calls, transport } = recording(keyTransport(client));
    const keys = await notaryOnly(transport).lookup(stub.serverName, [stub.keyId]);
    const key = keys.get(stub.keyId);
    expect(key, 'stub key found through the notary').toBeDefined();
    expect(encodeBase64(key?.key.bytes ?? new Uint8Array())).toBe(encodeBase64(stub.signingKey.publicKey));
    expect(key?.fromServer).toBe(synapse.serverName);
    // One POST to the notary, with minimum_valid_until_ts (Synapse requires it).
    expect(calls).toHaveLength(1);
    const call = calls[0];
    expect(call).toMatchObject({ serverName: synapse.serverName, method: 'POST', path: '/_matrix/key/v2/query' });
    const query = call?.body?.server_keys;
    const criteria = isJsonObject(query) ? query[stub.serverName] : undefined;
    const forKey = isJsonObject(criteria) ? criteria[stub.keyId] : undefined;
    expect(isJsonObject(forKey) && typeof forKey.minimum_valid_until_ts, JSON.stringify(call?.body)).toBe('number');
    // Synapse got them from the stub itself.
    expect(stub.requests.some((r) => r.method === 'GET' && r.path === '/_matrix/key/v2/server')).toBe(true);

    // Tampered answers. Each rewrites the entries of the notary's answer.
    const rewriteEntries = (f: (entry: JsonObject) => JsonObject) => (body: JsonValue) => {
      if (!isJsonObject(body)) return body;
      return { ...body, server_keys: objects(body.server_keys, 'server_keys').map(f) };
    };
    const withoutSynapseSig = (entry: JsonObject): JsonObject => {
      const sigs = { ...(entry.signatures as JsonObject) };
      delete sigs[synapse.serverName];
      return { ...entry, signatures: sigs };
    };
    const mallory = SigningKey.generate();
    const tampered: [string, (entry: JsonObject) => JsonObject, RegExp][] = [
      // Changed in transit: the notary's signature no longer holds.
      [
        're-dated in transit',
        (e) => ({ ...e, valid_until_ts: (e.valid_until_ts as number) + 1 }),
        /signature from .* does not match/,
      ],
      // Changed by the notary itself, which signs the result with its real key:
      // the origin's signature no longer holds.
      [
        'key replaced and re-signed by the notary',
        (e) =>
          signJson(
            withoutSynapseSig({ ...e, verify_keys: { [stub.keyId]: { key: encodeBase64(mallory.publicKey) } } }),
            synapse.serverName,
            synapse.keyId,
            synapse.signingKey,
          ),
        new RegExp(`signature from ${stub.serverName} .* does not match`),
      ],
      [
        'origin signature removed, re-signed by the notary',
        (e) => {
          const sigs = { ...(e.signatures as JsonObject) };
          delete sigs[stub.serverName];
          return signJson(
            withoutSynapseSig({ ...e, signatures: sigs }),
            synapse.serverName,
            synapse.keyId,
            synapse.signingKey,
          );
        },
        /not signed by any of its verify keys/,
      ],
      // The notary's signature stripped: an answer from someone else.
      ['notary signature removed', withoutSynapseSig, /not signed by the notary/],
    ];
    for (const [what, f, why] of tampered) {
      const bad = recording(keyTransport(client), rewriteEntries(f));
      const fetcher = new NotaryKeyFetcher(bad.transport, notary);
      const result = await fetcher.fetch([ask()]);
      expect(result.fetched, what).toEqual([]);
      expect(result.failures.map((x) => x.reason).join('\n'), what).toMatch(why);
      const viaKeyring = await notaryOnly(recording(keyTransport(client), rewriteEntries(f)).transport).lookup(
        stub.serverName,
        [stub.keyId],
      );
      expect(viaKeyring.size, what).toBe(0);
    }
    // A notary whose configured key is not the one it signs with.
    const wrongNotary: TrustedNotary = {
      serverName: synapse.serverName,
      verifyKeys: new Map([[synapse.keyId, mallory.verifyKey]]),
    };
    const result = await new NotaryKeyFetcher(keyTransport(client), wrongNotary).fetch([ask()]);
    expect(result.fetched).toEqual([]);
    expect(result.failures.length).toBeGreaterThan(0);
  });

  test('3. Synapse accepts a request our FederationClient signs, and refuses a wrong key', async () => {
    const { synapse, stub, client } = running();
    const bob = await synapse.registerUser('bob');
    await cs(bob, 'PUT', `/_matrix/client/v3/profile/${encodeURIComponent(bob.userId)}/displayname`, {
      displayname: 'Bob on Synapse',
    });

    const profile = await client.queryProfile(synapse.serverName, bob.userId);
    expect(profile.displayname).toBe('Bob on Synapse');
    const one = await client.queryProfile(synapse.serverName, bob.userId, 'displayname');
    expect(one).toEqual({ displayname: 'Bob on Synapse' });
    // Synapse checked our signature with our key, fetched from the stub.
    expect(stub.requests.some((r) => r.method === 'GET' && r.path === '/_matrix/key/v2/server')).toBe(true);

    const refused = async (c: FederationClient) => {
      const e = await c.queryProfile(synapse.serverName, bob.userId).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(e).toBeInstanceOf(FederationError);
      const fe = e as FederationError;
      expect(fe.code).toBe('remote');
      expect(fe.status).toBe(401);
      expect(fe.remoteErrcode).toBe('M_UNAUTHORIZED');
      return fe;
    };
    // Another key under our key ID: the signature does not verify.
    await refused(federationClient(stub, SigningKey.generate()));
    // A key ID we never published: Synapse finds no key for it.
    await refused(federationClient(stub, SigningKey.generate(), 'ed25519:unpublished'));
    // And the right key still works afterwards.
    expect((await client.queryProfile(synapse.serverName, bob.userId)).displayname).toBe('Bob on Synapse');
  });

  test('4. our verifyRequest accepts a request Synapse signs, and refuses a tampered copy', async () => {
    const { synapse, stub, alice, client } = running();
    const { calls, transport } = recording(keyTransport(client));
    const keyring = new Keyring({ transport });
    const checks: RequestCheck[] = [];
    stub.route('GET', '/_matrix/federation/v1/query/profile', async (req) => {
      const check = await verifyIncoming(req, keyring.lookup);
      checks.push(check);
      if (!check.valid) return { status: 401, body: { errcode: 'M_UNAUTHORIZED', error: check.reason } };
      return { body: { displayname: `Carol (asked by ${check.origin})` } };
    });
    const carol = `@carol:${stub.serverName}`;
    const answer = await cs(alice, 'GET', `/_matrix/client/v3/profile/${encodeURIComponent(carol)}`);
    expect(answer.displayname).toBe(`Carol (asked by ${synapse.serverName})`);
    expect(checks).toEqual([{ valid: true, origin: synapse.serverName }]);
    // The keyring fetched Synapse's key, over TLS, from Synapse.
    expect(calls).toEqual([{ serverName: synapse.serverName, method: 'GET', path: '/_matrix/key/v2/server' }]);

    const got = await stub.waitForRequest(
      (r) => r.path === '/_matrix/federation/v1/query/profile' && r.query.get('user_id') === carol,
      5_000,
    );
    const invalid = async (overrides: Parameters<typeof verifyIncoming>[2]) => {
      const check = await verifyIncoming(got, keyring.lookup, overrides);
      expect(check.valid, JSON.stringify(overrides)).toBe(false);
    };
    await invalid({ uri: got.uri.replace('carol', 'mallory') });
    await invalid({ uri: `${got.uri}&field=displayname` });
    await invalid({ content: { injected: true } });
    await invalid({ destination: '127.0.0.9:8448' });
    // The untouched copy still verifies (from the cache: no new key request).
    expect(await verifyIncoming(got, keyring.lookup)).toEqual({ valid: true, origin: synapse.serverName });
    expect(calls).toHaveLength(1);
  });

  describe.each(['10', '12'])('5. joining a room on Synapse over federation, room version %s', (version) => {
    test('make_join, template check, sign, send_join v2; Synapse shows us joined; a transaction of ours; make_leave, send_leave', async () => {
      const { synapse, stub, alice, client } = running();
      const keyring = new Keyring({ transport: keyTransport(client) });
      const created = await cs(alice, 'POST', '/_matrix/client/v3/createRoom', {
        preset: 'public_chat',
        room_version: version,
        name: `Room v${version}`,
      });
      const roomId = created.room_id as RoomIdString;
      const dave: UserIdString = `@dave_v${version}:${stub.serverName}`;

      const joined = await joinOverFederation(roomId, dave, keyring);
      const { rules, template, membership, state, all } = joined;
      expect(template.room_version).toBe(version);
      // A template that would have us sign something else is refused.
      const evil = { ...template, event: { ...(template.event as JsonObject), state_key: alice.userId } };
      expect(checkMembershipTemplate(evil, membership).valid).toBe(false);
      const banned = { ...template, event: { ...(template.event as JsonObject), content: { membership: 'ban' } } };
      expect(checkMembershipTemplate(banned, membership).valid).toBe(false);
      expect(checkMembershipTemplate(template, { ...membership, supportedVersions: ['9'] }).valid).toBe(false);

      const stateOf = (type: string, key = '') => state.find((e) => e.type === type && e.state_key === key);
      const contentOf = (type: string, key = '') => (stateOf(type, key)?.content ?? {}) as JsonObject;
      expect(contentOf('m.room.join_rules').join_rule).toBe('public');
      expect(contentOf('m.room.member', alice.userId).membership).toBe('join');
      const create = stateOf('m.room.create') as JsonObject;
      expect((create.content as JsonObject).room_version ?? '1').toBe(version);
      if (rules.eventFormat.roomIdIsCreateEventHash) expect(roomIdOfCreateEvent(create, rules)).toBe(roomId);
      // A changed event is caught.
      const forged = { ...create, content: { ...(create.content as JsonObject), forged: true } };
      expect((await verifyEvent(forged, rules, keyring.lookup)).result).not.toBe('valid');

      // Synapse's client API shows our user in the room.
      await eventually(async () => {
        const members = await cs(alice, 'GET', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/joined_members`);
        expect(Object.keys(members.joined as object)).toContain(dave);
      });
      expect(await membershipSeenBy(alice, roomId, dave)).toBe('join');

      // And, as a server in the room, we are sent its next event, which we verify too.
      const sent = await cs(
        alice,
        'PUT',
        `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/txn${version}`,
        { msgtype: 'm.text', body: `hello v${version}` },
      );
      const txn = await stub.waitForRequest(
        (r) =>
          r.method === 'PUT' &&
          r.path.startsWith('/_matrix/federation/v1/send/') &&
          isJsonObject(r.json) &&
          Array.isArray(r.json.pdus) &&
          r.json.pdus.some((p) => isJsonObject(p) && p.room_id === roomId && p.type === 'm.room.message'),
        15_000,
      );
      expect(await verifyIncoming(txn, keyring.lookup)).toEqual({ valid: true, origin: synapse.serverName });
      const pdu = objects((txn.json as JsonObject).pdus, 'pdus').find((p) => p.room_id === roomId) as JsonObject;
      expect(eventId(pdu, rules)).toBe(sent.event_id);
      expect(await verifyEvent(pdu, rules, keyring.lookup)).toEqual({ result: 'valid' });
      // The same with the synchronous path: keys fetched first, then the whole receipt check.
      const lookup = await keyring.prepare([
        {
          serverName: synapse.serverName,
          keyIds: [synapse.keyId],
          minimumValidUntilTs: pdu.origin_server_ts as number,
        },
      ]);
      // A PDU of the transaction, as its own bytes.
      const received = parsePdu(encodeCanonicalJsonBytes(pdu, { numbers: rules.json.numbers }), rules);
      const check = checkIncomingPdu(received, lookup);
      expect(check).toMatchObject({ result: 'valid', eventId: sent.event_id });
      if (check.result === 'invalid') throw new Error(check.reason);
      expect(checkEventAuth(check.event, [...all, joined.event], rules)).toEqual({ allowed: true });

      // A transaction of ours (PUT /send/{txnId}): a message of our user after
      // the one we were sent. Synapse answers an empty result for the PDU (it
      // was accepted) and serves the event to alice.
      const current = [...all.filter((e) => !(e.type === 'm.room.member' && e.state_key === dave)), joined.event];
      const proto: JsonObject = {
        type: 'm.room.message',
        room_id: roomId,
        sender: dave,
        content: { msgtype: 'm.text', body: `hello back v${version}` },
        depth: (pdu.depth as number) + 1,
        prev_events: [sent.event_id as string],
      };
      proto.auth_events = authTypesForEvent(proto, rules).flatMap(([type, key]) => {
        const e = current.find((x) => x.type === type && x.state_key === key);
        return e === undefined ? [] : [eventId(e, rules)];
      });
      const ours = buildEvent(proto, rules, { serverName: stub.serverName, keyId: stub.keyId, key: stub.signingKey });
      const result = await client.sendTransaction(synapse.serverName, `txn-v${version}-${Date.now()}`, [ours.event]);
      expect(result).toEqual({ pdus: { [ours.eventId]: {} } });
      await eventually(async () => {
        const got = await cs(
          alice,
          'GET',
          `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/event/${encodeURIComponent(ours.eventId)}`,
        );
        expect(got).toMatchObject({ sender: dave, content: { body: `hello back v${version}` } });
      });

      // And we leave the same way: make_leave, template check and signing, send_leave v2.
      const leaveTemplate = await client.makeLeave(synapse.serverName, roomId, dave);
      const leave = signMembershipTemplate(
        leaveTemplate,
        { membership: 'leave', roomId, userId: dave, supportedVersions: [version] },
        { serverName: stub.serverName, keyId: stub.keyId, key: stub.signingKey },
      );
      if (!leave.valid) throw new Error(`signMembershipTemplate (leave): ${leave.reason}`);
      await client.sendLeave(synapse.serverName, roomId, leave.eventId, leave.event);
      await eventually(async () => {
        expect(await membershipSeenBy(alice, roomId, dave)).toBe('leave');
      });
    });
  });

  describe.each(['10', '12'])('6. Synapse invites our user, room version %s', (version) => {
    test('we verify the request and the event, counter-sign it, and Synapse records the invite', async () => {
      const { synapse, stub, alice, client } = running();
      const keyring = new Keyring({ transport: keyTransport(client) });
      const erin: UserIdString = `@erin_v${version}:${stub.serverName}`;
      const frank = `@frank_v${version}:${stub.serverName}`;
      const problems: string[] = [];
      const counterSigned = new Map<string, JsonObject>();
      stub.route('PUT', /^\/_matrix\/federation\/v2\/invite\/[^/]+\/[^/]+$/, async (req) => {
        const fail = (why: string) => {
          problems.push(why);
          return { status: 403, body: { errcode: 'M_FORBIDDEN', error: why } };
        };
        const auth = await verifyIncoming(req, keyring.lookup);
        if (!auth.valid) return fail(`request: ${auth.reason}`);
        if (auth.origin !== synapse.serverName) return fail(`request from ${auth.origin}`);
        const body = req.json;
        if (!isJsonObject(body) || !isJsonObject(body.event) || typeof body.room_version !== 'string') {
          return fail('not an invite body');
        }
        const rules = getRoomVersion(body.room_version);
        const event = body.event;
        // /_matrix/federation/v2/invite/{roomId}/{eventId}
        const [, , , , , roomIdPart, eventIdPart] = req.path.split('/');
        const content = event.content;
        if (
          event.type !== 'm.room.member' ||
          !isJsonObject(content) ||
          content.membership !== 'invite' ||
          typeof event.state_key !== 'string' ||
          !event.state_key.endsWith(`:${stub.serverName}`) ||
          typeof event.sender !== 'string' ||
          !event.sender.endsWith(`:${auth.origin}`)
        ) {
          return fail('not an invite of one of our users by a user of the origin');
        }
        if (event.room_id !== decodeURIComponent(roomIdPart ?? '')) return fail('room ID differs from the path');
        const id = eventId(event, rules);
        if (id !== decodeURIComponent(eventIdPart ?? '')) return fail('event ID differs from the path');
        const sig = await verifyEvent(event, rules, keyring.lookup);
        if (sig.result !== 'valid') return fail(`event: ${sig.result}`);
        // Our user frank declines invites.
        if (event.state_key === frank) return { status: 403, body: { errcode: 'M_FORBIDDEN', error: 'declined' } };
        const signed = signEvent(event, rules, stub.serverName, stub.keyId, stub.signingKey);
        counterSigned.set(id, signed);
        return { body: { event: signed } };
      });

      const created = await cs(alice, 'POST', '/_matrix/client/v3/createRoom', {
        preset: 'private_chat',
        room_version: version,
      });
      const roomId = created.room_id as RoomIdString;
      const room = `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}`;
      await cs(alice, 'POST', `${room}/invite`, { user_id: erin });
      expect(problems).toEqual([]);
      expect(counterSigned.size).toBe(1);
      expect(await membershipSeenBy(alice, roomId, erin)).toBe('invite');

      // An invite our side declines is not recorded.
      const res = await request(`${synapse.clientUrl}${room}/invite`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${alice.accessToken}` },
        body: { user_id: frank },
        timeoutMs: 30_000,
      });
      expect(res.status, res.text()).toBe(403);
      expect(problems).toEqual([]);
      const roomState = (await cs(alice, 'GET', `${room}/state`)) as unknown as JsonObject[];
      const members = roomState.filter((e) => e.type === 'm.room.member').map((e) => e.state_key);
      expect(members.sort()).toEqual([alice.userId, erin].sort());

      // Erin accepts by joining over federation. The room is invite-only, so
      // the join is allowed by the invite, which is in its auth chain as
      // Synapse stored it: with our counter-signature.
      const joined = await joinOverFederation(roomId, erin, keyring);
      const rules = joined.rules;
      const invite = joined.all.find(
        (e) => e.type === 'm.room.member' && e.state_key === erin && (e.content as JsonObject).membership === 'invite',
      );
      expect(invite, 'the invite is in the auth chain of our join').toBeDefined();
      if (invite === undefined) return;
      const [inviteId] = [...counterSigned.keys()];
      expect(eventId(invite, rules)).toBe(inviteId);
      const ours = redactEvent(invite, rules);
      expect(verifyJson(ours, stub.serverName, stub.keyId, stub.signingKey.verifyKey)).toEqual({ valid: true });
      expect(verifyJson(ours, synapse.serverName, synapse.keyId, synapse.signingKey.verifyKey)).toEqual({
        valid: true,
      });
      expect((joined.event.auth_events as string[]).includes(inviteId as string)).toBe(true);
      await eventually(async () => {
        expect(await membershipSeenBy(alice, roomId, erin)).toBe('join');
      });
    });
  });

  test('7. we knock on a room on Synapse (make_knock, template check, sign, send_knock), and it records the knock', async () => {
    const { synapse, stub, alice, client } = running();
    const keyring = new Keyring({ transport: keyTransport(client) });
    const created = await cs(alice, 'POST', '/_matrix/client/v3/createRoom', {
      preset: 'private_chat',
      room_version: '10',
      initial_state: [{ type: 'm.room.join_rules', state_key: '', content: { join_rule: 'knock' } }],
    });
    const roomId = created.room_id as RoomIdString;
    const gina: UserIdString = `@gina:${stub.serverName}`;
    const membership: MembershipRequest = { membership: 'knock', roomId, userId: gina, supportedVersions: ['7', '10'] };
    const template = await client.makeKnock(synapse.serverName, roomId, gina, membership.supportedVersions);
    const check = checkMembershipTemplate(template, membership);
    expect(check.valid, check.valid ? '' : check.reason).toBe(true);
    const knock = signMembershipTemplate(template, membership, {
      serverName: stub.serverName,
      keyId: stub.keyId,
      key: stub.signingKey,
    });
    if (!knock.valid) throw new Error(`signMembershipTemplate (knock): ${knock.reason}`);
    const answer = await client.sendKnock(synapse.serverName, roomId, knock.eventId, knock.event);
    // knocks.yaml: knock_room_state, which Synapse sends as full PDUs (MSC4311): we verify them.
    const rules = getRoomVersion('10');
    const stripped = objects(answer.knock_room_state, 'knock_room_state');
    for (const e of stripped) expect(await verifyEvent(e, rules, keyring.lookup)).toEqual({ result: 'valid' });
    const joinRules = stripped.find((e) => e.type === 'm.room.join_rules');
    expect((joinRules?.content as JsonObject | undefined)?.join_rule).toBe('knock');
    await eventually(async () => {
      expect(await membershipSeenBy(alice, roomId, gina)).toBe('knock');
    });
  });
});

/** What {@link joinOverFederation} did and got. */
interface Joined {
  rules: RoomVersionRules;
  template: JsonObject;
  membership: MembershipRequest;
  /** Our signed join event. */
  event: Pdu;
  state: JsonObject[];
  authChain: JsonObject[];
  /** `state` and `authChain`, format-checked. */
  all: Pdu[];
}

/**
 * Joins `userId` (one of the stub's users) to a room on Synapse over
 * federation, as a joining server must: make_join offering 10, 11 and 12;
 * the template checked (checkMembershipTemplate) and signed
 * (signMembershipTemplate); send_join v2; then every event of the answer's
 * state and auth chain verified (verifyEvent, Synapse's key from `keyring`)
 * and checked against the auth rules (checkEventAuth), as is our join.
 */
async function joinOverFederation(roomId: RoomIdString, userId: UserIdString, keyring: Keyring): Promise<Joined> {
  const { synapse, stub, client } = running();
  const supportedVersions = ['10', '11', '12'];
  const template = await client.makeJoin(synapse.serverName, roomId, userId, supportedVersions);
  const membership: MembershipRequest = { membership: 'join', roomId, userId, supportedVersions };
  const check = checkMembershipTemplate(template, membership);
  expect(check.valid, check.valid ? '' : check.reason).toBe(true);
  const signed = signMembershipTemplate(template, membership, {
    serverName: stub.serverName,
    keyId: stub.keyId,
    key: stub.signingKey,
  });
  if (!signed.valid) throw new Error(`signMembershipTemplate: ${signed.reason}`);
  const rules = getRoomVersion(template.room_version ?? '1');

  const answer = await client.sendJoin(synapse.serverName, roomId, signed.eventId, signed.event);
  const state = objects(answer.state, 'state');
  const authChain = objects(answer.auth_chain, 'auth_chain');
  expect(state.length).toBeGreaterThan(0);
  expect(state.some((e) => e.type === 'm.room.create')).toBe(true);

  const all = [...state, ...authChain].map((e) => {
    const format = checkPduFormat(e, rules);
    if (!format.valid) throw new Error(`${e.type as string}: ${format.reason}`);
    return format.pdu;
  });
  for (const e of all) {
    const v = await verifyEvent(e, rules, keyring.lookup);
    expect(v, `${e.type} ${eventId(e, rules)}`).toEqual({ result: 'valid' });
  }
  for (const e of [...all, signed.event]) {
    const auth = checkEventAuth(e, all, rules);
    expect(auth, `${e.type} ${e.state_key}`).toEqual({ allowed: true });
  }
  return { rules, template, membership, event: signed.event, state, authChain, all };
}
