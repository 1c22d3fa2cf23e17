/**
 * matrix-serverlib: Matrix server-side protocol primitives.
 *
 * The root re-exports every area; each is also a subpath export
 * (`matrix-serverlib/identifiers`, `/canonicaljson`, `/signing`, `/roomversions`, `/hashing`,
 * `/events`, `/auth`, `/stateres`, `/keys`, `/federation`).
 *
 * Guides:
 * - [Parsing, encoding and signing JSON](../docs/canonical-json-and-signing.md)
 * - [Verifying signatures with libsodium](../docs/verification-backends.md)
 * - [Verifying an event received over federation](../docs/verifying-events.md)
 * - [Checking whether an event is allowed](../docs/checking-events-are-allowed.md)
 * - [History visibility](../docs/history-visibility.md)
 * - [Resolving state](../docs/state-resolution.md)
 * - [Find and trust a server's keys](../docs/server-keys.md)
 * - [Sign and verify a federation request](../docs/signing-requests.md)
 * - [Finding where to send a federation request](../docs/server-discovery.md)
 * - [Errors](../docs/errors.md): what each function throws and what it returns
 *
 * @module matrix-serverlib
 */

export * from './auth/index.js';
export * from './canonicaljson/index.js';
export * from './events/index.js';
export * from './federation/index.js';
export * from './hashing/index.js';
export * from './identifiers/index.js';
export * from './keys/index.js';
export * from './roomversions/index.js';
export * from './signing/index.js';
export * from './stateres/index.js';
