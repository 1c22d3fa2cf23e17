/** Helpers shared by the unit tests. */
import type { JsonObject } from '../src/canonicaljson/index.js';
import { InvalidInputError } from '../src/errors.js';
import type { Pdu } from '../src/events/index.js';

/** Runs `f`, which must throw an {@link InvalidInputError}, and returns its errcode. */
export function errcode(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof InvalidInputError) return e.errcode;
    throw e;
  }
  throw new Error('expected an InvalidInputError');
}

/**
 * `event` typed as a checked event, unchecked: for tests of functions that
 * read only some members of an event (the power level helpers, history
 * visibility, the auth rules on malformed content), whose test events carry
 * only those members or deliberately break the format.
 */
export function partialPdu(event: JsonObject): Pdu {
  return event as Pdu;
}
