/**
 * Authorization: auth event selection so far. The auth rules, power level
 * helpers and history visibility will join it here.
 *
 * @example
 * ```ts
 * import { authTypesForEvent } from 'matrix-serverlib/auth';
 * authTypesForEvent(memberEvent, getRoomVersion('10'));
 * // [['m.room.create', ''], ['m.room.join_rules', ''], ['m.room.member', '@a:x'], ['m.room.power_levels', '']]
 * ```
 *
 * @module auth
 */

export { InvalidInputError } from '../errors.js';
export { authTypesForEvent, type StateKey } from './selection.js';
