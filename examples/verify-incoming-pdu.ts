/**
 * Verifying a PDU received over federation: the code of
 * docs/verifying-events.md, run by test/examples.test.ts. `npm run
 * example -- verify-incoming-pdu` receives an event as sent, altered and
 * forged.
 */
import {
  encodeCanonicalJsonBytes,
  InvalidInputError,
  isJsonObject,
  type JsonObject,
  parseJson,
} from 'matrix-serverlib/canonicaljson';
import {
  type AsyncEventKeyLookup,
  buildEvent,
  checkIncomingPdu,
  checkPduFormat,
  type EventKeyLookup,
  parsePdu,
  type ReceivedPdu,
  verifyEvent,
} from 'matrix-serverlib/events';
import { eventId } from 'matrix-serverlib/hashing';
import { getRoomVersion } from 'matrix-serverlib/roomversions';
import { SigningKey } from 'matrix-serverlib/signing';

/** What became of a received PDU. */
export type Received =
  | { accepted: true; eventId: string; event: JsonObject; redacted: boolean }
  | { accepted: false; reason: string };

/**
 * Takes the bytes of one PDU as received (for example one entry of a
 * transaction's `pdus`, re-encoded, or the body of `/event`), the room's
 * version, and a way to find the signing servers' keys.
 */
export async function receivePdu(body: Uint8Array, roomVersion: string, keys: AsyncEventKeyLookup): Promise<Received> {
  // 1. The room version decides the rules; an unknown one is refused.
  const rules = getRoomVersion(roomVersion);

  // 2. Parse once, with the version's number rules. Everything below is
  //    derived from this value, never from the bytes (MSC4458).
  let parsed: unknown;
  try {
    parsed = parseJson(body, { numbers: rules.json.numbers });
  } catch (e) {
    if (e instanceof InvalidInputError) return { accepted: false, reason: `${e.errcode}: ${e.message}` };
    throw e;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { accepted: false, reason: 'not a JSON object' };
  }
  const event = parsed as JsonObject;

  // 3. Format: required keys, sizes, identifiers, version-specific rules.
  const format = checkPduFormat(event, rules);
  if (!format.valid) return { accepted: false, reason: format.reason };

  // 4. Signatures of every server that must have signed, then the content hash.
  const check = await verifyEvent(event, rules, keys);
  if (check.result === 'invalid') return { accepted: false, reason: check.reason };

  // 5. A wrong content hash with good signatures means: keep the redacted form.
  const kept = check.result === 'redacted' ? check.redacted : event;
  return { accepted: true, eventId: eventId(kept, rules), event: kept, redacted: check.result === 'redacted' };
}

/**
 * Checks every PDU of a received transaction body (`PUT /send`) in one room
 * of version `roomVersion`, with keys already held (`keys` is synchronous:
 * fetch what is missing first, for example with the keyring's `prepare`).
 * Each PDU goes through `parsePdu` and `checkIncomingPdu`, which take the
 * parts that arrived as Canonical JSON as they arrived.
 */
export function receiveTransaction(body: Uint8Array, roomVersion: string, keys: EventKeyLookup): Received[] {
  const rules = getRoomVersion(roomVersion);
  const numbers = rules.json.numbers;
  let txn: unknown;
  try {
    txn = parseJson(body, { numbers });
  } catch (e) {
    if (e instanceof InvalidInputError) return [{ accepted: false, reason: `${e.errcode}: ${e.message}` }];
    throw e;
  }
  if (!isJsonObject(txn) || !Array.isArray(txn.pdus)) return [{ accepted: false, reason: 'not a transaction' }];
  return txn.pdus.map((value): Received => {
    // A PDU of the transaction is a value of its parse: its Canonical JSON
    // is the bytes parsePdu takes (one encoding, which the check then never
    // repeats).
    let pdu: ReceivedPdu;
    try {
      pdu = parsePdu(encodeCanonicalJsonBytes(value, { numbers }), rules);
    } catch (e) {
      if (e instanceof InvalidInputError) return { accepted: false, reason: `${e.errcode}: ${e.message}` };
      throw e;
    }
    const check = checkIncomingPdu(pdu, keys, { receivedTs: Date.now() });
    if (check.result === 'invalid') return { accepted: false, reason: check.reason };
    return { accepted: true, eventId: check.eventId, event: check.event, redacted: check.result === 'redacted' };
  });
}

/** Receives one event as sent, with its content altered on the way, and with its signature forged. */
export async function main(): Promise<void> {
  const key = SigningKey.generate();
  const keys: AsyncEventKeyLookup = async (server) =>
    new Map(
      server === 'remote.example' ? [['ed25519:k', { key: key.verifyKey, validUntilTs: Date.now() + 3_600_000 }]] : [],
    );
  const { event } = buildEvent(
    {
      type: 'm.room.message',
      room_id: '!r:remote.example',
      sender: '@a:remote.example',
      content: { body: 'hello', msgtype: 'm.text' },
      depth: 4,
      prev_events: [`$${'P'.repeat(43)}`],
      auth_events: [`$${'C'.repeat(43)}`],
    },
    getRoomVersion('10'),
    { serverName: 'remote.example', keyId: 'ed25519:k', key },
  );
  const signatures = event.signatures as Record<string, Record<string, string>>;
  const forged = { ...signatures['remote.example'], 'ed25519:k': 'A'.repeat(86) };
  const variants: [string, JsonObject][] = [
    ['as sent', event],
    ['content altered', { ...event, content: { body: 'hello!', msgtype: 'm.text' } }],
    ['signature forged', { ...event, signatures: { 'remote.example': forged } }],
  ];
  for (const [what, pdu] of variants) {
    const r = await receivePdu(encodeCanonicalJsonBytes(pdu), '10', keys);
    console.log(
      `${what}: ${r.accepted ? `accepted${r.redacted ? ' redacted' : ''} as ${r.eventId}` : `refused: ${r.reason}`}`,
    );
  }
}
