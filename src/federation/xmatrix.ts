/**
 * X-Matrix request authentication (spec: server-server API, "Request
 * Authentication"; the header grammar is RFC 9110 §11.4 with the auth-param
 * list of §5.6.1 and the quoted-string of §5.6.4).
 *
 * A federation request is authenticated by signing the JSON object
 * `{method, uri, origin, destination, content}` with the origin's signing
 * key and sending the signature in an `Authorization: X-Matrix …` header.
 *
 * Parsing follows the RFC grammar with the spec's compatibility rule (values
 * holding colons may be sent unquoted) and returns what Synapse's parser
 * returns for every header both accept; where Synapse is more lenient than
 * the RFC (unterminated quotes, values with any characters, empty names) we
 * refuse, and where it is stricter (a lower-case scheme, spaces around `=`,
 * empty list elements, commas inside quoted values) we follow the RFC.
 * Verification follows Synapse's `Authenticator.authenticate_request`.
 *
 * One rule decides between throwing and answering, as Synapse's status
 * codes do: a request that cannot be read — an `Authorization` header
 * HTTP cannot carry or over the size limit, an X-Matrix header that does not
 * parse or lacks `origin`, `key` or `sig`, an origin that is not a server
 * name, a method or URI that is not ASCII, a body Canonical JSON cannot
 * encode — throws {@link InvalidInputError} (Synapse answers 400); a
 * request that can be read but is not authenticated — no X-Matrix header,
 * a `destination` that is not ours (whatever it holds), no Ed25519 key, no
 * key known and valid, a signature that does not decode or does not match —
 * is the value `{valid: false, reason}` (Synapse answers 401).
 *
 * @module
 */

import { encodeCanonicalJson } from '../canonicaljson/encode.js';
import type { JsonObject, JsonValue } from '../canonicaljson/value.js';
import { InvalidInputError } from '../errors.js';
import {
  type AsyncEventKeyLookup,
  type EventKeyLookup,
  type EventVerifyKey,
  keyAnswerProblem,
  keyMapProblem,
} from '../events/signatures.js';
import { parseServerName } from '../identifiers/identifiers.js';
import type { SigningKey } from '../signing/ed25519.js';
import { signJson, verifyJson } from '../signing/signedjson.js';
import { raceAbort } from '../util/abort.js';

/**
 * The largest Authorization header value accepted, in UTF-8 bytes: Synapse's
 * HTTP server (Twisted) refuses a request whose header block is larger.
 */
export const MAX_AUTHORIZATION_BYTES = 16384;

/** The parameters of an X-Matrix Authorization header. */
export interface XMatrixAuthorization {
  /** The server name of the sending server; always a valid server name. */
  readonly origin: string;
  /**
   * The server name of the receiving server, as sent (not checked here);
   * absent in headers of servers older than spec v1.3.
   */
  readonly destination?: string;
  /** The ID of the key that signed the request, as sent, e.g. `ed25519:a_1`. */
  readonly key: string;
  /** The signature, unpadded Base64 as sent. */
  readonly sig: string;
}

// Character classes of RFC 9110 §5.6.2 (tchar) and §5.6.4 (quoted-string).
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") {
  TCHAR[c.charCodeAt(0)] = 1;
}
/** Unquoted values: token characters, and `:` (the spec's compatibility rule) with `[` `]` (IPv6 origins). */
const VALUE_CHAR = TCHAR.slice();
for (const c of ':[]') VALUE_CHAR[c.charCodeAt(0)] = 1;

const SP = 0x20;
const HTAB = 0x09;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const EQUALS = 0x3d;

const isTchar = (c: number) => c < 128 && TCHAR[c] === 1;
const isValueChar = (c: number) => c < 128 && VALUE_CHAR[c] === 1;
/** qdtext and the second character of a quoted-pair: HTAB, SP, VCHAR, obs-text. */
const isQuotable = (c: number) => c === HTAB || (c >= 0x20 && c !== 0x7f);

function malformed(message: string, cause?: unknown): InvalidInputError {
  return new InvalidInputError(
    'M_INVALID_PARAM',
    `Malformed X-Matrix Authorization header: ${message}`,
    cause === undefined ? {} : { cause },
  );
}

/** A short, printable excerpt of untrusted text for messages. */
function excerpt(text: string): string {
  return JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text);
}

