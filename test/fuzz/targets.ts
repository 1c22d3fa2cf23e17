/**
 * The fuzzing campaign's targets: each takes hostile input to one public
 * entry and returns the outcome as a short label (`valid`, `M_BAD_JSON`, …)
 * for the tally. A target throws only when the library broke a promise:
 * an exception other than `InvalidInputError` escaped, a function
 * documented as never throwing threw, or two paths that must agree did not
 * (the parser's result re-encoded and parsed again; the check of a received
 * PDU through `parsePdu`, which takes the parts received as Canonical JSON
 * as received, and through the plain definitions).
 */

import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { checkEventAuth, checkSoftFail } from '../../src/auth/index.js';
import {
  encodeCanonicalJson,
  isJsonObject,
  type JsonObject,
  type JsonValue,
  type NumberRules,
  parseJson,
} from '../../src/canonicaljson/index.js';
import { checkIncomingPdu, checkPduFormat, parsePdu, type ReceivedPdu } from '../../src/events/index.js';
import { checkRequestSignature, parseXMatrix } from '../../src/federation/index.js';
import { contentHash, eventId, referenceHash } from '../../src/hashing/index.js';
import { checkNotaryResponse, checkServerKeys, parseKeysBody } from '../../src/keys/index.js';
import { getRoomVersion, type RoomVersionRules } from '../../src/roomversions/index.js';
import { encodeBase64 } from '../../src/signing/index.js';
import { outcome, plainIncomingCheck } from '../events/plain.js';
import { keyring } from './keyring.js';
import { hostileDocuments, mutatedBytes } from './mutate.js';
import {
  authSeeds,
  DESTINATION,
  eventSeeds,
  KEY,
  KEY_ID,
  keySeeds,
  NOTARY,
  NOTARY_KEY,
  NOW,
  ORIGIN,
  requestSeeds,
  VERSIONS,
} from './seeds.js';
import { Broken, type Target, total, typed } from './target.js';

const RULES: readonly NumberRules[] = ['strict', 'legacy'];

/** Strict parsing, and the encoder on what it accepts: a canonical text is a fixed point. */
const json: Target<Uint8Array> = {
  name: 'json',
  input: hostileDocuments([
    ...eventSeeds('1'),
    ...eventSeeds('12'),
    ...keySeeds(),
    '{"a":[1,2,{"b":null}],"c":"\\u00e9\\n"}',
  ]),
  size: (bytes) => bytes.length,
  run(bytes) {
    const labels: string[] = [];
    for (const numbers of RULES) {
      const value = typed(() => parseJson(bytes, { numbers }), 'parseJson');
      if (typeof value === 'string' && value.startsWith('M_')) {
        labels.push(value);
        continue;
      }
      const text = typed(() => encodeCanonicalJson(value as JsonValue, { numbers }), 'encodeCanonicalJson');
      if (text.startsWith('M_')) {
        labels.push(`encode ${text}`);
        continue;
      }
      const again = typed(() => parseJson(text, { numbers }), 'parseJson of a canonical text');
      if (typeof again === 'string' && again.startsWith('M_')) {
        throw new Broken(`The canonical text ${text.slice(0, 200)} does not parse again (${again})`);
      }
      if (!isDeepStrictEqual(again, value)) throw new Broken(`Re-parsing ${text.slice(0, 200)} gives another value`);
      if (encodeCanonicalJson(again as JsonValue, { numbers }) !== text) {
        throw new Broken(`Encoding ${text.slice(0, 200)} again gives another text`);
      }
      labels.push('ok');
    }
    return labels.join('/');
  },
};

const pduLookup = (server: string, keyId: string) =>
  server === ORIGIN && keyId === KEY_ID ? { key: KEY.verifyKey, validUntilTs: Number.POSITIVE_INFINITY } : undefined;

/** One received PDU: its room version and its bytes. */
export interface PduInput {
  readonly version: string;
  readonly bytes: Uint8Array;
}

