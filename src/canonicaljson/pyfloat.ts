/**
 * Python's `repr` of a float, which is how Synapse (through Python's `json`
 * module) writes floats into the Canonical JSON of events in room versions
 * 1–5. Matching it byte for byte is what makes hashes and signatures of old
 * events agree.
 *
 * Python's repr uses the shortest digit string that round-trips (as
 * ECMAScript's `toExponential()` with no argument does), then writes it in
 * positional form when the decimal exponent is in [-4, 16) and in
 * exponential form (`1e+16`, `1.5e-07`) otherwise, adding `.0` to positional
 * numbers without a fraction.
 *
 * @module
 */

/**
 * Formats a finite double as Python's `repr(float)` does.
 *
 * @param x - a finite number.
 * @returns e.g. `1.0`, `-0.0`, `0.0001`, `1e-05`, `1e+16`, `1.7976931348623157e+308`.
 *   Never throws.
 */
export function pythonFloatRepr(x: number): string {
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const exponential = x.toExponential();
  const e = exponential.indexOf('e');
  const sign = x < 0 ? '-' : '';
  const mantissa = exponential.slice(sign.length, e);
  const digits = mantissa.length > 1 ? mantissa[0] + mantissa.slice(2) : mantissa;
  const exponent = Number(exponential.slice(e + 1));
  // Position of the decimal point relative to the first digit, as CPython's
  // float_repr_style 'short' computes it.
  const point = exponent + 1;
  if (point > -4 && point <= 16) {
    if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
    if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}.0`;
    return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
  }
  const abs = Math.abs(exponent);
  return `${sign}${mantissa}e${exponent < 0 ? '-' : '+'}${abs < 10 ? '0' : ''}${abs}`;
}
