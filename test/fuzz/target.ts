/**
 * What a target of the fuzzing campaign is, and how it tells a broken
 * promise of the library from an answer.
 */

import type fc from 'fast-check';
import { InvalidInputError } from '../../src/errors.js';

/** One target of the campaign. */
export interface Target<T> {
  /** Its name, as the knob `FUZZ_TARGETS` names it. */
  readonly name: string;
  /** Generates its input. */
  readonly input: fc.Arbitrary<T>;
  /** Runs one input; the outcome label, or a throw for a broken promise. */
  run(input: T): string | Promise<string>;
  /** The size of an input, for the report of the slowest ones. */
  size(input: T): number;
}

/** A promise of the library broken by one input. */
export class Broken extends Error {
  override name = 'Broken';
}

/** Runs `f`; an `InvalidInputError` becomes its errcode, anything else is a broken promise. */
export function typed<T>(f: () => T, what: string): T | string {
  try {
    return f();
  } catch (e) {
    if (e instanceof InvalidInputError) return e.errcode;
    throw new Broken(`${what} threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`, { cause: e });
  }
}

/** Runs `f`, documented as never throwing. */
export function total<T>(f: () => T, what: string): T {
  try {
    return f();
  } catch (e) {
    throw new Broken(`${what}, documented as never throwing, threw ${e instanceof Error ? e.message : String(e)}`, {
      cause: e,
    });
  }
}
