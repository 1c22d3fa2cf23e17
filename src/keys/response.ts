/**
 * Our key server's answers (spec: server-server API, "Publishing Keys" and
 * "Querying Keys Through Another Server"): the signed body of
 * `GET /_matrix/key/v2/server`, and a notary's signature on the responses
 * of other servers it passes on.
 *
 * @module
 */

import { isJsonObject, type JsonObject, type JsonValue } from '../canonicaljson/value.js';
import { InvalidInputError } from '../errors.js';
import { encodeBase64 } from '../signing/base64.js';
import type { SigningKey, VerifyKey } from '../signing/ed25519.js';
import { parseKeyId } from '../signing/keyid.js';
import { signJson } from '../signing/signedjson.js';
import { SIGNED_JSON } from './json.js';

/** A key we used to sign with, and when we stopped. */
export interface OldVerifyKey {
  /** The public key. */
  readonly key: VerifyKey;
  /** When we stopped using it, in milliseconds since the epoch. */
  readonly expiredTs: number;
}

/** Options for {@link serverKeysResponse}. */
export interface ServerKeysResponseOptions {
  /** Our server name. */
  readonly serverName: string;
  /**
   * Our current signing keys by key ID (`ed25519:` and a version of
   * `[a-zA-Z0-9_]`): each is published and signs the response. At least one.
   */
  readonly keys: Readonly<Record<string, SigningKey>>;
  /** Keys we no longer sign with, by key ID; published with their expiry. */
  readonly oldVerifyKeys?: Readonly<Record<string, OldVerifyKey>>;
  /**
   * Until when other servers may cache the response, in milliseconds since
   * the epoch. The spec asks for at least an hour ahead; Synapse publishes a
   * day ahead and refreshes the body when half of that has passed.
   */
  readonly validUntilTs: number;
}

function timestamp(value: number, what: string): number {
  if (!Number.isSafeInteger(value)) {
    throw new InvalidInputError('M_INVALID_PARAM', `${what} must be an integer in Canonical JSON's range`);
  }
  return value;
}

function signedBy(object: JsonObject, serverName: string, keys: Readonly<Record<string, SigningKey>>): JsonObject {
  let signed = object;
  for (const keyId of Object.keys(keys))
    signed = signJson(signed, serverName, keyId, keys[keyId] as SigningKey, SIGNED_JSON);
  return signed;
}

/**
 * Builds the body we serve at `GET /_matrix/key/v2/server`: our current keys
 * under `verify_keys`, the old ones under `old_verify_keys` (always present,
 * empty if none, as Synapse serves it), signed by every current key. The
 * result is what Synapse's key server resource serves for the same keys.
 *
 * @param options - server name, keys, old keys and validity.
 * @returns the signed response body.
 * @throws {@link InvalidInputError} `M_INVALID_PARAM` for no current key, a
 *   key ID outside the spec's grammar, or a time that is not an integer in
 *   Canonical JSON's range; `M_BAD_JSON` for a server name that cannot be
 *   encoded (an unpaired surrogate).
 */
export function serverKeysResponse(options: ServerKeysResponseOptions): JsonObject {
  const { serverName, keys } = options;
  const keyIds = Object.keys(keys);
  if (keyIds.length === 0) throw new InvalidInputError('M_INVALID_PARAM', 'A key response needs a current key');
  const verifyKeys: JsonObject = {};
  for (const keyId of keyIds) {
    parseKeyId(keyId);
    verifyKeys[keyId] = { key: encodeBase64((keys[keyId] as SigningKey).publicKey) };
  }
  const oldVerifyKeys: JsonObject = {};
  const old = options.oldVerifyKeys ?? {};
  for (const keyId of Object.keys(old)) {
    parseKeyId(keyId);
    const entry = old[keyId] as OldVerifyKey;
    oldVerifyKeys[keyId] = {
      key: encodeBase64(entry.key.bytes),
      expired_ts: timestamp(entry.expiredTs, `expired_ts of ${keyId}`),
    };
  }
  const body: JsonObject = {
    valid_until_ts: timestamp(options.validUntilTs, 'valid_until_ts'),
    server_name: serverName,
    verify_keys: verifyKeys,
    old_verify_keys: oldVerifyKeys,
  };
  return signedBy(body, serverName, keys);
}

/** Who signs a notary's answers. */
export interface NotaryIdentity {
  /** The notary's server name. */
  readonly serverName: string;
  /**
   * Its signing keys by key ID; each signs every response passed on. At
   * least one.
   */
  readonly keys: Readonly<Record<string, SigningKey>>;
}

/**
 * Adds a notary's signature to a server's key response as fetched: the
 * response is otherwise passed on unchanged (signatures already on it
 * kept), so that the asking server can check the origin's own signature.
 *
 * @param response - the origin's response, as fetched and checked.
 * @param notary - our name and signing keys.
 * @returns the response with our signatures added.
 * @throws {@link InvalidInputError} `M_INVALID_PARAM` for no key, a
 *   malformed key ID or `signatures` member; `M_BAD_JSON` if the response
 *   cannot be encoded.
 */
export function notarySignResponse(response: JsonObject, notary: NotaryIdentity): JsonObject {
  if (Object.keys(notary.keys).length === 0) {
    throw new InvalidInputError('M_INVALID_PARAM', 'A notary needs a signing key');
  }
  return signedBy(response, notary.serverName, notary.keys);
}

/**
 * Builds a notary's answer to `POST /_matrix/key/v2/query` or `GET
 * /_matrix/key/v2/query/{serverName}`: `{"server_keys": [...]}`, each
 * response signed by the notary ({@link notarySignResponse}). Servers that
 * could not be reached and have no cached response are simply absent.
 *
 * @param responses - the origins' responses to pass on.
 * @param notary - our name and signing keys.
 * @returns the answer body.
 * @throws {@link InvalidInputError} as {@link notarySignResponse}.
 */
export function notaryQueryResponse(responses: readonly JsonObject[], notary: NotaryIdentity): JsonObject {
  const serverKeys: JsonValue[] = responses.map((r) => {
    if (!isJsonObject(r)) throw new InvalidInputError('M_INVALID_PARAM', 'A key response must be an object');
    return notarySignResponse(r, notary);
  });
  return { server_keys: serverKeys };
}
