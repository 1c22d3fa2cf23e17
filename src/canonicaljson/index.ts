/**
 * Canonical JSON: strict parsing of untrusted JSON (MSC4458) and the
 * Canonical JSON encoding that hashes and signatures are computed over.
 *
 * Guide: [Parsing, encoding and signing JSON](../../docs/canonical-json-and-signing.md).
 *
 * @example
 * ```ts
 * import { parseJson, encodeCanonicalJson } from 'matrix-serverlib/canonicaljson';
 * const value = parseJson('{"b": 2, "a": 1}');
 * encodeCanonicalJson(value); // '{"a":1,"b":2}'
 * ```
 *
 * @module canonicaljson
 */

export {
  type ErrCode,
  type InvalidInputCode,
  InvalidInputError,
  type MatrixErrcode,
  MatrixServerlibError,
  type MatrixServerlibErrorOptions,
} from '../errors.js';
export { type EncodeOptions, encodeCanonicalJson, encodeCanonicalJsonBytes } from './encode.js';
export { compareCodePoints, sortByCodePoint, sortedKeys } from './keyorder.js';
export {
  DEFAULT_MAX_DEPTH,
  DEFAULT_MAX_LENGTH,
  type NumberRules,
  type ParseOptions,
  parseJson,
} from './parse.js';
export { pythonFloatRepr } from './pyfloat.js';
export { isJsonObject, JsonFloat, type JsonObject, type JsonValue, setOwn } from './value.js';
