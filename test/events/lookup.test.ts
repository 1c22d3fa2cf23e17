/**
 * Key lookups of the wrong kind: a lookup is the caller's code, and one
 * that answers something other than keys (an asynchronous lookup where a
 * synchronous one is taken, raw keys, a plain object instead of a map)
 * makes the check `invalid` with a reason naming the mistake, never a
 * TypeError from deep in the check (issue 15).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeCanonicalJsonBytes, type JsonObject } from '../../src/canonicaljson/index.js';
import {
  type AsyncEventKeyLookup,
  buildEvent,
  checkEventSignatures,
  checkIncomingPdu,
  type EventKeyLookup,
  parsePdu,
  verifyEvent,
} from '../../src/events/index.js';
import { Keyring } from '../../src/keys/index.js';
import { getRoomVersion } from '../../src/roomversions/index.js';
import { SigningKey } from '../../src/signing/index.js';

const key = new SigningKey(new Uint8Array(32).fill(9));
const rules = getRoomVersion('10');
const event: JsonObject = buildEvent(
  {
    type: 'm.room.message',
    room_id: '!r:ours.example',
    sender: '@u:ours.example',
    content: { body: 'hi' },
    depth: 1,
    prev_events: [],
    auth_events: [],
  },
  rules,
  { serverName: 'ours.example', keyId: 'ed25519:a', key, now: () => 1.7e12 },
).event;
const pdu = parsePdu(encodeCanonicalJsonBytes(event), rules);

/** The reason of an `invalid` outcome. */
const reasonOf = (check: { result: string; reason?: string }) => {
  expect(check.result).toBe('invalid');
  return check.reason as string;
};

describe('a synchronous lookup answering something other than a key', () => {
  it('names an asynchronous lookup given where a synchronous one is taken (keyring.lookup)', () => {
    const keyring = new Keyring({ local: { serverName: 'ours.example', keys: new Map() } });
    const wrong = keyring.lookup as unknown as EventKeyLookup;
    const reason = reasonOf(checkIncomingPdu(pdu, wrong));
    expect(reason).toMatch(/answer for ed25519:a of ours\.example is a promise/);
    expect(reason).toMatch(/verifyIncomingPdu/);
    expect(reasonOf(checkEventSignatures(event, rules, wrong))).toBe(reason);
  });

  it('names raw key bytes, a bare VerifyKey, and a key without validUntilTs', () => {
    const answers: [unknown, RegExp][] = [
      [{ key: key.publicKey, validUntilTs: Number.POSITIVE_INFINITY }, /is not a key/],
      [key.verifyKey, /is not a key/],
      ['base64', /is not a key/],
      [{ key: key.verifyKey }, /has no numeric validUntilTs/],
      [{ key: key.verifyKey, validUntilTs: '9999999999999' }, /has no numeric validUntilTs/],
    ];
    for (const [answer, message] of answers) {
      const lookup = (() => answer) as unknown as EventKeyLookup;
      const reason = reasonOf(checkIncomingPdu(pdu, lookup));
      expect(reason).toMatch(message);
      expect(reason).not.toMatch(/TypeError|Cannot read|is not a function/);
    }
  });

  it('answers any value with a verdict naming the lookup, never a leaked TypeError', () => {
    fc.assert(
      fc.property(fc.anything(), (answer) => {
        const check = checkIncomingPdu(pdu, (() => answer) as unknown as EventKeyLookup);
        // undefined is "no such key"; anything else that is not a key is named.
        if (answer === undefined) expect(reasonOf(check)).toMatch(/No key of ours\.example/);
        else expect(reasonOf(check)).toMatch(/^The key lookup's answer/);
      }),
    );
  });
});

describe('an asynchronous lookup answering something other than a map of keys', () => {
  it('names a plain object, and a map of bare keys', async () => {
    const object = (async () => ({ 'ed25519:a': { key: key.verifyKey, validUntilTs: 1 } })) as unknown;
    expect(reasonOf(await verifyEvent(event, rules, object as AsyncEventKeyLookup))).toBe(
      "The key lookup's answer for ours.example is not a Map of key IDs to keys",
    );
    const bare = (async () => new Map([['ed25519:a', key.verifyKey]])) as unknown;
    expect(reasonOf(await verifyEvent(event, rules, bare as AsyncEventKeyLookup))).toMatch(
      /answer for ed25519:a of ours\.example is not a key/,
    );
  });

  it('still accepts a good lookup, synchronous or not', async () => {
    const good = { key: key.verifyKey, validUntilTs: Number.POSITIVE_INFINITY };
    expect(checkEventSignatures(event, rules, () => good)).toEqual({ result: 'valid' });
    expect(await verifyEvent(event, rules, async () => new Map([['ed25519:a', good]]))).toEqual({ result: 'valid' });
  });
});
