/**
 * Room versions 1–12 as one declarative table of named rules. Unknown
 * versions are an error everywhere; experimental versions can be registered
 * by deriving from a known one.
 *
 * Guide: [Verifying an event received over federation](../../docs/verifying-events.md) (step 1).
 *
 * @example
 * ```ts
 * import { getRoomVersion } from 'matrix-serverlib/roomversions';
 * const v10 = getRoomVersion('10');
 * v10.auth.integerPowerLevels; // true
 * v10.json.numbers;            // 'strict'
 * ```
 *
 * @module roomversions
 */

export { InvalidInputError, MatrixServerlibError } from '../errors.js';
export {
  type AuthRules,
  type EventFormatRules,
  type EventIdFormat,
  getRoomVersion,
  isKnownRoomVersion,
  type JsonRules,
  type RedactionRules,
  type RoomVersionOverrides,
  type RoomVersionRules,
  registerRoomVersion,
  type SignatureRules,
  SPEC_ROOM_VERSIONS,
  type StateResolutionAlgorithm,
} from './rules.js';
