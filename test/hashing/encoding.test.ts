import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  encodeCanonicalJson,
  encodeCanonicalJsonBytes,
  type JsonObject,
  type JsonValue,
  setOwn,
} from '../../src/canonicaljson/index.js';
import { parseReceived } from '../../src/canonicaljson/parse.js';
import { PduEncoding } from '../../src/hashing/encoding.js';
import { redactEvent } from '../../src/hashing/index.js';
import { getRoomVersion, SPEC_ROOM_VERSIONS } from '../../src/roomversions/index.js';

/**
 * The variants an incoming event is checked against, written out from their
 * definitions with the encoder and the redaction algorithm (each tested on
 * its own against Synapse): the reference the encoding's shortcuts (members
 * assembled once, received bytes sliced) must agree with.
 */
function expected(event: JsonObject, version: string, unsigned: JsonObject) {
  const rules = getRoomVersion(version);
  const numbers = rules.json.numbers;
  const without = (o: JsonObject, keys: string[]) => {
    const out: JsonObject = {};
    for (const k of Object.keys(o)) if (!keys.includes(k)) setOwn(out, k, o[k] as JsonValue);
    return out;
  };
  const stored: JsonObject = without(event, ['unsigned', 'signatures']);
  setOwn(stored, 'signatures', Object.hasOwn(event, 'signatures') ? (event.signatures as JsonValue) : {});
  setOwn(stored, 'unsigned', unsigned);
  const covered = without(event, ['unsigned', 'signatures', 'hashes', 'age_ts', 'outlier', 'destinations']);
  const signed = without(redactEvent(event, rules), ['signatures', 'unsigned']);
  const contentBytes = Buffer.from(encodeCanonicalJson(covered, { numbers }), 'utf8');
  const signingBytes = Buffer.from(encodeCanonicalJson(signed, { numbers }), 'utf8');
  return {
    storedSize: Buffer.byteLength(encodeCanonicalJson(stored, { numbers }), 'utf8'),
    contentBytes,
    contentHash: createHash('sha256').update(contentBytes).digest(),
    signingBytes,
    // The reference hash is SHA-256 of the signed bytes (spec: "Calculating
    // the reference hash for an event").
    referenceHash: createHash('sha256').update(signingBytes).digest(),
  };
}

/** How many leading bytes `a` and `b` have in common. */
function commonPrefix(a: Buffer, b: Buffer): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/** The encoding of `e` received as `bytes`, or as its Canonical JSON. */
function encodingOf(e: JsonObject, version: string, bytes?: Uint8Array): PduEncoding {
  const rules = getRoomVersion(version);
  const numbers = rules.json.numbers;
  const { value, spans } = parseReceived(bytes ?? encodeCanonicalJsonBytes(e, { numbers }), { numbers });
  return new PduEncoding(value as JsonObject, rules, spans);
}

/**
 * Checks every variant `PduEncoding` gives of `e` against its definition,
 * for `e` received as canonical bytes and as bytes canonical only inside
 * (a space after the opening brace: every part encoded again but those
 * recorded); returns whether the canonical bytes were taken apart as
 * received.
 */
function agreesWithDefinitions(e: JsonObject, version: string, unsigned: JsonObject): boolean {
  const want = expected(e, version, unsigned);
  const bytes = encodeCanonicalJsonBytes(e, { numbers: getRoomVersion(version).json.numbers });
  const spaced = Buffer.concat([Buffer.from('{ '), bytes.subarray(1)]);
  let sliced = false;
  for (const input of [bytes, spaced]) {
    const encoding = encodingOf(e, version, input);
    if (input === bytes && encoding.canonicalSpans.bytes(encoding.event) !== undefined) sliced = true;
    expect(encoding.storedSize(unsigned)).toBe(want.storedSize);
    expect(want.contentHash.equals(encoding.contentHash())).toBe(true);
    expect(Buffer.from(encoding.signingBytes()).toString('utf8')).toBe(want.signingBytes.toString('utf8'));
    expect(want.referenceHash.equals(encoding.referenceHash())).toBe(true);
    expect(encoding.referenceHashBase64(true)).toBe(want.referenceHash.toString('base64url'));
    expect(encoding.referenceHashBase64(false)).toBe(want.referenceHash.toString('base64').slice(0, 43));
  }
  return sliced;
}

const text = fc.string({
  unit: fc.constantFrom('a', 'é', '日', '😀', '"', '\\', '\n', '\u0001', '}', ','),
  maxLength: 70,
});
const leaf = fc.oneof(text, fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }), fc.boolean(), fc.constant(null));
const value: fc.Arbitrary<JsonValue> = fc.letrec<{ v: JsonValue }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    leaf,
    fc.array(tie('v'), { maxLength: 5 }),
    fc
      .array(fc.tuple(fc.constantFrom('a', 'b', '@u:x', 'é', '0', '__proto__'), tie('v')), { maxLength: 5 })
      .map(objectOf),
  ),
})).v;

function objectOf(members: [string, JsonValue][]): JsonObject {
  const o: JsonObject = {};
  for (const [k, v] of members) setOwn(o, k, v);
  return o;
}