/**
 * The header value as an HTTP server hands it over: text UTF-8 can encode,
 * at most {@link MAX_AUTHORIZATION_BYTES}, without the spaces and tabs
 * around it (RFC 9110 §5.5), and without NUL, CR or LF.
 */
function fieldValue(header: string): string {
  // For JavaScript callers, who may pass anything.
  if (typeof header !== 'string') throw malformed(`it is a ${typeof header}, not a string`);
  if (!header.isWellFormed()) throw malformed('it holds an unpaired surrogate');
  if (header.length > MAX_AUTHORIZATION_BYTES || Buffer.byteLength(header, 'utf8') > MAX_AUTHORIZATION_BYTES) {
    throw new InvalidInputError('M_TOO_LARGE', `The Authorization header is over ${MAX_AUTHORIZATION_BYTES} bytes`);
  }
  let start = 0;
  let end = header.length;
  while (start < end && (header.charCodeAt(start) === SP || header.charCodeAt(start) === HTAB)) start++;
  while (end > start && (header.charCodeAt(end - 1) === SP || header.charCodeAt(end - 1) === HTAB)) end--;
  const value = header.slice(start, end);
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0 || c === 0x0a || c === 0x0d) throw malformed('it holds NUL, CR or LF');
  }
  return value;
}

/** The length of the auth-scheme token at the start of `value`. */
function schemeLength(value: string): number {
  let i = 0;
  while (i < value.length && isTchar(value.charCodeAt(i))) i++;
  return i;
}

function isXMatrixScheme(value: string): boolean {
  const n = schemeLength(value);
  return n === 8 && value.slice(0, n).toLowerCase() === 'x-matrix';
}

/**
 * Reads the auth-param list after the scheme and its spaces: `#auth-param`
 * (RFC 9110 §5.6.1: `[ element ] *( OWS "," OWS [ element ] )`, so empty
 * elements are skipped), each `token BWS "=" BWS ( value / quoted-string )`.
 * Names are lower-cased; the last of two same-named parameters wins (as in
 * Synapse). One pass, no backtracking.
 */
function readParams(value: string, from: number): Map<string, string> {
  const params = new Map<string, string>();
  const n = value.length;
  let i = from;
  const skipOws = () => {
    while (i < n && (value.charCodeAt(i) === SP || value.charCodeAt(i) === HTAB)) i++;
  };
  for (;;) {
    // At an element: the start of the list, or after a comma and its OWS.
    // An empty element may be followed by OWS before its comma.
    const at = i;
    skipOws();
    if (i >= n) return params;
    if (value.charCodeAt(i) === COMMA) {
      i++;
      skipOws();
      continue;
    }
    if (i !== at) throw malformed(`expected a parameter name at character ${at}`);
    const nameStart = i;
    while (i < n && isTchar(value.charCodeAt(i))) i++;
    if (i === nameStart) throw malformed(`expected a parameter name at character ${i}`);
    const name = value.slice(nameStart, i).toLowerCase();
    skipOws();
    if (i >= n || value.charCodeAt(i) !== EQUALS) {
      throw malformed(`expected "=" after the parameter name ${excerpt(name)} at character ${i}`);
    }
    i++;
    skipOws();
    let v: string;
    if (i < n && value.charCodeAt(i) === DQUOTE) {
      i++;
      v = '';
      let run = i;
      for (;;) {
        if (i >= n) throw malformed(`the quoted value of ${excerpt(name)} is not terminated`);
        const c = value.charCodeAt(i);
        if (c === DQUOTE) break;
        if (c === BACKSLASH) {
          if (i + 1 >= n) throw malformed(`the quoted value of ${excerpt(name)} is not terminated`);
          if (!isQuotable(value.charCodeAt(i + 1))) {
            throw malformed(`a control character is escaped in the value of ${excerpt(name)}`);
          }
          v += value.slice(run, i) + value[i + 1];
          i += 2;
          run = i;
          continue;
        }
        if (!isQuotable(c)) throw malformed(`a control character is in the value of ${excerpt(name)}`);
        i++;
      }
      v += value.slice(run, i);
      i++;
    } else {
      const valueStart = i;
      while (i < n && isValueChar(value.charCodeAt(i))) i++;
      if (i === valueStart) {
        throw malformed(`the value of ${excerpt(name)} at character ${i} is neither a token nor a quoted string`);
      }
      v = value.slice(valueStart, i);
    }
    params.set(name, v);
    skipOws();
    if (i >= n) return params;
    if (value.charCodeAt(i) !== COMMA) throw malformed(`expected "," at character ${i}`);
    i++;
    skipOws();
  }
}

