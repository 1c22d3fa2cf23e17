/**
 * Server keys: our key server's signed responses, checking the responses of
 * other servers and notaries, and a keyring that fetches, caches and serves
 * the verify keys everything else is checked with.
 *
 * @module keys
 */

export { InvalidInputError } from '../errors.js';
