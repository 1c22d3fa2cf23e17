/** Helpers shared by the unit tests. */
import { InvalidInputError } from '../src/errors.js';

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