/** Parses a value already through {@link fieldValue}. */
function parseFieldValue(value: string): XMatrixAuthorization {
  const n = schemeLength(value);
  if (!isXMatrixScheme(value)) {
    throw malformed(`the scheme is ${excerpt(value.slice(0, n) || value.slice(0, 1))}, not X-Matrix`);
  }
  let params = new Map<string, string>();
  if (n < value.length) {
    if (value.charCodeAt(n) !== SP) throw malformed('the scheme must be followed by a space');
    let i = n;
    while (i < value.length && value.charCodeAt(i) === SP) i++;
    params = readParams(value, i);
  }
  const origin = params.get('origin');
  if (origin === undefined) throw new InvalidInputError('M_MISSING_PARAM', 'The X-Matrix header has no origin');
  try {
    parseServerName(origin);
  } catch (e) {
    throw malformed(`the origin ${excerpt(origin)} is not a valid server name`, e);
  }
  const key = params.get('key');
  if (key === undefined) throw new InvalidInputError('M_MISSING_PARAM', 'The X-Matrix header has no key');
  const sig = params.get('sig');
  if (sig === undefined) throw new InvalidInputError('M_MISSING_PARAM', 'The X-Matrix header has no sig');
  const destination = params.get('destination');
  return destination === undefined ? { origin, key, sig } : { origin, destination, key, sig };
}

/**
 * Parses the value of an `Authorization` header of the X-Matrix scheme.
 *
 * The grammar is RFC 9110's: the scheme (case-insensitive), one or more
 * spaces, then a comma-separated list of `name=value` parameters with
 * optional spaces and tabs around the commas and the `=`; names are
 * case-insensitive, values are tokens or quoted strings with backslash
 * escapes; empty list elements are skipped. As the spec asks for
 * compatibility with older servers, unquoted values may hold `:` (and `[`,
 * `]`, for IPv6 origins). Unknown parameters are ignored; of two parameters
 * with the same name the last wins, as in Synapse. Spaces and tabs around
 * the value are ignored, as an HTTP server strips them.
 *
 * `origin` must be a valid server name (Synapse checks it too); `key`,
 * `sig` and `destination` are returned as sent, to be checked when the
 * request is verified.
 *
 * Linear time, no regular expressions; input over
 * {@link MAX_AUTHORIZATION_BYTES} is refused before it is read.
 *
 * @param header - the header value, e.g. `X-Matrix origin="a.example",key="ed25519:1",sig="…"`.
 * @returns the parameters.
 * @throws {@link InvalidInputError} `M_MISSING_PARAM` if `origin`, `key`
 *   or `sig` is missing; `M_TOO_LARGE` if the header is too large;
 *   `M_INVALID_PARAM` for anything else: another scheme, a syntax error, an
 *   origin that is not a server name, control characters, unpaired
 *   surrogates.
 */
export function parseXMatrix(header: string): XMatrixAuthorization {
  return parseFieldValue(fieldValue(header));
}

/**
 * Writes a quoted-string: `"` and `\` escaped. Refuses what no header can
 * carry (control characters) and what senders must not generate (non-ASCII).
 */
function quote(name: string, value: string): string {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c >= 0x7f) {
      throw new InvalidInputError(
        'M_INVALID_PARAM',
        `The ${name} ${excerpt(value)} holds a character an X-Matrix header cannot carry`,
      );
    }
  }
  return `"${value.replace(/["\\]/g, '\\$&')}"`;
}

/**
 * Writes an X-Matrix `Authorization` header value:
 * `X-Matrix origin="…",destination="…",key="…",sig="…"`, the parameters in
 * the spec's order, every value quoted (escaping `"` and `\`), a single
 * space after the scheme and none around the commas, as the spec asks of
 * senders for compatibility with older servers. Synapse writes the same
 * parameters in another order (`destination` last); the order carries no
 * meaning.
 *
 * @param auth - the parameters.
 * @returns the header value.
 * @throws {@link InvalidInputError} `M_INVALID_PARAM` if a value holds a
 *   control character or a character outside ASCII.
 */
