import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  encodeCanonicalJson,
  JsonFloat,
  type JsonObject,
  type JsonValue,
  parseJson,
  setOwn,
} from '../../src/canonicaljson/index.js';
import { checkFormatFor } from '../../src/events/format.js';
import { buildEvent, checkIncomingPdu, type IncomingCheck, parsePdu, ReceivedPdu } from '../../src/events/index.js';
import { receivedEncoding } from '../../src/events/received.js';
import { contentHash, eventId, redactEvent, referenceHash } from '../../src/hashing/index.js';
import { getRoomVersion, type RoomVersionRules, SPEC_ROOM_VERSIONS } from '../../src/roomversions/index.js';
import { encodeBase64, encodeBase64Url, SigningKey } from '../../src/signing/index.js';
import { errcode } from '../helpers.js';
import { outcome, plainIncomingCheck } from './plain.js';

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

/** `event` in the version's numbers, as Canonical JSON. */
const wire = (event: JsonObject, rules: RoomVersionRules) =>
  encodeCanonicalJson(event, { numbers: rules.json.numbers });

/**
 * Variants of a built event's wire text: as built (Canonical JSON), with
 * whitespace (nothing canonical at the top), with `unsigned` added, with
 * the content tampered in place (still canonical text, so the content hash
 * is wrong), and with a signature tampered.
 */
function variants(event: JsonObject, rules: RoomVersionRules): string[] {
  const canonical = wire(event, rules);
  const body = (event.content as JsonObject).body as string;
  const tampered = { ...event, content: { ...(event.content as JsonObject), body: `${body}!` } };
  const sigs = event.signatures as Record<string, Record<string, string>>;
  const sig = sigs['ours.example']?.['ed25519:a'] as string;
  const forged = {
    ...event,
    signatures: { 'ours.example': { 'ed25519:a': `${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}` } },
  };
  const withUnsigned = { ...event, unsigned: { age: 5, junk: [body, { deep: [body] }] } };
  return [
    canonical,
    canonical.replace(/,/g, ', '),
    wire(withUnsigned, rules),
    wire(tampered, rules),
    wire(forged, rules),
  ];
}

// The definitions, written out here (spec: "Calculating the content hash
// for an event", "Calculating the reference hash for an event", "Event
// IDs"): SHA-256 of the Canonical JSON of the event less some keys.
const without = (o: JsonObject, keys: readonly string[]): JsonObject => {
  const out: JsonObject = {};
  for (const k of Object.keys(o)) if (!keys.includes(k)) setOwn(out, k, o[k] as JsonValue);
  return out;
};
const sha256 = (value: JsonObject, rules: RoomVersionRules) =>
  createHash('sha256')
    .update(encodeCanonicalJson(value, { numbers: rules.json.numbers }), 'utf8')
    .digest();
const definedContentHash = (e: JsonObject, rules: RoomVersionRules) =>
  sha256(without(e, ['unsigned', 'signatures', 'hashes', 'age_ts', 'outlier', 'destinations']), rules);
const definedReferenceHash = (e: JsonObject, rules: RoomVersionRules) =>
  sha256(without(redactEvent(e, rules), ['signatures', 'unsigned']), rules);
function definedEventId(e: JsonObject, rules: RoomVersionRules): string {
  switch (rules.eventFormat.eventIdFormat) {
    case 'opaque':
      return e.event_id as string;
    case 'base64':
      return `$${encodeBase64(definedReferenceHash(e, rules))}`;
    case 'url-safe-base64':
      return `$${encodeBase64Url(definedReferenceHash(e, rules))}`;
  }
}

/** A deep copy of a value tree, not frozen. */
const copy = (v: JsonValue): JsonValue =>
  parseJson(encodeCanonicalJson(v, { numbers: 'legacy' }), { numbers: 'legacy' });