/**
 * The check of a received PDU (format, signatures, hashes, event ID), once
 * through `parsePdu` (the parts received as Canonical JSON taken as
 * received) and once through the plain definitions: the fast path must give
 * the plain path's answer for every input, and its hashes and ID those of
 * the definitions over its event.
 */
const pdu: Target<PduInput> = {
  name: 'pdu',
  input: fc.oneof(
    ...VERSIONS.map((version) => hostileDocuments(eventSeeds(version)).map((bytes) => ({ version, bytes }))),
  ),
  size: (i) => i.bytes.length,
  run({ version, bytes }) {
    const rules = getRoomVersion(version);
    const fast = typed(() => parsePdu(bytes, rules), 'parsePdu');
    // Boxed: a JSON string is a value, not an errcode.
    const parsed = typed(() => ({ value: parseJson(bytes, { numbers: rules.json.numbers }) }), 'parseJson');
    if (typeof parsed === 'string') {
      if (fast !== parsed) throw new Broken(`parsePdu gives ${String(fast)}, parseJson ${parsed}`);
      return parsed;
    }
    const plain = parsed.value;
    if (!isJsonObject(plain)) {
      if (fast !== 'M_BAD_JSON') throw new Broken(`parsePdu takes a JSON ${typeof plain} as a PDU`);
      return 'not an object';
    }
    if (typeof fast === 'string') throw new Broken(`parsePdu refuses (${fast}) what parseJson takes`);
    const a = total(() => checkIncomingPdu(fast, pduLookup, { receivedTs: NOW }), 'checkIncomingPdu');
    const b = total(() => plainIncomingCheck(plain, rules, pduLookup, { receivedTs: NOW }), 'the plain check');
    if (!isDeepStrictEqual(outcome(a), outcome(b))) {
      throw new Broken(`Through parsePdu: ${JSON.stringify(outcome(a))}; plain: ${JSON.stringify(outcome(b))}`);
    }
    sameHashes(fast, plain);
    // The format check alone must agree: an event the full check takes is well formed.
    const format = total(() => checkPduFormat(plain, rules, { receivedTs: NOW }), 'checkPduFormat');
    if (a.result !== 'invalid' && !format.valid) {
      throw new Broken(`The full check takes an event the format check refuses: ${format.reason}`);
    }
    return a.result;
  },
};

/**
 * The hashes and ID of a received PDU are those of the definitions over its
 * event (or both throw the same error).
 */
function sameHashes(received: ReceivedPdu, event: JsonObject): void {
  const { rules } = received;
  const pairs: [string, () => string, () => string][] = [
    ['contentHash', () => encodeBase64(received.contentHash()), () => encodeBase64(contentHash(event, rules))],
    ['referenceHash', () => encodeBase64(received.referenceHash()), () => encodeBase64(referenceHash(event, rules))],
    ['eventId', () => received.eventId(), () => eventId(event, rules)],
  ];
  for (const [name, fast, plain] of pairs) {
    const a = typed(fast, `ReceivedPdu.${name}`);
    const b = typed(plain, name);
    if (a !== b) throw new Broken(`ReceivedPdu.${name} gives ${a}, ${name} ${b}`);
  }
}

/** An event against a small room: its version, the candidate, and whether the power levels are hostile too. */
export interface AuthInput {
  readonly version: string;
  readonly candidate: Uint8Array;
}

const rooms = new Map(VERSIONS.map((v) => [v, authSeeds(v)]));

/**
 * The auth rules and soft failure on hostile events that pass the format
 * check: a value, or a typed error for auth events not supplied.
 */