export function formatXMatrix(auth: XMatrixAuthorization): string {
  const parts = [`origin=${quote('origin', auth.origin)}`];
  if (auth.destination !== undefined) parts.push(`destination=${quote('destination', auth.destination)}`);
  parts.push(`key=${quote('key', auth.key)}`, `sig=${quote('sig', auth.sig)}`);
  return `X-Matrix ${parts.join(',')}`;
}

/** A federation request to sign: what the signature covers. */
export interface OutgoingRequest {
  /** The HTTP method, e.g. `PUT`. */
  readonly method: string;
  /**
   * The request target as sent: the path from `/_matrix/…` with the `?` and
   * query string if any, percent-encoded as on the wire; no scheme or host.
   */
  readonly uri: string;
  /** Our server name (before any delegation). */
  readonly origin: string;
  /** The receiving server's name (before any delegation). */
  readonly destination: string;
  /**
   * The request body as parsed JSON; absent (or `null`, as for Synapse) when
   * the request has no body, as for `GET`.
   */
  readonly content?: JsonValue;
}

// Request bodies are signed as Synapse's signedjson encodes them: whatever
// numbers they hold (no room version applies).
const SIGNED_JSON = { numbers: 'legacy' } as const;

function assertAscii(name: string, value: string): void {
  for (let i = 0; i < value.length; i++) {
    if (value.charCodeAt(i) > 0x7f) {
      throw new InvalidInputError('M_INVALID_PARAM', `The request ${name} ${excerpt(value)} is not ASCII`);
    }
  }
}

/**
 * The JSON object a request signature covers:
 * `{method, uri, origin, destination, content}`, `content` only if the
 * request has a body.
 *
 * @param request - the request.
 * @returns the object to sign (without `signatures`). Never throws.
 */
export function requestJson(request: OutgoingRequest): JsonObject {
  const json: JsonObject = {
    method: request.method,
    uri: request.uri,
    origin: request.origin,
    destination: request.destination,
  };
  if (request.content !== undefined && request.content !== null) json.content = request.content;
  return json;
}

/**
 * Signs a federation request and returns the `Authorization` header value
 * to send with it (see {@link formatXMatrix}).
 *
 * @param request - the request; `origin` is our server name.
 * @param keyId - our key's ID, e.g. `ed25519:a_1`.
 * @param key - our signing key.
 * @returns `X-Matrix origin="…",destination="…",key="…",sig="…"`.
 * @throws {@link InvalidInputError} `M_INVALID_PARAM` if `origin` or
 *   `destination` is not a valid server name, the key ID is malformed, or
 *   the method or URI is not ASCII; `M_BAD_JSON` if the body cannot be
 *   encoded as Canonical JSON (unpaired surrogates, non-finite numbers).
 */
export function signRequest(request: OutgoingRequest, keyId: string, key: SigningKey): string {
  parseServerName(request.origin);
  parseServerName(request.destination);
  assertAscii('method', request.method);
  assertAscii('URI', request.uri);
  const signed = signJson(requestJson(request), request.origin, keyId, key, SIGNED_JSON);
  const sig = ((signed.signatures as JsonObject)[request.origin] as JsonObject)[keyId] as string;
  return formatXMatrix({ origin: request.origin, destination: request.destination, key: keyId, sig });
}

/** A federation request as received, to verify. */
export interface IncomingRequest {
  /** The HTTP method as received. */
  readonly method: string;
  /**
   * The request target as received: path and query string, not decoded
   * (what Node's `IncomingMessage.url` holds).
   */
  readonly uri: string;
  /** Our server name: the destination the request must have been signed for. */
  readonly destination: string;
  /**
   * The request body as parsed JSON; absent (or `null`) for a request
   * without a body, such as `GET`.
   */
  readonly content?: JsonValue;
  /**
   * The `Authorization` header value, or all of them in order if there are
   * several (none: an empty list; `undefined` is read as none too).
   */
  readonly authorization: string | readonly string[];
}

/** Options for {@link verifyRequest} and {@link checkRequestSignature}. */
export interface VerifyRequestOptions {
  /**
   * The time, in milliseconds since the epoch, at which the signing key
   * must be valid; default now.
   */
  readonly now?: number;
  /**
   * For {@link verifyRequest}: gives up the key lookup (the request was
   * cancelled), rejecting with the signal's reason; passed on to the
   * lookup (a keyring stops its fetch unless other lookups wait for it).
   */
  readonly signal?: AbortSignal | undefined;
}

