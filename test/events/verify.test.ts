/**
 * verifyIncomingPdu: the one-call check of a received PDU with a keyring.
 * It must give what checkIncomingPdu gives with the right keys at hand (the
 * keys served by a fake origin, signed independently with libsodium), ask
 * for every server that must sign at once with the time the room version
 * asks, turn a failing or wrong lookup into `invalid` with a clear reason,
 * and give up with a signal.
 */
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../../src/canonicaljson/index.js';
import { encodeCanonicalJsonBytes } from '../../src/canonicaljson/index.js';
import { buildEvent, checkIncomingPdu, parsePdu, signEvent, verifyIncomingPdu } from '../../src/events/index.js';
import { Keyring } from '../../src/keys/index.js';
import { getRoomVersion } from '../../src/roomversions/index.js';
import { FakeClock, FakeTransport, key, response, settle } from '../keys/helpers.js';

const OURS = key(1);
const THEIRS = key(2);
const T0 = 1_700_000_000_000;
const DAY = 86_400_000;
const rules = getRoomVersion('10');

/** The PDU as received: its Canonical JSON, parsed. */
const received = (event: JsonObject) => parsePdu(encodeCanonicalJsonBytes(event), rules);

function message(body = 'hi'): JsonObject {
  return buildEvent(
    {
      type: 'm.room.message',
      room_id: '!r:ours.example',
      sender: '@u:ours.example',
      content: { body },
      depth: 1,
      prev_events: [],
      auth_events: [],
    },
    rules,
    { serverName: 'ours.example', keyId: 'ed25519:a', key: OURS, now: () => T0 },
  ).event;
}

/** A keyring whose transport serves each server's keys (valid for a day), recording the requests. */
function keyringFor(...servers: [string, typeof OURS][]) {
  const clock = new FakeClock(T0);
  const t = new FakeTransport();
  for (const [name, k] of servers) t.on(name, () => response(name, { 'ed25519:a': k }, T0 + DAY));
  return { t, keyring: new Keyring({ transport: t, now: clock.now }) };
}

describe('verifyIncomingPdu', () => {
  it('with a keyring: what checkIncomingPdu gives with the keys at hand', async () => {
    const event = message();
    const { t, keyring } = keyringFor(['ours.example', OURS]);
    const check = await verifyIncomingPdu(received(event), keyring);
    const expected = checkIncomingPdu(received(event), () => ({
      key: OURS.verifyKey,
      validUntilTs: Number.POSITIVE_INFINITY,
    }));
    expect(expected.result).toBe('valid');
    expect(check).toEqual(expected);
    expect(t.calls).toEqual([{ server: 'ours.example', method: 'GET', path: '/_matrix/key/v2/server' }]);
    // The content tampered after signing: to be used redacted.
    const tampered = { ...event, content: { body: 'edited' } };
    expect((await verifyIncomingPdu(received(tampered), keyring)).result).toBe('redacted');
    // Signed by a key that is not the server's.
    const forged = buildEvent({ ...event }, rules, {
      serverName: 'ours.example',
      keyId: 'ed25519:a',
      key: THEIRS,
      now: () => T0,
    }).event;
    expect(await verifyIncomingPdu(received(forged), keyring)).toEqual({
      result: 'invalid',
      reason: 'The signature of ours.example with ed25519:a does not match',
    });
  });

  it('asks for every server that must sign, at once, with the time the room version asks', async () => {
    // A restricted join (v8+): the joining server and the authorising one must both sign.
    const draft = {
      type: 'm.room.member',
      state_key: '@u:ours.example',
      room_id: '!r:theirs.example',
      sender: '@u:ours.example',
      content: { membership: 'join', join_authorised_via_users_server: '@admin:theirs.example' },
      depth: 1,
      prev_events: [],
      auth_events: [],
      origin_server_ts: T0,
    };
    const join = signEvent(
      signEvent(draft, rules, 'ours.example', 'ed25519:a', OURS),
      rules,
      'theirs.example',
      'ed25519:a',
      THEIRS,
    );
    const asked: unknown[] = [];
    const { keyring } = keyringFor(['ours.example', OURS], ['theirs.example', THEIRS]);
    const spy = (server: string, keyIds: readonly string[], minimum: number) => {
      asked.push([server, keyIds, minimum]);
      return keyring.lookup(server, keyIds, minimum);
    };
    expect((await verifyIncomingPdu(received(join), spy)).result).toBe('valid');
    // From v5 the key must be valid at the event's origin_server_ts.
    expect(asked).toEqual([
      ['ours.example', ['ed25519:a'], T0],
      ['theirs.example', ['ed25519:a'], T0],
    ]);
  });

  it('makes a failing or wrong lookup `invalid` with a clear reason; a malformed event is named as such', async () => {
    const event = message();
    const down = async () => {
      throw new Error('notary down');
    };
    expect(await verifyIncomingPdu(received(event), down)).toEqual({
      result: 'invalid',
      reason: 'Key lookup failed: notary down',
    });
    const object = { lookup: async () => ({ 'ed25519:a': { key: OURS.verifyKey, validUntilTs: T0 + DAY } }) };
    expect(await verifyIncomingPdu(received(event), object as never)).toEqual({
      result: 'invalid',
      reason: "The key lookup's answer for ours.example is not a Map of key IDs to keys",
    });
    const malformed = { ...event, depth: 'deep' };
    const check = await verifyIncomingPdu(received(malformed), down);
    expect(check.result).toBe('invalid');
    expect((check as { reason: string }).reason).not.toMatch(/Key lookup/);
  });

  it('gives up with a signal, rejecting with its reason and aborting the keyring fetch', async () => {
    const clock = new FakeClock(T0);
    const t = new FakeTransport().on(
      'ours.example',
      (_req, { signal }) =>
        new Promise((_resolve, reject) => signal?.addEventListener('abort', () => reject(signal.reason))),
    );
    const keyring = new Keyring({ transport: t, now: clock.now });
    const controller = new AbortController();
    const pending = verifyIncomingPdu(received(message()), keyring, { signal: controller.signal });
    await settle();
    const reason = new Error('transaction dropped');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    expect(t.signals[0]?.aborted).toBe(true);
    await expect(verifyIncomingPdu(received(message()), keyring, { signal: AbortSignal.abort(reason) })).rejects.toBe(
      reason,
    );
  });
});
