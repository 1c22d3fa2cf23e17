import { describe, expect, it } from 'vitest';
import { receivePdu, receiveTransaction } from '../../examples/verify-incoming-pdu.ts';
import { encodeCanonicalJsonBytes, type JsonObject } from '../../src/canonicaljson/index.js';
import { buildEvent } from '../../src/events/index.js';
import { getRoomVersion } from '../../src/roomversions/index.js';
import { SigningKey } from '../../src/signing/index.js';

const key = new SigningKey(new Uint8Array(32).fill(11));
const keys = async (server: string) =>
  new Map(server === 'remote.example' ? [['ed25519:k', { key: key.verifyKey, validUntilTs: 2e12 }]] : []);

function pdu(roomVersion: string, content: JsonObject = { body: 'hello' }): JsonObject {
  return buildEvent(
    {
      type: 'm.room.message',
      room_id: '!r:remote.example',
      sender: '@a:remote.example',
      content,
      depth: 4,
      prev_events: [`$${'P'.repeat(43)}`],
      auth_events: [`$${'C'.repeat(43)}`],
    },
    getRoomVersion(roomVersion),
    { serverName: 'remote.example', keyId: 'ed25519:k', key, now: () => 1.7e12 },
  ).event;
}

describe('the guide "verifying an event received over federation"', () => {
  it('accepts a genuine event and gives its ID', async () => {
    const r = await receivePdu(encodeCanonicalJsonBytes(pdu('10')), '10', keys);
    expect(r).toMatchObject({
      accepted: true,
      redacted: false,
      eventId: expect.stringMatching(/^\$[A-Za-z0-9_-]{43}$/),
    });
  });

  it('keeps the redacted form of an event whose content was changed', async () => {
    const original = pdu('10');
    const changed = { ...original, content: { body: 'changed' } };
    const r = await receivePdu(encodeCanonicalJsonBytes(changed), '10', keys);
    expect(r).toMatchObject({ accepted: true, redacted: true });
    if (r.accepted) expect(r.event.content).toEqual({});
  });

  it('rejects forged signatures, bad JSON, malformed events and unknown versions', async () => {
    const forged = { ...pdu('10'), depth: 5 };
    expect((await receivePdu(encodeCanonicalJsonBytes(forged), '10', keys)).accepted).toBe(false);
    expect((await receivePdu(new TextEncoder().encode('{"a":1.5}'), '10', keys)).accepted).toBe(false);
    expect((await receivePdu(new TextEncoder().encode('[]'), '10', keys)).accepted).toBe(false);
    expect((await receivePdu(encodeCanonicalJsonBytes({ ...pdu('10'), depth: -1 }), '10', keys)).accepted).toBe(false);
    await expect(receivePdu(encodeCanonicalJsonBytes(pdu('10')), '99', keys)).rejects.toThrow(/not supported/);
  });

  it('checks the PDUs of a transaction, with the same answers as one by one', async () => {
    const genuine = pdu('10', { body: 'привет 😀 '.repeat(20) });
    const changed = { ...pdu('10'), content: { body: 'changed' } };
    const forged = { ...pdu('10'), depth: 5 };
    const body = encodeCanonicalJsonBytes({
      origin: 'remote.example',
      origin_server_ts: 1.7e12,
      pdus: [genuine, changed, forged],
    });
    const held = (server: string, keyId: string) =>
      server === 'remote.example' && keyId === 'ed25519:k' ? { key: key.verifyKey, validUntilTs: 2e12 } : undefined;
    const answers = receiveTransaction(body, '10', held);
    expect(answers.map((a) => (a.accepted ? (a.redacted ? 'redacted' : 'valid') : 'rejected'))).toEqual([
      'valid',
      'redacted',
      'rejected',
    ]);
    for (const [i, one] of [genuine, changed, forged].entries()) {
      const alone = await receivePdu(encodeCanonicalJsonBytes(one), '10', keys);
      const a = answers[i];
      expect(a?.accepted).toBe(alone.accepted);
      if (a?.accepted && alone.accepted) {
        expect(a.eventId).toBe(alone.eventId);
        expect(a.event).toEqual(alone.event);
      }
    }
  });
});