/** The outcome of verifying a request: who sent it, or why it is refused. */
export type RequestCheck =
  | {
      /** The request is signed by `origin`. */
      readonly valid: true;
      /** The authenticated server name of the sender. */
      readonly origin: string;
    }
  | {
      /** The request is not authenticated: answer 401. */
      readonly valid: false;
      /** Why, in a sentence. */
      readonly reason: string;
    };

/** What the headers name: a result already, or the keys to look up. */
type Prepared =
  | { readonly done: RequestCheck }
  | {
      readonly done?: undefined;
      readonly origin: string;
      readonly keyIds: readonly string[];
      readonly signed: JsonObject;
    };

/**
 * The checks that need no key, in Synapse's order: our server name, each
 * header as HTTP delivers it, the body, method and URI, then each X-Matrix
 * header in turn (parsed, its destination compared with ours).
 */
function prepare(request: IncomingRequest): Prepared {
  parseServerName(request.destination);
  const given = request.authorization as unknown;
  // A JavaScript caller may pass Node's `req.headers.authorization` as is:
  // absent is no header.
  const headers = typeof given === 'string' ? [given] : (given ?? []);
  if (!Array.isArray(headers)) throw malformed('the headers are neither a string nor a list');
  const values = headers.map(fieldValue);
  const content = request.content ?? undefined;
  if (content !== undefined) encodeCanonicalJson(content, SIGNED_JSON);
  assertAscii('method', request.method);
  assertAscii('URI', request.uri);
  let origin: string | undefined;
  const signatures = new Map<string, Map<string, string>>();
  for (const value of values) {
    // Headers of other schemes are not ours to read.
    if (!isXMatrixScheme(value)) continue;
    const auth = parseFieldValue(value);
    origin = auth.origin;
    let mine = signatures.get(origin);
    if (mine === undefined) signatures.set(origin, (mine = new Map()));
    mine.set(auth.key, auth.sig);
    if (auth.destination !== undefined && auth.destination !== request.destination) {
      return {
        done: {
          valid: false,
          reason: `The request was signed for ${excerpt(auth.destination)}, not for ${request.destination}`,
        },
      };
    }
  }
  if (origin === undefined)
    return { done: { valid: false, reason: 'The request has no X-Matrix Authorization header' } };
  // Synapse's signature_ids: only keys of a supported algorithm count.
  const mine = signatures.get(origin) as Map<string, string>;
  const keyIds = [...mine.keys()].filter((id) => id.split(':')[0] === 'ed25519');
  if (keyIds.length === 0)
    return { done: { valid: false, reason: `The request is not signed by ${origin} with an Ed25519 key` } };
  const json = requestJson({
    method: request.method,
    uri: request.uri,
    origin,
    destination: request.destination,
    ...(content === undefined ? {} : { content }),
  });
  const sigs: JsonObject = {};
  for (const keyId of keyIds) sigs[keyId] = mine.get(keyId) as string;
  return { origin, keyIds, signed: { ...json, signatures: { [origin]: sigs } } };
}

/**
 * Checks the signatures once the keys are known, as Synapse's keyring does:
 * keys not found, or not valid at `now`, are skipped; every other signature
 * must verify, and at least one must. Old keys (`old_verify_keys`) are
 * skipped too: the spec makes them valid for events only, although Synapse
 * accepts them for requests.
 */
function finish(
  prepared: Exclude<Prepared, { done: RequestCheck }>,
  find: (keyId: string) => EventVerifyKey | undefined,
  now: number,
): RequestCheck {
  const { origin, keyIds, signed } = prepared;
  let verified = false;
  for (const keyId of keyIds) {
    const found = find(keyId);
    if (found === undefined) continue;
    const wrong = keyAnswerProblem(found, origin, keyId);
    if (wrong !== undefined) return { valid: false, reason: wrong };
    if (found.validUntilTs < now || found.old === true) continue;
    const check = verifyJson(signed, origin, keyId, found.key, SIGNED_JSON);
    if (!check.valid) return { valid: false, reason: check.reason };
    verified = true;
  }
  return verified
    ? { valid: true, origin }
    : { valid: false, reason: `No key of ${origin} valid at ${now} is known among ${keyIds.join(', ')}` };
}

