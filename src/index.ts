/**
 * matrix-serverlib: Matrix server-side protocol primitives.
 *
 * The root re-exports every area; each is also a subpath export
 * (`matrix-serverlib/identifiers`, `/canonicaljson`, `/signing`, `/roomversions`, `/hashing`,
 * `/events`, `/auth`, `/keys`, `/federation`).
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
