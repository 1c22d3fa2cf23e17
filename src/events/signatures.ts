/**
 * Signing events and checking their signatures and content hashes (spec:
 * server-server API, "Signing events", "Checks performed on receipt of a
 * PDU"; which servers must sign follows Synapse, as the spec leaves parts
 * of it implicit).
 *
 * @module
 */

import { isJsonObject, type JsonObject, type JsonValue } from '../canonicaljson/value.js';
import { InvalidInputError } from '../errors.js';
import { contentHash } from '../hashing/hashes.js';
import { redactEvent } from '../hashing/redact.js';
import { checkEventSchema, type Pdu } from '../hashing/schema.js';
import type { RoomVersionRules } from '../roomversions/rules.js';
import { decodeBase64, encodeBase64 } from '../signing/base64.js';
import type { SigningKey, VerifyKey } from '../signing/ed25519.js';
import { signedBytes, signJson } from '../signing/signedjson.js';
import { type AbortOptions, raceAbort } from '../util/abort.js';
import { type RequiredSignature, requiredSignatures } from './signers.js';

/**
 * Adds the content hash and our signature to an event, as the spec's
 * "Signing events" says: hash, redact, sign the redacted form, copy the
 * signature back. Existing hashes and signatures are kept.
 *
 * @param event - the event without our signature; not modified.
 * @param rules - the room version's rules.
 * @param serverName - our server name.
 * @param keyId - our key ID, e.g. `ed25519:a_1`.
 * @param key - our signing key.
 * @returns the signed event.
 * @throws {@link InvalidInputError} if the event cannot be encoded as
 *   Canonical JSON under the version's rules, or `keyId` is malformed.
 */
export function signEvent(
  event: JsonObject,
  rules: RoomVersionRules,
  serverName: string,
  keyId: string,
  key: SigningKey,
): JsonObject {
  const numbers = rules.json.numbers;
  const hashes = event.hashes;
  if (hashes !== undefined && !isJsonObject(hashes)) {
    throw new InvalidInputError('M_BAD_JSON', 'The event\'s "hashes" member is not an object');
  }
  const hashed: JsonObject = { ...event, hashes: { ...hashes, sha256: encodeBase64(contentHash(event, rules)) } };
  const signedRedacted = signJson(redactEvent(hashed, rules), serverName, keyId, key, { numbers });
  return { ...hashed, signatures: signedRedacted.signatures as JsonValue };
}

/** A public key and the time until which it may verify events. */
export interface EventVerifyKey {
  /** The key. */
  readonly key: VerifyKey;
  /**
   * Milliseconds since the epoch until which the key is valid;
   * `Number.POSITIVE_INFINITY` for a key valid forever.
   */
  readonly validUntilTs: number;
  /**
   * Whether it is one of the server's `old_verify_keys`: valid for events
   * signed before it expired, never for requests (spec: server-server API,
   * "Retrieving server keys"). Default false.
   */
  readonly old?: boolean;
}

/** Finds the key a server signed with, or `undefined` if unknown. */
export type EventKeyLookup = (serverName: string, keyId: string) => EventVerifyKey | undefined;

/**
 * Why what a lookup gave for a key is not an {@link EventVerifyKey}, or
 * undefined if it is one. A lookup is the caller's code: one of the wrong
 * kind (an asynchronous lookup where a synchronous one is taken, a map of
 * raw keys) must be named as such, not surface as a `TypeError` from deep
 * in the check.
 *
 * @param found - what the lookup gave (not undefined).
 */