/**
 * Verifies an incoming federation request with keys already at hand (the
 * synchronous core of {@link verifyRequest}).
 *
 * What is checked, as Synapse's `Authenticator.authenticate_request` does:
 * every `Authorization` header of the X-Matrix scheme (others are skipped)
 * must parse, and if it names a `destination` that must be ours (a header
 * without one is accepted, as the spec asks for older servers); the origin
 * is the last header's; the signatures of that origin's headers made with
 * Ed25519 keys are checked over `{method, uri, origin, destination: ours,
 * content}`: keys that `lookup` does not know, that are not valid at
 * `now`, or that are old keys (`old_verify_keys`, which the spec allows for
 * events only; Synapse accepts them until they expire) are skipped, every
 * other signature must verify, and at least one must.
 *
 * @param request - the request as received.
 * @param lookup - finds a server's key by key ID.
 * @param options - the time at which keys must be valid.
 * @returns `{valid: true, origin}`, or `{valid: false, reason}` when the
 *   request can be read but is not authenticated (answer 401): no X-Matrix
 *   header, a header naming another destination (or one that is not a
 *   server name), no Ed25519 key, no key known and valid at `now`, a
 *   signature that is not Base64 or does not match.
 * @throws {@link InvalidInputError} when the request cannot be read
 *   (answer 400): a malformed `Authorization` header, X-Matrix or not, as
 *   {@link parseXMatrix} (`M_INVALID_PARAM`, `M_MISSING_PARAM`,
 *   `M_TOO_LARGE`), our `destination` not a server name or a method or URI
 *   not ASCII (`M_INVALID_PARAM`), a body Canonical JSON cannot encode
 *   (`M_BAD_JSON`); and whatever `lookup` throws.
 */
export function checkRequestSignature(
  request: IncomingRequest,
  lookup: EventKeyLookup,
  options: VerifyRequestOptions = {},
): RequestCheck {
  const prepared = prepare(request);
  if (prepared.done !== undefined) return prepared.done;
  return finish(prepared, (keyId) => lookup(prepared.origin, keyId), options.now ?? Date.now());
}

/**
 * Verifies an incoming federation request, fetching the origin's keys with
 * `lookup` (once, for all the key IDs it signed with). See
 * {@link checkRequestSignature} for what is checked.
 *
 * @example
 * ```ts
 * import type { IncomingMessage } from 'node:http';
 *
 * // content: the parsed body, or null when there is none
 * async function authenticate(req: IncomingMessage, content: JsonValue) {
 *   const check = await verifyRequest(
 *     // headersDistinct gives every Authorization header, and [] when there is none.
 *     { method: req.method ?? '', uri: req.url ?? '', destination: 'my.server', content, authorization: req.headersDistinct.authorization ?? [] },
 *     keyring.lookup,
 *   );
 *   if (!check.valid) return respond(401, check.reason);
 *   // check.origin is the authenticated sender
 * }
 * ```
 *
 * @param request - the request as received.
 * @param lookup - fetches keys, e.g. from a keyring; may answer at once or
 *   with a promise.
 * @param options - the time at which keys must be valid.
 * @returns as {@link checkRequestSignature}; a lookup that fails (rejects
 *   or throws), or answers something other than a map of keys, makes the
 *   request not valid, with the failure as reason.
 * @throws {@link InvalidInputError} (the promise rejects) when the request
 *   cannot be read, as {@link checkRequestSignature}; the signal's reason if
 *   it aborts.
 */
export async function verifyRequest(
  request: IncomingRequest,
  lookup: AsyncEventKeyLookup,
  options: VerifyRequestOptions = {},
): Promise<RequestCheck> {
  const prepared = prepare(request);
  if (prepared.done !== undefined) return prepared.done;
  const now = options.now ?? Date.now();
  const { signal } = options;
  signal?.throwIfAborted();
  let keys: ReadonlyMap<string, EventVerifyKey>;
  try {
    // The keys must be valid at the time of the check: a keyring fetches
    // again a cached key that is not.
    const answer =
      signal === undefined
        ? lookup(prepared.origin, prepared.keyIds, now)
        : lookup(prepared.origin, prepared.keyIds, now, { signal });
    keys = await raceAbort(Promise.resolve(answer), signal);
  } catch (e) {
    if (signal?.aborted === true) throw signal.reason;
    return { valid: false, reason: `Key lookup failed: ${e instanceof Error ? e.message : String(e)}` };
  }
  const wrong = keyMapProblem(keys, prepared.origin);
  if (wrong !== undefined) return { valid: false, reason: wrong };
  return finish(prepared, (keyId) => keys.get(keyId), now);
}