describe('checking a received PDU (parsePdu, checkIncomingPdu)', () => {
  it('gives the answers, IDs and hashes of the plain definitions, in every room version', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...SPEC_ROOM_VERSIONS),
        content,
        fc.constantFrom('m.room.message', 'm.room.topic', 'm.room.power_levels'),
        (version, body, type) => {
          const rules = getRoomVersion(version);
          const answers = new Set<string>();
          for (const w of variants(build(version, body, type), rules)) {
            const bytes = Buffer.from(w, 'utf8');
            const pdu = parsePdu(bytes, rules);
            const plain = parseJson(bytes, { numbers: rules.json.numbers }) as JsonObject;
            const fast = checkIncomingPdu(pdu, lookup);
            const slow = plainIncomingCheck(plain, rules, lookup);
            expect(outcome(fast)).toEqual(outcome(slow));
            answers.add(slow.result);
            expect(encodeBase64(pdu.contentHash())).toBe(encodeBase64(contentHash(plain, rules)));
            expect(encodeBase64(pdu.referenceHash())).toBe(encodeBase64(referenceHash(plain, rules)));
            expect(pdu.eventId()).toBe(eventId(plain, rules));
            expect(Buffer.from(pdu.contentHash()).equals(definedContentHash(plain, rules))).toBe(true);
            expect(pdu.eventId()).toBe(definedEventId(plain, rules));
          }
          // The variants cover every outcome: valid, redacted and invalid.
          expect([...answers].sort()).toEqual(['invalid', 'redacted', 'valid']);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('names a missing type or content alike through parsePdu and the plain definitions (found by the fuzzing campaign)', () => {
    for (const version of SPEC_ROOM_VERSIONS) {
      const rules = getRoomVersion(version);
      const event = build(version, { body: 'x', msgtype: 'm.text', extra: [] }, 'm.room.topic');
      for (const missing of ['content', 'type']) {
        const { [missing]: _, ...rest } = event;
        const bytes = Buffer.from(wire(rest, rules), 'utf8');
        const pdu = parsePdu(bytes, rules);
        const fast = checkIncomingPdu(pdu, lookup);
        const slow = plainIncomingCheck(parseJson(bytes, { numbers: rules.json.numbers }) as JsonObject, rules, lookup);
        expect(slow.result).toBe('invalid');
        expect(fast).toEqual(slow);
        // The content hash is defined without either; the reference hash
        // and the ID are not.
        expect(Buffer.from(pdu.contentHash()).equals(definedContentHash(rest, rules))).toBe(true);
        expect(errcode(() => pdu.eventId())).toBe('M_BAD_JSON');
        expect(errcode(() => pdu.referenceHash())).toBe('M_BAD_JSON');
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
    const bytes = Buffer.from(`{ ${members.join(',')},${wire(event, rules).slice(1)}`, 'utf8');
    const pdu = parsePdu(bytes, rules);
    expect(receivedEncoding(pdu).canonicalSpans.text(pdu.event.m7 as object)).toBe(`{"v":"é${'x'.repeat(48)}"}`);
    let reads = 0;
    let listings = 0;
    const counted = new Proxy(pdu.event, {
      get(target, key, receiver) {
        if (typeof key === 'string' && /^m\d/.test(key)) reads++;
        return Reflect.get(target, key, receiver);
      },
      ownKeys(target) {
        listings++;
        return Reflect.ownKeys(target);
      },
    });
    const check = checkFormatFor(counted, rules, receivedEncoding(pdu), {});
    expect(check).toMatch(/65536/);
    expect(reads).toBeLessThan(65_536 / 5);
    // Its keys listed once, by the bound, and not sorted.
    expect(listings).toBe(1);
    expect(checkIncomingPdu(pdu, lookup)).toMatchObject({ result: 'invalid', reason: expect.stringMatching(/65536/) });
  });

  it('refuses what is not a JSON object, and takes the parser limits', () => {
    const rules = getRoomVersion('10');
    for (const body of ['[]', '"x"', '1', 'null'])
      expect(errcode(() => parsePdu(Buffer.from(body), rules))).toBe('M_BAD_JSON');
    expect(errcode(() => parsePdu(Buffer.from('{"a":1.5}'), rules))).toBe('M_BAD_JSON');
    expect(errcode(() => parsePdu(Buffer.from('{'), rules))).toBe('M_NOT_JSON');
    expect(errcode(() => parsePdu(Buffer.from('{"a":[1,2,3]}'), rules, { maxValues: 3 }))).toBe('M_TOO_LARGE');
    expect(errcode(() => parsePdu(Buffer.from('{"a":[1,2,3]}'), rules, { maxLength: 5 }))).toBe('M_TOO_LARGE');
    // v1–v5 keep every number exactly.
    expect(parsePdu(Buffer.from('{"a":1.5}'), getRoomVersion('5')).event.a).toEqual(new JsonFloat(1.5));
  });
});

describe('a received PDU owns its value and its bytes (issue 15)', () => {
  const rules = getRoomVersion('10');
  const event = build('10', { body: 'привет '.repeat(20), msgtype: 'm.text', extra: [1, 'é'] }, 'm.room.message');

  it('cannot be edited: the edit throws, and an edited copy hashes as itself', () => {
    // The silent wrong answer of issue 15: parse canonical bytes recording
    // the canonical parts, set content.body = "EDITED", and the content
    // hash given the record was that of the bytes as received.
    const pdu = parsePdu(Buffer.from(wire(event, rules), 'utf8'), rules);
    const received = pdu.contentHash();
    expect(() => {
      (pdu.event.content as JsonObject).body = 'EDITED';
    }).toThrow(TypeError);
    expect((pdu.event.content as JsonObject).body).toBe((event.content as JsonObject).body);
    const edited: JsonObject = { ...pdu.event, content: { ...(pdu.event.content as JsonObject), body: 'EDITED' } };
    const hash = contentHash(edited, rules);
    expect(Buffer.from(hash).equals(definedContentHash(edited, rules))).toBe(true);
    expect(Buffer.from(hash).equals(Buffer.from(received))).toBe(false);
    expect(encodeBase64(pdu.contentHash())).toBe(encodeBase64(received));
  });

  it('reads the bytes it was given before it returns: changing them afterwards changes nothing', () => {
    // Up to twice the largest event the bytes are read during the parse
    // only; a larger body (here the rest is unsigned data, which the checks
    // drop) is copied.
    const large = { ...event, unsigned: { junk: 'x'.repeat(140_000) } };
    for (const e of [event, large]) {
      const bytes = Buffer.from(wire(e, rules), 'utf8');
      const pdu = parsePdu(bytes, rules);
      const id = eventId(event, rules);
      bytes.fill(0x20);
      expect(pdu.eventId()).toBe(id);
      expect(checkIncomingPdu(pdu, lookup)).toMatchObject({ result: 'valid', eventId: id });
      expect(Buffer.from(pdu.contentHash()).equals(definedContentHash(event, rules))).toBe(true);
      expect(Buffer.from(pdu.referenceHash()).equals(definedReferenceHash(event, rules))).toBe(true);
    }
  });

  it('gives a new array for each hash, and frozen events in its results', () => {
    const pdu = parsePdu(Buffer.from(wire(event, rules), 'utf8'), rules);
    for (const f of [() => pdu.contentHash(), () => pdu.referenceHash()]) {
      const first = f();
      const kept = encodeBase64(first);
      first.fill(0);
      expect(encodeBase64(f())).toBe(kept);
    }
    expect(Buffer.from(pdu.referenceHash()).equals(definedReferenceHash(event, rules))).toBe(true);
    const tampered = { ...event, content: { body: 'changed', msgtype: 'm.text', extra: [] } };
    const check = checkIncomingPdu(parsePdu(Buffer.from(wire(tampered, rules)), rules), lookup);
    expect(check.result).toBe('redacted');
    if (check.result === 'redacted') {
      expect(Object.isFrozen(check.event)).toBe(true);
      expect(Object.isFrozen(check.event.content)).toBe(true);
      expect(() => {
        (check.event.content as JsonObject).body = 'x';
      }).toThrow(TypeError);
    }
    // Redaction makes new objects inside the content too: a v11 invite
    // keeps third_party_invite.signed in an object of its own.
    const v11 = getRoomVersion('11');
    const invite = {
      ...build('11', { body: 'x', msgtype: 'm.text', extra: [] }, 'm.room.message'),
      type: 'm.room.member',
      state_key: '@u:ours.example',
      content: { membership: 'invite', third_party_invite: { display_name: 'u', signed: { mxid: '@u:ours.example' } } },
    };
    const redacted = checkIncomingPdu(parsePdu(Buffer.from(wire(invite, v11)), v11), lookup);
    expect(redacted.result).toBe('redacted');
    if (redacted.result === 'redacted') {
      expect(redacted.event.content).toEqual({
        membership: 'invite',
        third_party_invite: { signed: { mxid: '@u:ours.example' } },
      });
      for (const o of objectsOf(redacted.event)) expect(Object.isFrozen(o)).toBe(true);
    }
  });

  it('is made by parsePdu only', () => {
    const pdu = parsePdu(Buffer.from(wire(event, rules), 'utf8'), rules);
    const Made = ReceivedPdu as unknown as new (...args: unknown[]) => ReceivedPdu;
    expect(() => new Made(Symbol('parsePdu'), { ...event }, rules, receivedEncoding(pdu))).toThrow(TypeError);
  });
});

/** One public call in a sequence, on the received PDU of the property below. */
type Step =
  | { readonly kind: 'mutate'; readonly at: number; readonly how: number }
  | { readonly kind: 'bytes' }
  | { readonly kind: 'results' }
  | { readonly kind: 'contentHash' | 'referenceHash' | 'eventId' | 'check' | 'plain' | 'copy' };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('mutate' as const), at: fc.nat(), how: fc.nat(7) }),
  fc.constantFrom<Step>(
    { kind: 'bytes' },
    { kind: 'results' },
    { kind: 'contentHash' },
    { kind: 'referenceHash' },
    { kind: 'eventId' },
    { kind: 'check' },
    { kind: 'plain' },
    { kind: 'copy' },
  ),
);

