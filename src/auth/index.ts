/**
 * Authorization: auth event selection, the auth rules of every room
 * version (with the rule that rejected an event), soft failure, power
 * levels, and history visibility for users and servers.
 *
 * Guides: [Checking whether an event is allowed](../../docs/checking-events-are-allowed.md);
 * [History visibility](../../docs/history-visibility.md).
 *
 * @example
 * ```ts
 * import { checkEventAuth } from 'matrix-serverlib/auth';
 * const result = checkEventAuth(pdu, authEvents, getRoomVersion('10'));
 * if (!result.allowed) console.log(`${result.rule}: ${result.reason}`);
 * ```
 *
 * @module auth
 */

export { InvalidInputError, MatrixServerlibError } from '../errors.js';
export { checkEventAuth, checkSoftFail, type EventAuthOptions } from './check.js';
export {
  CREATOR_POWER_LEVEL,
  DEFAULT_LEVELS,
  type DefaultLevels,
  isCreator,
  type NamedLevel,
  namedPowerLevel,
  type PowerLevel,
  roomCreator,
  sendPowerLevel,
  userPowerLevel,
} from './powerlevels.js';
export type { AuthAllowed, AuthRejected, AuthResult, AuthRule } from './result.js';
export { checkAuthRules } from './rules.js';
export { authTypesForEvent, type SelectionOptions, type StateKey } from './selection.js';
export { type StateLookup, StateMap } from './state.js';
export {
  type HistoryVisibility,
  historyVisibility,
  type VisibilityResult,
  type VisibilityRule,
  visibleToServer,
  visibleToUser,
} from './visibility.js';
