/**
 * Identifiers: server names, user IDs, room IDs, event IDs and room aliases
 * (spec: Appendices, "Identifier Grammar"), each with a `parse…` function
 * giving a typed value or an {@link InvalidInputError} that says why, and an
 * `isValid…` predicate. The bottom layer: every other area takes its
 * identifiers from here.
 *
 * Where room, user and event IDs are taken side by side (the federation
 * client's paths), they are typed by their sigil (`RoomIdString` is
 * `` `!${string}` ``, and so on), so that swapping two does not compile; a
 * literal is one, and the `isValid…` predicates narrow any other string.
 *
 * @example
 * ```ts
 * import { parseServerName, parseUserId } from 'matrix-serverlib/identifiers';
 * parseServerName('[1234:5678::abcd]:8448'); // { host: '[1234:5678::abcd]', kind: 'ipv6', port: 8448 }
 * parseUserId('@alice:example.org').compliant; // true
 * ```
 *
 * @module identifiers
 */

export { InvalidInputError, MatrixServerlibError } from '../errors.js';
export {
  type EventId,
  type EventIdFormat,
  type EventIdString,
  type IdentifierRules,
  isValidEventId,
  isValidRoomAlias,
  isValidRoomId,
  isValidServerName,
  isValidUserId,
  type OpaqueId,
  parseEventId,
  parseRoomAlias,
  parseRoomId,
  parseServerName,
  parseUserId,
  type RoomAlias,
  type RoomId,
  type RoomIdString,
  type ServerName,
  serverNameOf,
  type UserId,
  type UserIdString,
} from './identifiers.js';
