/**
 * Invites made from a third-party invite (spec: room versions, membership
 * rules, "If membership is invite: if content has a third_party_invite
 * property"; client-server API, `m.room.third_party_invite`).
 *
 * @module
 */

import { sortedKeys } from '../canonicaljson/keyorder.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../canonicaljson/value.js';
import type { Pdu } from '../hashing/schema.js';
import { decodeBase64 } from '../signing/base64.js';
import { PUBLIC_KEY_LENGTH, verifyKeyFromBytes } from '../signing/ed25519.js';
import { verifyJson } from '../signing/signedjson.js';
import { PythonError, pyGetItem, pyList, pyTypeName, show } from './pyvalue.js';
import type { StateLookup } from './state.js';

/**
 * The public keys a `m.room.third_party_invite` event offers, in the order
 * they are tried: the legacy `public_key` first, then each of
 * `public_keys`.
 *
 * @throws {@link PythonError} if `public_keys` is not a list.
 */
function publicKeys(content: JsonObject): JsonValue[] {
  const keys: JsonValue[] = [];
  if (Object.hasOwn(content, 'public_key')) keys.push({ public_key: content.public_key as JsonValue });
  const more = Object.hasOwn(content, 'public_keys') ? content.public_keys : [];
  // Python's list.extend: any iterable is spread, anything else raises.
  if (more === null || !(Array.isArray(more) || isJsonObject(more) || typeof more === 'string')) {
    throw new PythonError(`'${pyTypeName(more)}' object is not iterable`);
  }
  keys.push(...pyList(more));
  return keys;
}

/** The 32 bytes of a public key offered by the invite, read as Synapse reads it. */
function publicKeyBytes(publicKey: JsonValue): Uint8Array {
  if (typeof publicKey !== 'string')
    throw new PythonError(`a public key must be a string, not ${pyTypeName(publicKey)}`);
  const bytes = decodeBase64(publicKey);
  if (bytes.length !== PUBLIC_KEY_LENGTH)
    throw new PythonError(`The key must be exactly ${PUBLIC_KEY_LENGTH} bytes long`);
  return bytes;
}

/**
 * Why a member event's `third_party_invite` is not backed by the room's
 * `m.room.third_party_invite` event, or `undefined` if it is. It is backed
 * when `signed` has `mxid`, `token` and `signatures`; the invite event for
 * `token` is in the state and was sent by the same sender; `mxid` is the
 * event's state key; and `signed` (less `signatures` and `unsigned`) carries
 * a valid Ed25519 signature by one of the invite's public keys. The steps
 * are checked in the spec's order and the first that fails is named.
 *
 * Keys are tried the way Synapse tries them, since the order decides the
 * answer for malformed keys: each public key in turn, and for each the
 * first `ed25519:` signature of the first signing server that has one (servers
 * and key IDs in code point order, as Synapse hands them back); a
 * signature that does not verify moves on to the next public key, while a
 * public key that cannot be decoded fails the whole check.
 *
 * @param event - the `m.room.member` invite.
 * @param state - the auth events (or state) holding the invite event.
 * @returns a sentence saying which step failed, or `undefined`.
 * @throws {@link PythonError} where Synapse's check raises (a malformed
 *   public key or key list, `signatures` that is not an object), which also
 *   means the event is not allowed.
 */
export function thirdPartyInviteProblem(event: Pdu, state: StateLookup): string | undefined {
  const content = event.content;
  const invite = content.third_party_invite;
  if (!isJsonObject(invite) || !Object.hasOwn(invite, 'signed')) return 'third_party_invite has no signed object';
  const signed = invite.signed;
  if (!isJsonObject(signed)) return 'third_party_invite.signed is not an object';
  const missing = ['mxid', 'token', 'signatures'].filter((k) => !Object.hasOwn(signed, k));
  if (missing.length > 0) return `third_party_invite.signed has no ${missing.join(', ')}`;
  const token = signed.token as JsonValue;
  if (Array.isArray(token) || isJsonObject(token)) throw new PythonError(`unhashable type: '${pyTypeName(token)}'`);
  const inviteEvent = typeof token === 'string' ? state.get('m.room.third_party_invite', token) : undefined;
  if (inviteEvent === undefined) return `no m.room.third_party_invite has the token ${show(token)}`;
  if (inviteEvent.sender !== event.sender) {
    return `the m.room.third_party_invite for the token was sent by ${show(inviteEvent.sender)}, not by the sender`;
  }
  if (signed.mxid !== event.state_key) return `signed.mxid ${show(signed.mxid)} is not the state key`;
  const inviteContent = isJsonObject(inviteEvent.content) ? inviteEvent.content : {};
  for (const keyObject of publicKeys(inviteContent)) {
    const publicKey = pyGetItem(keyObject, 'public_key');
    const signatures = signed.signatures as JsonValue;
    if (!isJsonObject(signatures)) throw new PythonError(`'${pyTypeName(signatures)}' object has no attribute 'items'`);
    // Synapse hands content back with object keys in code point order, so
    // servers and key IDs are tried in that order (not in JavaScript's,
    // which puts integer-like keys first).
    tryKey: for (const server of sortedKeys(signatures)) {
      const block = signatures[server];
      if (!isJsonObject(block)) throw new PythonError(`'${pyTypeName(block)}' object has no attribute 'keys'`);
      for (const keyId of sortedKeys(block)) {
        if (!keyId.startsWith('ed25519:')) continue;
        const key = verifyKeyFromBytes(publicKeyBytes(publicKey));
        if (verifyJson(signed, server, keyId, key, { numbers: 'legacy' }).valid) return undefined;
        break tryKey;
      }
    }
  }
  return 'signed carries no valid ed25519 signature by a public key of the m.room.third_party_invite';
}
