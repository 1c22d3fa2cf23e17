/**
 * Signing key identifiers: `<algorithm>:<version>` (spec: Appendices,
 * "Signing Details"; the version grammar `[a-zA-Z0-9_]` is from the
 * server-server API's key definitions).
 *
 * @module
 */

import { InvalidInputError } from '../errors.js';

/** A parsed signing key identifier. */
export interface KeyId {
  /** The signing algorithm; the only one Matrix defines is `ed25519`. */
  readonly algorithm: 'ed25519';
  /** The key version, matching `[a-zA-Z0-9_]+`. */
  readonly version: string;
}

const KEY_ID = /^ed25519:([a-zA-Z0-9_]+)$/;

/**
 * Parses an Ed25519 key identifier such as `ed25519:a_1`.
 *
 * @param keyId - the identifier.
 * @throws {@link InvalidInputError} `M_INVALID_PARAM` if it is not
 *   `ed25519:` followed by one or more of `[a-zA-Z0-9_]`.
 */
export function parseKeyId(keyId: string): KeyId {
  const m = KEY_ID.exec(keyId);
  if (m === null) {
    throw new InvalidInputError(
      'M_INVALID_PARAM',
      `Key ID ${JSON.stringify(keyId)} is not "ed25519:" followed by letters, digits or underscores`,
    );
  }
  return { algorithm: 'ed25519', version: m[1] as string };
}

/**
 * Whether `keyId` is a well-formed Ed25519 key identifier. Never throws.
 *
 * @param keyId - the identifier to check.
 */
export function isKeyId(keyId: string): boolean {
  return KEY_ID.test(keyId);
}