/** Every object and array of a tree, `JsonFloat`s included. */
function objectsOf(root: JsonValue): object[] {
  const out: object[] = [];
  const open: JsonValue[] = [root];
  for (let v = open.pop(); v !== undefined; v = open.pop()) {
    if (typeof v !== 'object' || v === null) continue;
    out.push(v);
    if (Array.isArray(v)) open.push(...v);
    else if (!(v instanceof JsonFloat)) open.push(...Object.values(v));
  }
  return out;
}

/** Tries to change `target` the `how`-th way. */
function mutate(target: object, how: number): void {
  const o = target as Record<string, unknown>;
  const a = target as unknown[];
  const keys = Object.keys(o);
  const k = keys[0] ?? 'k';
  switch (how) {
    case 0:
      o[k] = 'EDITED';
      break;
    case 1:
      o.added = 1;
      break;
    case 2:
      delete o[k];
      break;
    case 3:
      Object.defineProperty(o, k, { value: 'EDITED' });
      break;
    case 4:
      Object.setPrototypeOf(o, null);
      break;
    case 5:
      if (Array.isArray(a)) a.push('EDITED');
      else Object.assign(o, { [k]: 'EDITED' });
      break;
    case 6:
      if (Array.isArray(a)) a.reverse();
      else (o as { value?: number }).value = 7;
      break;
    default:
      if (Array.isArray(a)) a.length = 0;
      else Reflect.set(o, k, 'EDITED');
  }
}