const auth: Target<AuthInput> = {
  name: 'auth',
  input: fc.oneof(
    ...VERSIONS.map((version) =>
      hostileDocuments((rooms.get(version) as ReturnType<typeof authSeeds>).candidates).map((candidate) => ({
        version,
        candidate,
      })),
    ),
  ),
  size: (i) => i.candidate.length,
  run({ version, candidate }) {
    const rules: RoomVersionRules = getRoomVersion(version);
    const { room } = rooms.get(version) as ReturnType<typeof authSeeds>;
    const event = typed(() => parseJson(candidate, { numbers: rules.json.numbers }), 'parseJson');
    if (typeof event === 'string') return event;
    if (!isJsonObject(event)) return 'not an object';
    const format = total(() => checkPduFormat(event, rules), 'checkPduFormat');
    if (!format.valid) return 'bad format';
    const result = typed(() => checkEventAuth(format.pdu, room.events, rules), 'checkEventAuth');
    const soft = typed(() => checkSoftFail(format.pdu, room.state, rules), 'checkSoftFail');
    const label = (r: typeof result) => (typeof r === 'string' ? r : r.allowed ? 'allowed' : 'rejected');
    return `${label(result)}/${label(soft)}`;
  },
};

const notary = { serverName: NOTARY, verifyKeys: new Map([['ed25519:n', NOTARY_KEY.verifyKey]]) };

/** Key responses, direct and through a notary: parsed with limits, then checked (never throwing). */
const keys: Target<Uint8Array> = {
  name: 'keys',
  input: hostileDocuments(keySeeds()),
  size: (bytes) => bytes.length,
  run(bytes) {
    const body = typed(() => parseKeysBody(bytes), 'parseKeysBody');
    if (typeof body === 'string' && body.startsWith('M_')) return body;
    const direct = total(() => checkServerKeys(body, { serverName: ORIGIN }), 'checkServerKeys');
    const viaNotary = total(() => checkNotaryResponse(body, notary), 'checkNotaryResponse');
    return `${direct.valid ? 'valid' : 'invalid'}/${viaNotary.valid ? 'valid' : 'invalid'}`;
  },
};

/** A request: one seed's method, URI and body with hostile headers. */
export interface RequestInput {
  readonly seed: number;
  readonly headers: readonly string[];
  readonly uri?: string;
}

const requests = requestSeeds();
const latin1 = new TextDecoder('latin1');
const headerSeeds = requests.map((r) => new TextEncoder().encode(r.header));
const keyLookup = (server: string, keyId: string) =>
  server === ORIGIN && keyId === KEY_ID ? { key: KEY.verifyKey, validUntilTs: Number.POSITIVE_INFINITY } : undefined;

/** X-Matrix: header parsing and request verification on hostile headers and URIs. */
const xmatrix: Target<RequestInput> = {
  name: 'xmatrix',
  input: fc.record(
    {
      seed: fc.nat(requests.length - 1),
      headers: fc.array(
        fc.oneof(
          mutatedBytes(headerSeeds).map((b) => latin1.decode(b)),
          fc.constantFrom(...requests.map((r) => r.header)),
          fc.string({ maxLength: 64 }),
        ),
        { minLength: 1, maxLength: 3 },
      ),
      uri: fc.oneof(fc.constantFrom('/_matrix/federation/v1/version', '/é', '/%00'), fc.string({ maxLength: 32 })),
    },
    { requiredKeys: ['seed', 'headers'] },
  ),
  size: (i) => i.headers.reduce((n, h) => n + h.length, 0),
  run({ seed, headers, uri }) {
    const labels = headers.map((h) => {
      const parsed = typed(() => parseXMatrix(h), 'parseXMatrix');
      return typeof parsed === 'string' ? parsed : 'parsed';
    });
    const { request } = requests[seed] as (typeof requests)[number];
    const check = typed(
      () =>
        checkRequestSignature(
          {
            method: request.method,
            uri: uri ?? request.uri,
            destination: DESTINATION,
            authorization: headers,
            ...(request.content === undefined ? {} : { content: request.content }),
          },
          keyLookup,
          { now: NOW },
        ),
      'checkRequestSignature',
    );
    return `${labels.join(',')}→${typeof check === 'string' ? check : check.valid ? 'valid' : 'invalid'}`;
  },
};

/** Every target, by name. */
export const TARGETS: readonly Target<never>[] = [
  json,
  pdu,
  auth,
  keys,
  xmatrix,
  keyring,
] as unknown as Target<never>[];
