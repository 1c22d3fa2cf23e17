/**
 * Federation: identifiers and server names. Server discovery, request
 * signing and the federation client will join them here.
 *
 * @example
 * ```ts
 * import { parseServerName, parseUserId } from 'matrix-serverlib/federation';
 * parseServerName('[1234:5678::abcd]:8448'); // { host: '[1234:5678::abcd]', kind: 'ipv6', port: 8448 }
 * parseUserId('@alice:example.org').compliant; // true
 * ```
 *
 * @module federation
 */

export { InvalidInputError } from '../errors.js';
export {
  isValidEventId,
  isValidRoomAlias,
  isValidRoomId,
  isValidServerName,
  isValidUserId,
  parseServerName,
  parseUserId,
  type ServerName,
  type UserId,
} from './identifiers.js';
