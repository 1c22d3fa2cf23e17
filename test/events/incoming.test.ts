import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CanonicalSpans,
  encodeCanonicalJson,
  type JsonObject,
  type JsonValue,
  parseJson,
} from '../../src/canonicaljson/index.js';
import { buildEvent, checkIncomingPdu } from '../../src/events/index.js';
import { contentHash, eventId, referenceHash } from '../../src/hashing/index.js';
import { getRoomVersion, SPEC_ROOM_VERSIONS } from '../../src/roomversions/index.js';
import { SigningKey } from '../../src/signing/index.js';

const key = new SigningKey(new Uint8Array(32).fill(9));
const lookup = () => ({ key: key.verifyKey, validUntilTs: Number.POSITIVE_INFINITY });

const text = fc.string({
  unit: fc.constantFrom('a', ' ', 'é', 'д', '日', '😀', '"', '\\', '\n', '\u0001'),
  maxLength: 80,
});
const content: fc.Arbitrary<JsonObject> = fc.record(
  {
    body: text,
    msgtype: fc.constantFrom('m.text', 'm.notice'),
    'm.relates_to': fc.record({ event_id: fc.constant(`$${'E'.repeat(43)}`), rel_type: text }),
    extra: fc.array(fc.oneof(text, fc.integer({ min: -1000, max: 1000 })), { maxLength: 8 }),
  },
  { requiredKeys: ['body', 'msgtype', 'extra'] },
) as fc.Arbitrary<JsonObject>;

function build(version: string, body: JsonObject, type: string): JsonObject {
  const rules = getRoomVersion(version);
  const opaque = rules.eventFormat.eventIdFormat === 'opaque';
  const proto: JsonObject = {
    type,
    room_id: rules.eventFormat.roomIdIsCreateEventHash ? `!${'R'.repeat(43)}` : '!r:ours.example',
    sender: '@u:ours.example',
    content: body,
    depth: 5,
    prev_events: opaque ? [['$p:ours.example', { sha256: 'x' }]] : [`$${'P'.repeat(43)}`],
    auth_events: opaque ? [['$a:ours.example', { sha256: 'x' }]] : [`$${'A'.repeat(43)}`, `$${'B'.repeat(43)}`],
  };
  if (type !== 'm.room.message') proto.state_key = '';
  return buildEvent(proto, rules, { serverName: 'ours.example', keyId: 'ed25519:a', key, now: () => 1.7e12 }).event;
}

/**
 * Variants of a built event's wire text: as built (Canonical JSON), with
 * whitespace (nothing canonical at the top), with the content tampered in
 * place (still canonical text, so the content hash is wrong), and with a
 * signature tampered.
 */
function variants(event: JsonObject): string[] {
  const wire = encodeCanonicalJson(event);
  const body = (event.content as JsonObject).body as string;
  const tampered = { ...event, content: { ...(event.content as JsonObject), body: `${body}!` } };
  const sigs = event.signatures as Record<string, Record<string, string>>;
  const sig = sigs['ours.example']?.['ed25519:a'] as string;
  const forged = {
    ...event,
    signatures: { 'ours.example': { 'ed25519:a': `${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}` } },
  };
  return [wire, wire.replace(/,/g, ', '), encodeCanonicalJson(tampered), encodeCanonicalJson(forged)];
}

