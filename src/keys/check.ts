/**
 * Checking a server's published keys (spec: server-server API, "Retrieving
 * server keys"), as fetched from `GET /_matrix/key/v2/server` or as one
 * entry of a notary's `POST /_matrix/key/v2/query` answer.
 *
 * The spec says what a response holds but not exactly how to check it;
 * Synapse's `ServerKeyFetcher` (`process_v2_response`) and
 * `PerspectivesKeyFetcher` decide what the network accepts, and this module
 * accepts exactly what they accept:
 *
 * - `server_name` must be the server asked about.
 * - Every entry of `verify_keys` under an `ed25519:` key ID must hold a key
 *   that decodes (Base64 read leniently, as Synapse does) to 32 bytes;
 *   entries of other algorithms are ignored.
 * - The response must carry the origin's signature by one of those keys.
 *   Only the first signature, in the order of the origin's `signatures`
 *   object, whose key ID is among them is checked: if it is wrong the
 *   response is refused, if it is right no other is looked at. Signatures
 *   by other keys (an old key, a notary's key) are skipped.
 * - `old_verify_keys`, if present, must hold for each `ed25519:` key ID a
 *   key that decodes to 32 bytes and an `expired_ts`. An old key is valid
 *   until its `expired_ts`, and replaces a current key of the same ID.
 * - `valid_until_ts` must be present, and each key's validity (the
 *   response's `valid_until_ts`, or `expired_ts`) an integer in 64 bits, the
 *   column Synapse stores it in; the whole response must be encodable as
 *   Canonical JSON (numbers as Synapse encodes them), as Synapse stores it.
 *
 * A response may list thousands of keys, and only the keys that sign it
 * or that a lookup asks for are ever used: each listed key is decoded and
 * measured (as Synapse does), but its key object is built only when it
 * first verifies (see {@link VerifyKey}), and it is not put in the shared
 * cache of verify keys, so that a hostile response neither costs a key
 * object per entry nor pushes the keys in use out of that cache.
 *
 * The time plays no part: a response whose `valid_until_ts` has passed still
 * proves its keys for what was signed before then (Synapse takes it the
 * same). How long a keyring trusts a key is the keyring's policy
 * (see {@link Keyring}).
 *
 * @module
 */

import { encodeCanonicalJson } from '../canonicaljson/encode.js';
import { parseJson } from '../canonicaljson/parse.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../canonicaljson/value.js';
import { InvalidInputError } from '../errors.js';
import { decodeBase64 } from '../signing/base64.js';
import { PUBLIC_KEY_LENGTH, VerifyKey } from '../signing/ed25519.js';
import { verifyJson } from '../signing/signedjson.js';
import { own, SIGNED_JSON } from './json.js';
// biome-ignore lint/correctness/noUnusedImports: for TSDoc links.
import type { Keyring } from './keyring.js';

/** A key a server published, as a checked response proves it. */
export interface ServerVerifyKey {
  /** The public key. */
  readonly key: VerifyKey;
  /**
   * Milliseconds since the epoch until which the key may be used: the
   * response's `valid_until_ts` for a current key, its `expired_ts` for an
   * old key. Integers beyond 2^53 (far beyond any real time) are rounded.
   */
  readonly validUntilTs: number;
  /**
   * Whether the key came from `old_verify_keys`: the spec allows old keys
   * for events only, not for signing requests.
   */
  readonly old: boolean;
}

/** The outcome of checking a server keys response. */
export type ServerKeysCheck =
  | {
      /** The response is genuine. */
      readonly valid: true;
      /** The server whose keys these are. */
      readonly serverName: string;
      /**
       * The response's `valid_until_ts` (rounded beyond 2^53);
       * `-Infinity` if it is not an integer, which only a response whose
       * every current key is also listed as old can get away with.
       */
      readonly validUntilTs: number;
      /** The keys the response proves, by key ID. */
      readonly verifyKeys: ReadonlyMap<string, ServerVerifyKey>;
      /** The response itself, as checked. */
      readonly response: JsonObject;
    }
  | {
      /** The response proves nothing. */
      readonly valid: false;
      /** Why, in a sentence. */
      readonly reason: string;
    };

