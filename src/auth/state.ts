/**
 * Room state as the auth rules and history visibility read it: state events
 * by type and state key.
 *
 * @module
 */

import { isJsonObject } from '../canonicaljson/value.js';
import { InvalidInputError } from '../errors.js';
import type { Pdu } from '../hashing/schema.js';

/**
 * Read access to room state: the state event for a type and state key. The
 * auth rules need nothing more, so any store (a database-backed one
 * included) can stand behind them.
 */
export interface StateLookup {
  /** The state event for `type` and `stateKey`, if there is one. */
  get(type: string, stateKey: string): Pdu | undefined;
}

/**
 * State events by type and state key. Built from a list of state events; a
 * second event for the same type and state key is an error, since state
 * holds one event per key.
 */
export class StateMap implements StateLookup {
  readonly #byType = new Map<string, Map<string, Pdu>>();

  /**
   * @param events - state events: objects with a string `type` and a string
   *   `state_key`.
   * @throws {@link InvalidInputError} `M_INVALID_PARAM` if an event is not a
   *   state event or two events share a type and state key.
   */
  constructor(events: Iterable<Pdu> = []) {
    for (const event of events) {
      if (!isJsonObject(event) || typeof event.type !== 'string' || typeof event.state_key !== 'string') {
        throw new InvalidInputError('M_INVALID_PARAM', 'A state event needs a string type and state_key');
      }
      if (this.get(event.type, event.state_key) !== undefined) {
        throw new InvalidInputError(
          'M_INVALID_PARAM',
          `Two state events for (${JSON.stringify(event.type)}, ${JSON.stringify(event.state_key)})`,
        );
      }
      this.set(event.type, event.state_key, event);
    }
  }

  /** The event for `type` and `stateKey`, if the state has one. Never throws. */
  get(type: string, stateKey: string): Pdu | undefined {
    return this.#byType.get(type)?.get(stateKey);
  }

  /** Puts `event` in the state for `type` and `stateKey`, replacing any. Never throws. */
  set(type: string, stateKey: string, event: Pdu): void {
    let byKey = this.#byType.get(type);
    if (byKey === undefined) {
      byKey = new Map();
      this.#byType.set(type, byKey);
    }
    byKey.set(stateKey, event);
  }

  /** Every state event of `type`, by state key. Never throws. */
  ofType(type: string): ReadonlyMap<string, Pdu> {
    return this.#byType.get(type) ?? new Map();
  }
}