export function keyAnswerProblem(found: unknown, serverName: string, keyId: string): string | undefined {
  const what = `The key lookup's answer for ${keyId} of ${serverName}`;
  if (typeof (found as { then?: unknown } | null)?.then === 'function') {
    return `${what} is a promise: this check takes a synchronous lookup (verifyEvent and verifyIncomingPdu take an asynchronous one)`;
  }
  const key = (found as { key?: unknown } | null)?.key;
  if (typeof (key as { verify?: unknown } | null | undefined)?.verify !== 'function') {
    return `${what} is not a key ({ key: VerifyKey, validUntilTs })`;
  }
  if (typeof (found as { validUntilTs?: unknown }).validUntilTs !== 'number') {
    return `${what} has no numeric validUntilTs`;
  }
  return undefined;
}

/**
 * Why what an asynchronous lookup answered for a server is not a map of
 * key IDs to keys, or undefined if it is one (its keys are checked as they
 * are used, by {@link keyAnswerProblem}).
 *
 * @param answer - what the lookup answered.
 */
export function keyMapProblem(answer: unknown, serverName: string): string | undefined {
  return typeof (answer as { get?: unknown } | null | undefined)?.get === 'function'
    ? undefined
    : `The key lookup's answer for ${serverName} is not a Map of key IDs to keys`;
}

/** The outcome of checking an event's signatures and content hash. */
export type EventCheck =
  | {
      /** Signatures and content hash are good: use the event as it is. */
      readonly result: 'valid';
    }
  | {
      /**
       * Signatures are good but the content hash is not: the event must be
       * used in its redacted form, `redacted`.
       */
      readonly result: 'redacted';
      /** Why. */
      readonly reason: string;
      /** The redacted event to use instead. */
      readonly redacted: Pdu;
    }
  | {
      /** A required signature is missing or wrong: reject the event. */
      readonly result: 'invalid';
      /** Why. */
      readonly reason: string;
    };

/**
 * Checks one server's signature on the redacted event the way Synapse's
 * keyring does: every signature under a key we know (and that is valid long
 * enough) must verify, and at least one must.
 */
function checkServer(
  redacted: JsonObject,
  need: RequiredSignature,
  lookup: EventKeyLookup,
  signed: () => Uint8Array,
): string | undefined {
  const signatures = redacted.signatures;
  const mine = isJsonObject(signatures) ? signatures[need.serverName] : undefined;
  const keyIds = isJsonObject(mine)
    ? Object.keys(mine).filter((id) => id === 'ed25519' || id.startsWith('ed25519:'))
    : [];
  if (keyIds.length === 0) return `The event is not signed by ${need.serverName}`;
  let verified = false;
  for (const keyId of keyIds) {
    const found = lookup(need.serverName, keyId);
    if (found === undefined) continue;
    const wrong = keyAnswerProblem(found, need.serverName, keyId);
    if (wrong !== undefined) return wrong;
    if (found.validUntilTs < need.minimumValidUntilTs) continue;
    const encoded = (mine as JsonObject)[keyId];
    if (typeof encoded !== 'string') return `The signature of ${need.serverName} with ${keyId} is not a string`;
    let signature: Uint8Array;
    try {
      signature = decodeBase64(encoded);
    } catch {
      return `The signature of ${need.serverName} with ${keyId} is not Base64`;
    }
    if (!found.key.verify(signed(), signature)) {
      return `The signature of ${need.serverName} with ${keyId} does not match`;
    }
    verified = true;
  }
  return verified ? undefined : `No key of ${need.serverName} valid at ${need.minimumValidUntilTs} signed the event`;
}

/**
 * What the signature check reads of an event: a received PDU's encoding, or
 * the plain definitions ({@link plainSignedForm}).
 */
export interface SignedForm {
  /** The redacted event. */
  redacted(): JsonObject;
  /** The bytes signatures cover: the redacted event's signed bytes. */
  signingBytes(): Uint8Array;
  /**
   * Whether `claimed` (Base64) is the content hash.
   *
   * @throws {@link InvalidInputError} if `claimed` cannot be decoded.
   */
  contentHashIs(claimed: string): boolean;
}

