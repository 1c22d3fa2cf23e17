/**
 * State resolution: what a room's state is when servers disagree (spec:
 * room versions, "State resolution"), and the auth chains it is built on.
 * Events come through an asynchronous batch loader ({@link EventLoader}),
 * or from memory ({@link memoryLoader}); a room's loaded auth DAG can be
 * kept between resolutions ({@link EventGraph}).
 *
 * Guide: [Resolving state](../../docs/state-resolution.md).
 *
 * @example
 * ```ts
 * import { memoryLoader, resolveState } from 'matrix-serverlib/stateres';
 *
 * declare const stateSets: StateIds[];
 * declare const roomEvents: Pdu[];
 * const state = await resolveState(rules, stateSets, memoryLoader(roomEvents, rules));
 * ```
 *
 * @module stateres
 */

export { InvalidInputError, MatrixServerlibError } from '../errors.js';
export { type StateAfterOptions, stateAfterEvent, stateBeforeEvent } from './around.js';
export { StateResolutionError, type StateResolutionErrorCode } from './errors.js';
export {
  type ExplainedCheck,
  type ExplainedConflict,
  explainResolution,
  type ResolutionExplanation,
} from './explain.js';
export { DEFAULT_MAX_EVENTS, EventGraph } from './graph.js';
export { type EventLoader, memoryLoader } from './loader.js';
export {
  authChain,
  authDifference,
  DEFAULT_MAX_STATE_SETS,
  type LoadOptions,
  type ResolveOptions,
  resolveState,
  resolveStateSync,
} from './resolve.js';
export type { StateIds } from './state.js';
