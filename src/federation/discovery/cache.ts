/**
 * How long discovery results are kept: the well-known cache periods (the
 * spec's recommendations, and Synapse's numbers where the spec is silent),
 * reading `Cache-Control` and `Expires` as Synapse does.
 *
 * @module
 */

/**
 * The well-known cache periods, in seconds. The spec recommends 24 hours by
 * default, at most 48 hours, errors for up to an hour, with exponential
 * back-off; the rest are Synapse's numbers (`well_known_resolver.py`).
 */
export const WELL_KNOWN_CACHE = Object.freeze({
  /** Without cache headers (spec: "the recommended sensible default is 24 hours"). */
  defaultPeriod: 24 * 3600,
  /** Upper bound for header-given periods (spec: "48 hours is recommended"). */
  maxPeriod: 48 * 3600,
  /**
   * Lower bound for header-given periods, `no-store` and past `Expires`
   * included (Synapse: 5 minutes; the spec is silent).
   */
  minPeriod: 5 * 60,
  /** Failures (spec: "for up to an hour"; Synapse: 1 hour). */
  failurePeriod: 3600,
  /**
   * Failures shortly after a valid well-known was seen (Synapse: 2 minutes);
   * we double it for each further failure in a row, up to `failurePeriod`
   * (spec: "exponentially back off for repeated failures"; Synapse keeps 2
   * minutes).
   */
  failurePeriodAfterValid: 2 * 60,
  /** How long after a valid well-known expires it still counts as "recently valid" (Synapse: 2 hours). */
  rememberValid: 2 * 3600,
  /**
   * Default and failure periods are multiplied by a random factor in 1 ± this
   * (Synapse: 0.1). A failure may so be kept up to 66 minutes, past the
   * spec's "up to an hour": we match Synapse here, deliberately.
   */
  jitter: 0.1,
  /**
   * A cached result is refetched once less than this fraction of its period
   * is left (Synapse: 0.2); until the refetch succeeds the old one is used
   * if the refetch fails temporarily.
   */
  refreshFraction: 0.2,
});

/** Response headers: lower-case names, a value or the values of repeated headers. */
export type HeaderMap = Readonly<Record<string, string | readonly string[] | undefined>>;

/** The values of header `name` (lower case), in order. */
export function headerValues(headers: HeaderMap, name: string): readonly string[] {
  const v = Object.hasOwn(headers, name) ? headers[name] : undefined;
  return v === undefined ? [] : typeof v === 'string' ? [v] : v;
}

/** ASCII-only lower-casing, as Python's `bytes.lower`. */
function asciiLower(s: string): string {
  return s.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}

/** Strips what Python's `bytes.strip()` strips: space, \t, \n, \v, \f, \r. */
function asciiStrip(s: string): string {
  return s.replace(/^[ \t\n\v\f\r]+|[ \t\n\v\f\r]+$/g, '');
}

/** Python's `int()` on an ASCII string without surrounding space: sign, digits, single underscores between digits. */
const PY_INT = /^[+-]?\d+(?:_\d+)*$/;
/** Python's default limit on the digits of an integer read from a string. */
const PY_INT_MAX_DIGITS = 4300;

function pyInt(s: string): bigint | undefined {
  if (!PY_INT.test(s)) return undefined;
  const digits = s.replace(/[+_-]/g, '');
  if (digits.length > PY_INT_MAX_DIGITS) return undefined;
  return BigInt(s[0] === '-' ? `-${digits}` : digits);
}

/**
 * Reads the cache directives of every `Cache-Control` header: split at
 * commas, each at its first `=`, names lower-cased, later directives
 * replacing earlier ones. Values keep their quotes.
 */
export function parseCacheControl(headers: HeaderMap): Map<string, string | undefined> {
  const directives = new Map<string, string | undefined>();
  for (const header of headerValues(headers, 'cache-control')) {
    for (const directive of header.split(',')) {
      const eq = directive.indexOf('=');
      const key = asciiLower(asciiStrip(eq < 0 ? directive : directive.slice(0, eq)));
      directives.set(key, eq < 0 ? undefined : asciiStrip(directive.slice(eq + 1)));
    }
  }
  return directives;
}