describe('checking a received event with the canonical spans of its parse', () => {
  it('gives the same answers, IDs and hashes as encoding every part again, in every room version', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...SPEC_ROOM_VERSIONS),
        content,
        fc.constantFrom('m.room.message', 'm.room.topic', 'm.room.power_levels'),
        (version, body, type) => {
          const rules = getRoomVersion(version);
          const answers = new Set<string>();
          for (const wire of variants(build(version, body, type))) {
            const bytes = Buffer.from(wire, 'utf8');
            const spans = new CanonicalSpans();
            const withSpans = parseJson(bytes, { numbers: rules.json.numbers, canonicalSpans: spans }) as JsonObject;
            const plain = parseJson(bytes, { numbers: rules.json.numbers }) as JsonObject;
            const fast = checkIncomingPdu(withSpans, rules, lookup, { canonicalSpans: spans });
            const slow = checkIncomingPdu(plain, rules, lookup);
            expect(fast).toEqual(slow);
            answers.add(slow.result);
            expect(contentHash(withSpans, rules, spans)).toEqual(contentHash(plain, rules));
            expect(referenceHash(withSpans, rules, spans)).toEqual(referenceHash(plain, rules));
            expect(eventId(withSpans, rules, spans)).toBe(eventId(plain, rules));
          }
          // The variants cover every outcome: valid, redacted and invalid.
          expect([...answers].sort()).toEqual(['invalid', 'redacted', 'valid']);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('names a missing type or content alike with and without spans (found by the fuzzing campaign)', () => {
    for (const version of SPEC_ROOM_VERSIONS) {
      const rules = getRoomVersion(version);
      const event = build(version, { body: 'x', msgtype: 'm.text', extra: [] }, 'm.room.topic');
      for (const missing of ['content', 'type']) {
        const { [missing]: _, ...rest } = event;
        const bytes = Buffer.from(encodeCanonicalJson(rest), 'utf8');
        const spans = new CanonicalSpans();
        const withSpans = parseJson(bytes, { numbers: rules.json.numbers, canonicalSpans: spans }) as JsonObject;
        const fast = checkIncomingPdu(withSpans, rules, lookup, { canonicalSpans: spans });
        const slow = checkIncomingPdu(parseJson(bytes, { numbers: rules.json.numbers }) as JsonObject, rules, lookup);
        expect(slow.result).toBe('invalid');
        expect(fast).toEqual(slow);
      }
    }
  });

  it('refuses a body far too large before any work per member, its members recorded or not (issue 14)', () => {
    // The shape that took 19 s: canonical members (recorded one by one) in
    // a body whose top level is not canonical. Each member's value is read
    // once per use: the check must stop within the first 65,536 / 5.
    const rules = getRoomVersion('10');
    const event = build('10', { body: 'hi', msgtype: 'm.text' }, 'm.room.message');
    const members = Array.from({ length: 40_000 }, (_, i) => `"m${i}":{"v":"é${'x'.repeat(48)}"}`);
    const wire = encodeCanonicalJson(event);
    const bytes = Buffer.from(`{ ${members.join(',')},${wire.slice(1)}`, 'utf8');
    const spans = new CanonicalSpans();
    const parsed = parseJson(bytes, { canonicalSpans: spans }) as JsonObject;
    expect(spans.text(parsed.m7 as object)).toBe(`{"v":"é${'x'.repeat(48)}"}`);
    let reads = 0;
    let listings = 0;
    const counted = new Proxy(parsed, {
      get(target, key, receiver) {
        if (typeof key === 'string' && /^m\d/.test(key)) reads++;
        return Reflect.get(target, key, receiver);
      },
      ownKeys(target) {
        listings++;
        return Reflect.ownKeys(target);
      },
    });
    const check = checkIncomingPdu(counted, rules, lookup, { canonicalSpans: spans });
    expect(check.result).toBe('invalid');
    if (check.result === 'invalid') expect(check.reason).toMatch(/65536/);
    expect(reads).toBeLessThan(65_536 / 5);
    // Its keys listed once, by the bound, and not sorted.
    expect(listings).toBe(1);
  });

  it('takes the received bytes of large parts: a recorded part is not encoded again', () => {
    const rules = getRoomVersion('10');
    const event = build('10', { body: 'x'.repeat(200), msgtype: 'm.text' }, 'm.room.message');
    const bytes = Buffer.from(encodeCanonicalJson(event), 'utf8');
    const spans = new CanonicalSpans();
    const parsed = parseJson(bytes, { canonicalSpans: spans }) as JsonObject;
    const recorded = spans.bytes(parsed.content as object) as Uint8Array;
    expect(recorded.buffer).toBe(bytes.buffer);
    // Were the content encoded again, a value that cannot be encoded would
    // fail; the recorded bytes are taken as they are. (Only a caller
    // breaking the contract changes a parsed value: this shows which text
    // is used, it is not a use to copy.)
    (parsed.content as Record<string, JsonValue>).body = '\ud800';
    expect(checkIncomingPdu(parsed, rules, lookup, { canonicalSpans: spans }).result).toBe('valid');
    expect(checkIncomingPdu(parsed, rules, lookup).result).toBe('invalid');
  });
});
