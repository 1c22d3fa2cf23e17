/**
 * Conformance operations (see CONFORMANCE.md) of one area.
 *
 * @module
 */

import type { Operation } from './ops.js';

/** The operations by name. */
export const keyOperations: ReadonlyArray<readonly [string, Operation]> = [];