/**
 * How long the response may be cached, in seconds, from its headers, as
 * Synapse reads them: `no-store` → 0; else `max-age` if it is an integer;
 * else the last `Expires` minus now (an invalid date → 0); else undefined
 * (no cache headers: use the default). The caller clamps the result to
 * {@link WELL_KNOWN_CACHE}'s bounds.
 *
 * @param headers - the response headers.
 * @param nowSeconds - the current time in seconds since the epoch.
 * @returns the period, or undefined. Never throws.
 */
export function cachePeriodFromHeaders(headers: HeaderMap, nowSeconds: number): number | undefined {
  const directives = parseCacheControl(headers);
  if (directives.has('no-store')) return 0;
  const maxAge = directives.get('max-age');
  if (maxAge !== undefined && maxAge !== '') {
    const n = pyInt(maxAge);
    if (n !== undefined) return Number(n);
  }
  const expires = headerValues(headers, 'expires');
  if (expires.length > 0) {
    const at = parseHttpDate(expires[expires.length - 1] as string);
    // RFC 9111: an invalid date, "0" especially, means already expired.
    return at === undefined ? 0 : at - nowSeconds;
  }
  return undefined;
}

const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS_BEFORE_MONTH = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
/** What Python's `str.split()` splits ASCII text at. */
const PY_WHITESPACE = /[\t\n\v\f\r\x1c-\x1f ]+/;

/**
 * Parses an HTTP date the way Twisted's `stringToDatetime` (which Synapse
 * uses for `Expires`) does: RFC 1123 (`Sun, 06 Nov 1994 08:49:37 GMT`),
 * RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`, two-digit years below 69 in the
 * 2000s) or asctime (`Sun Nov  6 08:49:37 1994`); the weekday may be missing,
 * the zone is not read, fields are not range-checked, years before 1970 are
 * refused.
 *
 * @param value - the header value.
 * @returns seconds since the epoch, or undefined if it is not a date so read.
 *   Never throws.
 */
export function parseHttpDate(value: string): number | undefined {
  if (!/^[\x00-\x7f]*$/.test(value)) return undefined;
  const parts = value.split(PY_WHITESPACE).filter((p) => p !== '');
  if (parts.length === 0) return undefined;
  if (!WEEKDAYS.includes(asciiLower((parts[0] as string).slice(0, 3)))) {
    // The weekday might have been left out.
    const withWeekday = parseHttpDateParts(['Sun,', ...parts]);
    if (withWeekday !== undefined) return withWeekday;
  }
  return parseHttpDateParts(parts);
}

function parseHttpDateParts(parts: readonly string[]): number | undefined {
  let day: string;
  let month: string;
  let yearText: string;
  let time: string;
  let twoDigitYears = false;
  const p1 = parts[1] ?? '';
  if ((parts.length === 5 || parts.length === 6) && /^\d+$/.test(p1)) {
    [, day, month, yearText, time] = parts as [string, string, string, string, string];
  } else if ((parts.length === 3 || parts.length === 4) && p1.includes('-')) {
    const dmy = p1.split('-');
    if (dmy.length !== 3) return undefined;
    [day, month, yearText] = dmy as [string, string, string];
    time = parts[2] as string;
    twoDigitYears = true;
  } else if (parts.length === 5) {
    [, month, day, time, yearText] = parts as [string, string, string, string, string];
  } else {
    return undefined;
  }
  let year = pyInt(yearText);
  if (year === undefined) return undefined;
  if (twoDigitYears) {
    if (year < 69n) year += 2000n;
    else if (year < 100n) year += 1900n;
  }
  const d = pyInt(day);
  const m = MONTHS.indexOf(asciiLower(month));
  const hms = time.split(':').map(pyInt);
  if (d === undefined || m < 0 || hms.length !== 3 || hms.some((x) => x === undefined)) return undefined;
  const [hour, minute, second] = hms as [bigint, bigint, bigint];
  if (year < 1970n) return undefined;
  const leapYearsBefore = (y: bigint): bigint => y / 4n - y / 100n + y / 400n;
  const isLeap = year % 4n === 0n && (year % 100n !== 0n || year % 400n === 0n);
  let days = 365n * (year - 1970n) + leapYearsBefore(year - 1n) - leapYearsBefore(1969n);
  days += BigInt(DAYS_BEFORE_MONTH[m] as number) + (m >= 2 && isLeap ? 1n : 0n) + d - 1n;
  return Number(((days * 24n + hour) * 60n + minute) * 60n + second);
}