/** Options for {@link checkServerKeys}. */
export interface ServerKeysCheckOptions {
  /** The server whose keys were asked for: the response must be for it. */
  readonly serverName: string;
}

/** A notary and the keys it signs its answers with. */
export interface TrustedNotary {
  /** The notary's server name. */
  readonly serverName: string;
  /**
   * Its public keys by key ID, known in advance (from configuration, never
   * from the notary's own answers).
   */
  readonly verifyKeys: ReadonlyMap<string, VerifyKey>;
}

/** Options for {@link checkNotaryServerKeys}. */
export interface NotaryServerKeysCheckOptions {
  /** The notary that answered. */
  readonly notary: TrustedNotary;
  /** The server whose keys were asked for, if the response must be for it. */
  readonly serverName?: string;
}

/** Options for {@link parseKeysBody}. */
export interface ParseKeysBodyOptions {
  /** Largest body accepted, in bytes; default {@link MAX_KEYS_BODY_BYTES}. */
  readonly maxBytes?: number;
  /** Deepest nesting accepted; default {@link MAX_KEYS_BODY_DEPTH}. */
  readonly maxDepth?: number;
}

/** Default size limit of a key response body: 1 MiB (a real one is about 1 KiB). */
export const MAX_KEYS_BODY_BYTES = 1024 * 1024;

/**
 * Default nesting limit of a key response body. A response nests four
 * levels (five in a notary's list); the limit leaves room for extensions.
 */
export const MAX_KEYS_BODY_DEPTH = 64;

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

function invalid(reason: string): ServerKeysCheck {
  return { valid: false, reason };
}

/**
 * Parses the body of a key server or notary response once, losslessly
 * (numbers exactly as written, as Synapse reads them), with limits.
 *
 * @param body - the body as received: UTF-8 bytes or text.
 * @param options - limits.
 * @returns the parsed value (check it with {@link checkServerKeys} or
 *   {@link checkNotaryResponse}).
 * @throws {@link InvalidInputError} `M_TOO_LARGE` past `maxBytes`,
 *   `M_NOT_JSON` for text that is not JSON, `M_BAD_JSON` for nesting past
 *   `maxDepth`, unpaired surrogates or numbers beyond a double.
 */
export function parseKeysBody(body: Uint8Array | string, options: ParseKeysBodyOptions = {}): JsonValue {
  const maxBytes = options.maxBytes ?? MAX_KEYS_BODY_BYTES;
  const size = typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.length;
  if (size > maxBytes) {
    throw new InvalidInputError('M_TOO_LARGE', `Key response of ${size} bytes exceeds the limit of ${maxBytes}`);
  }
  return parseJson(body, {
    numbers: 'legacy',
    maxDepth: options.maxDepth ?? MAX_KEYS_BODY_DEPTH,
    maxLength: Number.MAX_SAFE_INTEGER,
  });
}

/** The integer value of a JSON number that is one (not a float). */
function integerOf(v: JsonValue | undefined): bigint | undefined {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  return undefined;
}

/** Decodes one key entry (`{key, ...}`) or returns why it cannot be. */
function decodeKeyEntry(entry: JsonValue | undefined, where: string): VerifyKey | string {
  const b64 = isJsonObject(entry) ? own(entry, 'key') : undefined;
  if (!isJsonObject(entry)) return `${where} is not an object`;
  if (typeof b64 !== 'string') return `${where} has no "key" string`;
  let bytes: Uint8Array;
  try {
    bytes = decodeBase64(b64);
  } catch (e) {
    return `${where}: ${e instanceof Error ? e.message : String(e)}`;
  }
  if (bytes.length !== PUBLIC_KEY_LENGTH) return `${where} is ${bytes.length} bytes, not ${PUBLIC_KEY_LENGTH}`;
  return new VerifyKey(bytes);
}

/**
 * The check of the origin's own response, shared by direct and notary
 * answers. `expected`: the server asked about, if the response must be
 * for it.
 */