/** Keys an event may carry: those of the format, old and internal ones, odd ones. */
const TOP_KEYS = [
  'auth_events',
  'prev_events',
  'depth',
  'hashes',
  'origin',
  'origin_server_ts',
  'room_id',
  'sender',
  'signatures',
  'state_key',
  'unsigned',
  'age_ts',
  'outlier',
  'destinations',
  'membership',
  'prev_state',
  'redacts',
  'event_id',
  '__proto__',
  '0',
  '10',
  'é',
];
const CONTENT_KEYS = ['membership', 'body', 'users', 'join_rule', 'allow', 'creator', 'ban', 'redacts', '__proto__'];

const event: fc.Arbitrary<JsonObject> = fc
  .record({
    type: fc.constantFrom('m.room.message', 'm.room.member', 'm.room.power_levels', 'm.room.create', 'x.custom'),
    content: fc.array(fc.tuple(fc.constantFrom(...CONTENT_KEYS), value), { maxLength: 6 }).map(objectOf),
    rest: fc.array(fc.tuple(fc.constantFrom(...TOP_KEYS), value), { maxLength: 12 }),
  })
  .map(({ type, content, rest }) => objectOf([['type', type], ['content', content], ...rest]));

describe('PduEncoding', () => {
  it('gives the stored size, content hash, signed bytes and reference hash of their definitions, from canonical bytes or bytes canonical only inside', () => {
    let sliced = 0;
    fc.assert(
      fc.property(
        event,
        fc.constantFrom(...SPEC_ROOM_VERSIONS),
        fc.constantFrom<JsonObject>({}, { age_ts: 5 }, { invite_room_state: ['é'.repeat(30)] }),
        (e, version, unsigned) => {
          if (agreesWithDefinitions(e, version, unsigned)) sliced++;
        },
      ),
      { numRuns: 800 },
    );
    // Most events were taken apart as received bytes.
    expect(sliced).toBeGreaterThan(400);
  });

  it('agrees with the definitions for large contents, kept whole by redaction or not', () => {
    // A content of several KB that redaction keeps whole (power levels
    // listing users, a v11 create event) makes the content-hash bytes and
    // the signed bytes share their first KB: the encoding hashes those once.
    const users = fc
      .array(fc.tuple(fc.string({ unit: fc.constantFrom('a', 'é', '😀', '"'), maxLength: 12 }), fc.integer()), {
        minLength: 300,
        maxLength: 400,
      })
      .map((pairs) => objectOf(pairs.map(([k, n]) => [`@${k}:x`, n])));
    const large = fc
      .record({
        type: fc.constantFrom('m.room.power_levels', 'm.room.create', 'm.room.join_rules', 'm.room.message'),
        // Keys sorting before "content" that redaction drops end the shared
        // start, so those are rarer here.
        users,
        more: fc.array(fc.tuple(fc.constantFrom('ban', 'body', 'creator', '__proto__'), value), { maxLength: 1 }),
        rest: fc.array(fc.tuple(fc.constantFrom(...TOP_KEYS), value), { maxLength: 5 }),
      })
      .map(({ type, users, more, rest }) =>
        objectOf([['type', type], ['content', objectOf([['users', users], ...more])], ...rest]),
      );
    let shared = 0;
    fc.assert(
      fc.property(large, fc.constantFrom(...SPEC_ROOM_VERSIONS), (e, version) => {
        const want = expected(e, version, {});
        if (commonPrefix(want.contentBytes, want.signingBytes) >= 4096) shared++;
        agreesWithDefinitions(e, version, {});
      }),
      // Seeded: the count of long common starts below depends on the sample.
      { numRuns: 200, seed: 4458 },
    );
    // Many had a long common start, many not.
    expect(shared).toBeGreaterThan(20);
    expect(shared).toBeLessThan(180);
  });
});

describe('PduEncoding.contentHashIs', () => {
  const rules = getRoomVersion('10');
  const e: JsonObject = { type: 'm.room.message', content: { body: 'hi' }, depth: 1, sender: '@a:x' };
  // The content hash from its definition: SHA-256 of the Canonical JSON
  // without `hashes`, `signatures` and `unsigned`.
  const digest = createHash('sha256').update(
    '{"content":{"body":"hi"},"depth":1,"sender":"@a:x","type":"m.room.message"}',
  );
  const bytes = digest.digest();
  const standard = bytes.toString('base64');

  it.each([
    ['unpadded standard Base64', standard.replace(/=+$/, ''), true],
    ['padded', standard, true],
    ['URL-safe', bytes.toString('base64url'), true],
    // Python ignores trailing bits; so does Synapse's unpaddedbase64.
    [
      'other trailing bits',
      standard.slice(0, 42) +
        'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'[
          'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.indexOf(standard[42] as string) ^ 1
        ],
      true,
    ],
    ['another hash', Buffer.alloc(32, 7).toString('base64').replace(/=+$/, ''), false],
    ['a prefix of the hash', standard.slice(0, 40), false],
  ])('%s: %s', (_, claimed, expected) => {
    expect(encodingOf(e, rules.id).contentHashIs(claimed as string)).toBe(expected);
  });

  it('throws for Base64 that cannot be decoded', () => {
    expect(() => encodingOf(e, rules.id).contentHashIs('é'.repeat(43))).toThrow(/Base64|base64|ASCII/);
  });
});