describe('no sequence of public calls hashes anything but the value of the received PDU (issue 15)', () => {
  it('holds every hash, ID and answer to the definitions over the event as it is, whatever was tried before', () => {
    let mutations = 0;
    fc.assert(
      fc.property(
        fc.constantFrom(...SPEC_ROOM_VERSIONS),
        content,
        fc.constantFrom('m.room.message', 'm.room.power_levels'),
        fc.nat(4),
        fc.array(step, { minLength: 1, maxLength: 12 }),
        (version, body, type, variant, steps) => {
          const rules = getRoomVersion(version);
          // A float in the content of versions whose JSON has them.
          const withFloat = Number(version) <= 5 ? { ...body, f: new JsonFloat(1.5) } : body;
          const bytes = Buffer.from(variants(build(version, withFloat, type), rules)[variant] as string, 'utf8');
          const pdu = parsePdu(bytes, rules);
          const snapshot = encodeCanonicalJson(pdu.event, { numbers: 'legacy' });
          const results: (Uint8Array | IncomingCheck)[] = [];
          for (const s of steps) {
            const e = pdu.event;
            switch (s.kind) {
              case 'mutate': {
                const objects = objectsOf(e);
                const target = objects[s.at % objects.length] as object;
                try {
                  mutate(target, s.how);
                } catch (error) {
                  expect(error).toBeInstanceOf(TypeError);
                }
                mutations++;
                break;
              }
              case 'bytes':
                bytes.fill(0x7b);
                break;
              case 'results':
                for (const r of results) {
                  if (r instanceof Uint8Array) r.fill(1);
                  else if (r.result !== 'invalid') {
                    try {
                      mutate(r.event.content, 0);
                    } catch {}
                  }
                }
                break;
              case 'contentHash': {
                const h = pdu.contentHash();
                expect(Buffer.from(h).equals(definedContentHash(e, rules))).toBe(true);
                results.push(h);
                break;
              }
              case 'referenceHash': {
                const h = pdu.referenceHash();
                expect(Buffer.from(h).equals(definedReferenceHash(e, rules))).toBe(true);
                results.push(h);
                break;
              }
              case 'eventId':
                expect(pdu.eventId()).toBe(definedEventId(e, rules));
                break;
              case 'check': {
                const check = checkIncomingPdu(pdu, lookup);
                expect(outcome(check)).toEqual(outcome(plainIncomingCheck(copy(e) as JsonObject, rules, lookup)));
                if (check.result !== 'invalid') expect(check.eventId).toBe(definedEventId(e, rules));
                results.push(check);
                break;
              }
              case 'plain':
                // The plain functions given the received event itself.
                expect(Buffer.from(contentHash(e, rules)).equals(definedContentHash(e, rules))).toBe(true);
                expect(eventId(e, rules)).toBe(definedEventId(e, rules));
                break;
              case 'copy': {
                // An edited copy is a value like any other.
                const edited = copy(e) as JsonObject;
                (edited.content as JsonObject).body = 'EDITED';
                expect(Buffer.from(contentHash(edited, rules)).equals(definedContentHash(edited, rules))).toBe(true);
                expect(eventId(edited, rules)).toBe(definedEventId(edited, rules));
                break;
              }
            }
          }
          // Nothing changed the event.
          expect(encodeCanonicalJson(pdu.event, { numbers: 'legacy' })).toBe(snapshot);
          for (const o of objectsOf(pdu.event)) expect(Object.isFrozen(o)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
    expect(mutations).toBeGreaterThan(100);
  });
});