function checkOrigin(response: JsonValue, expected: string | undefined): ServerKeysCheck {
  if (!isJsonObject(response)) return invalid('The key response is not a JSON object');
  const serverName = own(response, 'server_name');
  if (serverName === undefined) return invalid('The key response has no server_name');
  if (typeof serverName !== 'string') return invalid('The key response\'s "server_name" is not a string');
  if (expected !== undefined && serverName !== expected) {
    return invalid(`Expected a key response for ${JSON.stringify(expected)}, not ${JSON.stringify(serverName)}`);
  }
  const until = own(response, 'valid_until_ts');
  if (until === undefined) return invalid('The key response has no valid_until_ts');
  const verifyKeys = own(response, 'verify_keys');
  if (!isJsonObject(verifyKeys)) return invalid('The key response\'s "verify_keys" is not an object');
  const old = own(response, 'old_verify_keys');

  // Every ed25519 key first: any of them may have signed the response.
  const current = new Map<string, VerifyKey>();
  for (const keyId of Object.keys(verifyKeys)) {
    if (!keyId.startsWith('ed25519:')) continue;
    const key = decodeKeyEntry(verifyKeys[keyId], `Verify key ${keyId}`);
    if (typeof key === 'string') return invalid(key);
    current.set(keyId, key);
  }

  const signatures = own(response, 'signatures');
  if (!isJsonObject(signatures)) return invalid('The key response\'s "signatures" is not an object');
  const mine = own(signatures, serverName);
  if (mine !== undefined && !isJsonObject(mine)) return invalid(`The signatures of ${serverName} are not an object`);
  let verified = false;
  for (const keyId of mine === undefined ? [] : Object.keys(mine)) {
    const key = current.get(keyId);
    // A signature by a key the response does not list (a notary's own key
    // when it answers about itself, a key of another algorithm) is skipped.
    if (key === undefined) continue;
    const check = verifyJson(response, serverName, keyId, key, SIGNED_JSON);
    if (!check.valid) return invalid(check.reason);
    verified = true;
    break;
  }
  if (!verified) return invalid(`The key response for ${serverName} is not signed by any of its verify keys`);

  // Each key with the validity Synapse stores for it: old keys replace
  // current ones of the same ID.
  const validity = new Map<string, { key: VerifyKey; until: JsonValue; old: boolean }>();
  for (const [keyId, key] of current) validity.set(keyId, { key, until, old: false });
  if (old !== undefined) {
    if (!isJsonObject(old)) return invalid('The key response\'s "old_verify_keys" is not an object');
    for (const keyId of Object.keys(old)) {
      if (!keyId.startsWith('ed25519:')) continue;
      const entry = old[keyId] as JsonValue;
      const key = decodeKeyEntry(entry, `Old verify key ${keyId}`);
      if (typeof key === 'string') return invalid(key);
      const expired = own(entry as JsonObject, 'expired_ts');
      if (expired === undefined) return invalid(`Old verify key ${keyId} has no expired_ts`);
      validity.set(keyId, { key, until: expired, old: true });
    }
  }

  const keys = new Map<string, ServerVerifyKey>();
  for (const [keyId, { key, until: ts, old: isOld }] of validity) {
    const n = integerOf(ts);
    if (n === undefined || n < I64_MIN || n > I64_MAX) {
      return invalid(`The validity of ${keyId} is not an integer of 64 bits`);
    }
    keys.set(keyId, { key, validUntilTs: Number(n), old: isOld });
  }
  try {
    encodeCanonicalJson(response, SIGNED_JSON);
  } catch (e) {
    return invalid(`The key response cannot be encoded: ${e instanceof Error ? e.message : String(e)}`);
  }
  const untilN = integerOf(until);
  return {
    valid: true,
    serverName,
    validUntilTs: untilN === undefined ? Number.NEGATIVE_INFINITY : Number(untilN),
    verifyKeys: keys,
    response,
  };
}

/**
 * Checks a server's response to `GET /_matrix/key/v2/server`, as Synapse's
 * `ServerKeyFetcher` does (see the module comment for the rules).
 *
 * @param response - the parsed body (see {@link parseKeysBody}).
 * @param options - the server asked.
 * @returns the keys the response proves, or `valid: false` with the reason.
 *   Never throws.
 */
export function checkServerKeys(response: JsonValue, options: ServerKeysCheckOptions): ServerKeysCheck {
  return checkOrigin(response, options.serverName);
}

