/**
 * The error state resolution raises when it cannot resolve at all: the
 * events it is given do not make a room's auth DAG.
 *
 * @module
 */

import { type ErrCode, MatrixServerlibError, type MatrixServerlibErrorOptions } from '../errors.js';

/**
 * Why state resolution could not run. Stable across releases; each has the
 * errcode given.
 *
 * - `missing-event`: an event a state set names, or one in the auth chain
 *   of such an event, is not there (the loader did not return it); the
 *   caller must fetch it first. `M_INVALID_PARAM`.
 * - `auth-cycle`: following `auth_events` from the state sets comes back to
 *   where it started. Event IDs are hashes from room version 3, so only a
 *   broken store or forged v1–v2 IDs can make one. `M_INVALID_PARAM`.
 * - `wrong-room`: an event is of another room than the others.
 *   `M_INVALID_PARAM`.
 * - `bad-state-set`: a state set maps a type and state key to an event of
 *   another type or state key, or to an event that is not a state event.
 *   `M_INVALID_PARAM`.
 * - `wrong-version`: an {@link EventGraph} of one room version is used to
 *   resolve another's state. `M_INVALID_PARAM`.
 * - `too-large`: the resolution would visit more events than its limit
 *   (`maxEvents`), or take more state sets than its limit
 *   (`maxStateSets`). `M_TOO_LARGE`.
 */
export type StateResolutionErrorCode =
  | 'missing-event'
  | 'auth-cycle'
  | 'wrong-room'
  | 'bad-state-set'
  | 'wrong-version'
  | 'too-large';

const ERRCODES: Readonly<Record<StateResolutionErrorCode, ErrCode>> = {
  'missing-event': 'M_INVALID_PARAM',
  'auth-cycle': 'M_INVALID_PARAM',
  'wrong-room': 'M_INVALID_PARAM',
  'bad-state-set': 'M_INVALID_PARAM',
  'wrong-version': 'M_INVALID_PARAM',
  'too-large': 'M_TOO_LARGE',
};

/**
 * Raised by state resolution and the auth chain functions when the events
 * cannot be resolved: an event is missing, the auth events make a cycle,
 * events are of different rooms, a state set is inconsistent, or the input
 * is beyond a limit. `code` is stable (see {@link StateResolutionErrorCode}
 * for each and its errcode); `eventId` names the event at fault, if one is;
 * `message` is for people and may change.
 *
 * Protocol outcomes are not errors: an event the auth rules reject during
 * the resolution is simply left out of the resolved state.
 */
export class StateResolutionError extends MatrixServerlibError {
  /** What went wrong. */
  readonly code: StateResolutionErrorCode;
  /** The errcode of the code (always one of the input errcodes). */
  declare readonly errcode: ErrCode;
  /** The event at fault: the missing one, one on the cycle, the one of another room. */
  readonly eventId: string | undefined;

  /**
   * @param code - what went wrong.
   * @param message - a sentence a person can act on.
   * @param eventId - the event at fault, if one is.
   * @param options - the error this one is raised because of, if any.
   */
  constructor(
    code: StateResolutionErrorCode,
    message: string,
    eventId?: string,
    options?: MatrixServerlibErrorOptions,
  ) {
    super(ERRCODES[code], message, options);
    this.name = 'StateResolutionError';
    this.code = code;
    this.eventId = eventId;
  }
}