/** The {@link SignedForm} of an event given as a value, from the definitions. */
function plainSignedForm(event: JsonObject, rules: RoomVersionRules): SignedForm {
  let redacted: JsonObject | undefined;
  let signed: Uint8Array | undefined;
  return {
    redacted: () => {
      redacted ??= redactEvent(event, rules);
      return redacted;
    },
    signingBytes() {
      signed ??= signedBytes(this.redacted(), { numbers: rules.json.numbers });
      return signed;
    },
    contentHashIs(claimed) {
      const expected = decodeBase64(claimed);
      const actual = contentHash(event, rules);
      return expected.length === actual.length && expected.every((b, i) => b === actual[i]);
    },
  };
}

/**
 * Checks an event's signatures and content hash as a receiving server must
 * before using it: every server in {@link requiredSignatures} must have
 * signed its redacted form; then the content hash decides between `valid`
 * and `redacted`.
 *
 * @param event - the event as received.
 * @param rules - the room version's rules.
 * @param lookup - finds the public keys of the signing servers.
 * @returns `valid`, `redacted` (with the redacted event to use) or
 *   `invalid`, with a reason. Never throws.
 */
export function checkEventSignatures(event: JsonObject, rules: RoomVersionRules, lookup: EventKeyLookup): EventCheck {
  return checkEventSignaturesOf(event, rules, lookup, plainSignedForm(event, rules));
}

/**
 * {@link checkEventSignatures} reading the signed bytes, the redacted event
 * and the content hash from `form`: the plain definitions, or a received
 * PDU's encoding (which the tests hold to the same answers).
 */
export function checkEventSignaturesOf(
  event: JsonObject,
  rules: RoomVersionRules,
  lookup: EventKeyLookup,
  form: SignedForm,
): EventCheck {
  // Synapse cannot even build an event that fails the schema: such an event
  // is never valid, whatever its signatures.
  const schema = checkEventSchema(event, rules);
  if (!schema.valid) return { result: 'invalid', reason: schema.reason };
  let needs: RequiredSignature[];
  try {
    needs = requiredSignatures(event, rules);
  } catch (e) {
    return { result: 'invalid', reason: e instanceof Error ? e.message : String(e) };
  }
  return checkSignaturesFor(schema.pdu, lookup, form, needs);
}

/**
 * {@link checkEventSignatures} of an event whose schema was checked, given
 * the signatures it needs and what they cover (for the check of a received
 * PDU, whose format check found them).
 */
export function checkSignaturesFor(
  event: Pdu,
  lookup: EventKeyLookup,
  form: SignedForm,
  needs: readonly RequiredSignature[],
): EventCheck {
  let redacted: JsonObject;
  const signed = () => form.signingBytes();
  try {
    redacted = form.redacted();
    for (const need of needs) {
      const problem = checkServer(redacted, need, lookup, signed);
      if (problem !== undefined) return { result: 'invalid', reason: problem };
    }
  } catch (e) {
    return { result: 'invalid', reason: e instanceof Error ? e.message : String(e) };
  }
  const claimed = event.hashes.sha256;
  if (claimed === undefined) return { result: 'invalid', reason: 'The event has no sha256 content hash' };
  let matches: boolean;
  try {
    matches = form.contentHashIs(claimed);
  } catch (e) {
    return { result: 'invalid', reason: e instanceof Error ? e.message : String(e) };
  }
  if (matches) return { result: 'valid' };
  // Redaction keeps every member the schema requires, with its type.
  const use = redacted as Pdu;
  return { result: 'redacted', reason: 'The content hash does not match: use the redacted event', redacted: use };
}