/**
 * Checks one entry of a notary's `server_keys` answer, as Synapse's
 * `PerspectivesKeyFetcher` does: the notary must have signed it with at
 * least one of its known keys, and every signature of the notary by a known
 * key must be good; then the entry must be the origin's own response, signed
 * by the origin (as {@link checkServerKeys}), so that a notary cannot change
 * what the origin published.
 *
 * A notary can still vouch for keys the origin never published, by
 * answering with a response of its own making signed by those keys: that is
 * the trust placed in a notary, which is why servers may ask several.
 *
 * @param response - one entry of the notary's `server_keys` list.
 * @param options - the notary and, optionally, the server asked about.
 * @returns as {@link checkServerKeys}. Never throws.
 */
export function checkNotaryServerKeys(response: JsonValue, options: NotaryServerKeysCheckOptions): ServerKeysCheck {
  const { notary } = options;
  if (!isJsonObject(response)) return invalid("The notary's entry is not a JSON object");
  const signatures = own(response, 'signatures');
  const theirs = isJsonObject(signatures) ? own(signatures, notary.serverName) : undefined;
  if (theirs === undefined) return invalid(`The entry is not signed by the notary ${notary.serverName}`);
  if (!isJsonObject(theirs)) return invalid(`The signatures of the notary ${notary.serverName} are not an object`);
  let verified = false;
  for (const keyId of Object.keys(theirs)) {
    const key = notary.verifyKeys.get(keyId);
    if (key === undefined) continue;
    const check = verifyJson(response, notary.serverName, keyId, key, SIGNED_JSON);
    if (!check.valid) return invalid(`Notary signature: ${check.reason}`);
    verified = true;
  }
  if (!verified) {
    return invalid(`The entry is not signed by the notary ${notary.serverName} with a key we know`);
  }
  return checkOrigin(response, options.serverName);
}

/** The outcome of {@link checkNotaryResponse}. */
export type NotaryResponseCheck =
  | {
      /** The answer has the right shape; see each entry. */
      readonly valid: true;
      /** Each entry of `server_keys`, checked, in order. */
      readonly entries: readonly ServerKeysCheck[];
    }
  | {
      /** The answer as a whole is unusable. */
      readonly valid: false;
      /** Why. */
      readonly reason: string;
    };

/** Options for {@link checkNotaryResponse}. */
export interface NotaryResponseCheckOptions {
  /**
   * The servers asked about: entries for any other server are not checked
   * (neither decoded nor verified) and come back `valid: false`. Default:
   * every entry is checked.
   */
  readonly serverNames?: ReadonlySet<string>;
}

/**
 * Checks a notary's answer to `POST /_matrix/key/v2/query` (or `GET
 * /_matrix/key/v2/query/{serverName}`): `server_keys` must be a list of
 * objects each with a string `server_name` (else the whole answer is
 * refused, as Synapse refuses it); each entry is then checked with
 * {@link checkNotaryServerKeys}, a bad entry leaving the others usable.
 * Synapse checks and stores entries for servers it did not ask about too;
 * with `serverNames` they cost nothing here.
 *
 * @param body - the parsed answer (see {@link parseKeysBody}).
 * @param notary - the notary that answered.
 * @param options - the servers asked about.
 * @returns the checked entries, or `valid: false`. Never throws.
 */
export function checkNotaryResponse(
  body: JsonValue,
  notary: TrustedNotary,
  options: NotaryResponseCheckOptions = {},
): NotaryResponseCheck {
  if (!isJsonObject(body)) return { valid: false, reason: "The notary's answer is not a JSON object" };
  const list = own(body, 'server_keys');
  if (!Array.isArray(list)) return { valid: false, reason: 'The notary\'s answer has no "server_keys" list' };
  for (const entry of list) {
    if (!isJsonObject(entry) || typeof own(entry, 'server_name') !== 'string') {
      return { valid: false, reason: "An entry of the notary's answer has no string server_name" };
    }
  }
  const asked = options.serverNames;
  return {
    valid: true,
    entries: list.map((entry) => {
      const serverName = own(entry as JsonObject, 'server_name') as string;
      return asked === undefined || asked.has(serverName)
        ? checkNotaryServerKeys(entry, { notary })
        : invalid(`The entry is about ${JSON.stringify(serverName)}, which was not asked about`);
    }),
  };
}
