/**
 * The one error class the library throws for malformed input.
 *
 * DESIGN: protocol outcomes (auth denied, bad signature) are returned as
 * values; input that cannot be processed at all raises this, with a stable
 * Matrix errcode so that callers (and the conformance runner) can map it to
 * a federation response without parsing the message.
 *
 * @module
 */

/** The Matrix errcodes this library raises. */
export type ErrCode =
  | 'M_NOT_JSON'
  | 'M_BAD_JSON'
  | 'M_TOO_LARGE'
  | 'M_INVALID_PARAM'
  | 'M_MISSING_PARAM'
  | 'M_UNSUPPORTED_ROOM_VERSION'
  | 'M_UNRECOGNIZED';

/**
 * Raised when input is malformed: not JSON, JSON that breaks Canonical JSON's
 * rules, an unknown room version, a bad key or key ID.
 *
 * `errcode` is stable across releases; `message` is for people and may change.
 */
export class InvalidInputError extends Error {
  /** The Matrix errcode naming the kind of failure. */
  readonly errcode: ErrCode;

  /**
   * @param errcode - the Matrix errcode for this failure.
   * @param message - a sentence a person can act on.
   */
  constructor(errcode: ErrCode, message: string) {
    super(message);
    this.name = 'InvalidInputError';
    this.errcode = errcode;
  }
}