/**
 * Finds the keys a server signed with, possibly over the network: given a
 * server, the key IDs it signed with and the time the keys must be valid
 * until, returns those it knows. A lookup that caches keys should fetch a
 * key again when the cached one is not valid until `minimumValidUntilTs`
 * (as `Keyring.lookup` of matrix-serverlib/keys does); keys found but valid
 * for less may be returned all the same (the signature check skips them).
 *
 * @param serverName - the server.
 * @param keyIds - the key IDs it signed with.
 * @param minimumValidUntilTs - for {@link verifyEvent}, the event's
 *   `origin_server_ts` in room versions that enforce key validity (5 and
 *   later) and 0 before, as Synapse's `_check_sigs_on_pdu` asks; for
 *   `verifyRequest` (matrix-serverlib/federation), the time of the check.
 * @param options - given only when the caller has a signal: the lookup
 *   should stop its fetches for this call when it aborts (as
 *   `Keyring.lookup` does).
 */
export type AsyncEventKeyLookup = (
  serverName: string,
  keyIds: readonly string[],
  minimumValidUntilTs: number,
  options?: AbortOptions,
) => Promise<ReadonlyMap<string, EventVerifyKey>> | ReadonlyMap<string, EventVerifyKey>;

/**
 * Asks `lookup` for the keys each server in `needs` signed `event` with,
 * all servers at once, and gives a synchronous lookup over the answers.
 *
 * @param event - the event.
 * @param needs - the servers that must have signed it (see {@link requiredSignatures}).
 * @param lookup - fetches keys.
 * @param signal - gives up; passed on to the lookup.
 * @returns the lookup, or why the keys could not be had (a lookup that
 *   failed or answered something other than a map). Rejects only with the
 *   signal's reason.
 */
export async function lookUpSigningKeys(
  event: JsonObject,
  needs: readonly RequiredSignature[],
  lookup: AsyncEventKeyLookup,
  signal?: AbortSignal,
): Promise<EventKeyLookup | string> {
  const signatures = isJsonObject(event.signatures) ? event.signatures : {};
  const found = new Map<string, ReadonlyMap<string, EventVerifyKey>>();
  let wrong: string | undefined;
  try {
    const asked = needs.map(async ({ serverName, minimumValidUntilTs }) => {
      const mine = signatures[serverName];
      const keyIds = isJsonObject(mine) ? Object.keys(mine) : [];
      if (keyIds.length === 0) return;
      // The time goes to the lookup so that a keyring holding a key valid
      // now but not at the event's origin_server_ts fetches it again
      // (Synapse's federation_base.py passes the same minimum).
      const answer =
        signal === undefined
          ? await lookup(serverName, keyIds, minimumValidUntilTs)
          : await lookup(serverName, keyIds, minimumValidUntilTs, { signal });
      wrong ??= keyMapProblem(answer, serverName);
      found.set(serverName, answer);
    });
    await raceAbort(Promise.all(asked), signal);
  } catch (e) {
    if (signal?.aborted === true) throw signal.reason;
    return `Key lookup failed: ${e instanceof Error ? e.message : String(e)}`;
  }
  return wrong ?? ((server, keyId) => found.get(server)?.get(keyId));
}

/**
 * {@link checkEventSignatures} with keys fetched on demand: asks `lookup`
 * once per required server, for all the key IDs it signed with and the time
 * they must be valid until (see {@link requiredSignatures}), all servers at
 * once, then checks.
 *
 * @param event - the event as received.
 * @param rules - the room version's rules.
 * @param lookup - fetches keys, e.g. from a keyring.
 * @returns as {@link checkEventSignatures}; a lookup that fails, or answers
 *   something other than a map of keys, makes the event `invalid` with the
 *   failure as reason. Never rejects.
 */
export async function verifyEvent(
  event: JsonObject,
  rules: RoomVersionRules,
  lookup: AsyncEventKeyLookup,
): Promise<EventCheck> {
  let needs: RequiredSignature[];
  try {
    needs = requiredSignatures(event, rules);
  } catch (e) {
    return { result: 'invalid', reason: e instanceof Error ? e.message : String(e) };
  }
  const keys = await lookUpSigningKeys(event, needs, lookup);
  if (typeof keys === 'string') return { result: 'invalid', reason: keys };
  return checkEventSignatures(event, rules, keys);
}
