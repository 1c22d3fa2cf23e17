/**
 * The error model of the library: one base class,
 * {@link MatrixServerlibError}, that every error it throws extends.
 *
 * DESIGN: protocol outcomes (auth denied, bad signature, a request not
 * authenticated) are returned as values; input that cannot be processed at
 * all, and a network call that fails, raise an error carrying
 * - `code`: what went wrong, stable across releases, in one spelling
 *   throughout the library (lower case words joined by `-`: `too-large`,
 *   `bad-json`, `network`), so that callers switch on it without parsing
 *   the message;
 * - `errcode`: the Matrix errcode a homeserver answers when this error ends
 *   the request it is serving (`M_BAD_JSON`, `M_TOO_LARGE`, `M_UNKNOWN`, …),
 *   so that it maps to a federation or client-server response directly (the
 *   conformance runner answers with it);
 * - `cause` (ES2022): the error it wraps, when one error is raised because
 *   of another (a parse inside a check, a failed DNS query inside
 *   discovery, discovery inside a federation request).
 *
 * `message` is for people and may change.
 *
 * @module
 */

/**
 * The Matrix errcodes of {@link InvalidInputError}: each names what is
 * wrong with the input (spec: client-server API, "Standard error response").
 */
export type ErrCode =
  | 'M_NOT_JSON'
  | 'M_BAD_JSON'
  | 'M_TOO_LARGE'
  | 'M_INVALID_PARAM'
  | 'M_MISSING_PARAM'
  | 'M_UNSUPPORTED_ROOM_VERSION'
  | 'M_UNRECOGNIZED';

/**
 * Every Matrix errcode an error of this library carries: those of
 * {@link ErrCode}, and for failures of the network (federation requests,
 * server discovery):
 * - `M_UNKNOWN`: a remote server or the network failed (Synapse answers 502
 *   with it when a remote server fails a request it serves);
 * - `M_FORBIDDEN`: our own policy refuses the destination (an address in a
 *   blocked range);
 * - `M_LIMIT_EXCEEDED`: try again later (a destination backed off after
 *   failures, a client holding too many responses).
 */
export type MatrixErrcode = ErrCode | 'M_UNKNOWN' | 'M_FORBIDDEN' | 'M_LIMIT_EXCEEDED';

/** What {@link MatrixServerlibError}'s constructor takes besides the message. */
export interface MatrixServerlibErrorOptions {
  /** The error this one is raised because of. */
  readonly cause?: unknown;
}

/**
 * The base class of every error this library throws: catch it to catch
 * them all, and read `code` (stable, one spelling) and `errcode` (the Matrix
 * errcode to answer with) instead of the message.
 *
 * Subclasses: {@link InvalidInputError} (malformed input, in every area),
 * `FederationError` (a federation request failed) and `DiscoveryError` (a
 * server name cannot be resolved), the last two in
 * `matrix-serverlib/federation`. Guide: [Errors](../docs/errors.md).
 *
 * @example
 * ```ts
 * function handle(body: Uint8Array) {
 *   try {
 *     const request = parseJson(body);
 *     // … serve the request
 *     return { status: 200, body: {} };
 *   } catch (e) {
 *     if (e instanceof MatrixServerlibError) return { status: 400, body: { errcode: e.errcode, error: e.message } };
 *     throw e;
 *   }
 * }
 * ```
 */
export abstract class MatrixServerlibError extends Error {
  /**
   * What went wrong, stable across releases: lower case words joined by
   * `-`, the same word for the same failure in every class (`too-large`).
   * Each subclass narrows it to its own union.
   */
  abstract readonly code: string;
  /** The Matrix errcode a homeserver answers when this error ends a request it serves. */
  readonly errcode: MatrixErrcode;

  /**
   * @param errcode - the Matrix errcode.
   * @param message - a sentence a person can act on.
   * @param options - the error this one wraps, if any.
   */
  constructor(errcode: MatrixErrcode, message: string, options: MatrixServerlibErrorOptions = {}) {
    super(message, 'cause' in options ? { cause: options.cause } : undefined);
    this.errcode = errcode;
  }
}

/**
 * The `code` of an {@link InvalidInputError}: its errcode in the library's
 * spelling (`M_BAD_JSON` is `bad-json`).
 */
export type InvalidInputCode =
  | 'not-json'
  | 'bad-json'
  | 'too-large'
  | 'invalid-param'
  | 'missing-param'
  | 'unsupported-room-version'
  | 'unrecognized';

/** The `code` of an {@link InvalidInputError} for each of its errcodes. */
const INPUT_CODES: Readonly<Record<ErrCode, InvalidInputCode>> = {
  M_NOT_JSON: 'not-json',
  M_BAD_JSON: 'bad-json',
  M_TOO_LARGE: 'too-large',
  M_INVALID_PARAM: 'invalid-param',
  M_MISSING_PARAM: 'missing-param',
  M_UNSUPPORTED_ROOM_VERSION: 'unsupported-room-version',
  M_UNRECOGNIZED: 'unrecognized',
};

/**
 * Raised when input is malformed: not JSON, JSON that breaks Canonical JSON's
 * rules, an unknown room version, a bad key or key ID, a malformed X-Matrix
 * header.
 *
 * `errcode` names the failure and `code` is the same in the library's
 * spelling (`M_TOO_LARGE` and `too-large`); both are stable across
 * releases, `message` is for people and may change.
 */
export class InvalidInputError extends MatrixServerlibError {
  /** The errcode in the library's spelling, e.g. `bad-json`. */
  readonly code: InvalidInputCode;
  /** The Matrix errcode naming the kind of failure. */
  declare readonly errcode: ErrCode;

  /**
   * @param errcode - the Matrix errcode for this failure.
   * @param message - a sentence a person can act on.
   * @param options - the error this one is raised because of, if any.
   */
  constructor(errcode: ErrCode, message: string, options?: MatrixServerlibErrorOptions) {
    super(errcode, message, options);
    this.name = 'InvalidInputError';
    this.code = INPUT_CODES[errcode];
  }
}
