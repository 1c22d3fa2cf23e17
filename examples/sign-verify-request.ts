/**
 * Signing an outgoing federation request and authenticating an incoming one:
 * the code of docs/signing-requests.md, run by
 * test/examples/sign-verify-request.test.ts.
 */
import type { IncomingMessage } from 'node:http';
import { encodeCanonicalJson, InvalidInputError, type JsonValue, parseJson } from 'matrix-serverlib/canonicaljson';
import type { AsyncEventKeyLookup } from 'matrix-serverlib/events';
import { signRequest, verifyRequest } from 'matrix-serverlib/federation';
import type { SigningKey } from 'matrix-serverlib/signing';

/** Who we are on the federation: our server name and signing key. */
export interface OurServer {
  name: string;
  keyId: string;
  key: SigningKey;
}

/**
 * The headers and body of a request to another server. `path` is the
 * request target exactly as it will be sent: path and query string,
 * percent-encoded.
 */
export function outgoingRequest(
  us: OurServer,
  destination: string,
  method: string,
  path: string,
  body?: JsonValue,
): { headers: Record<string, string>; body?: string } {
  const authorization = signRequest(
    { method, uri: path, origin: us.name, destination, ...(body === undefined ? {} : { content: body }) },
    us.keyId,
    us.key,
  );
  if (body === undefined) return { headers: { Authorization: authorization } };
  // Any JSON encoding will do: the receiver signs what it parses.
  return {
    headers: { Authorization: authorization, 'Content-Type': 'application/json' },
    body: encodeCanonicalJson(body, { numbers: 'legacy' }),
  };
}

/** The answer to an incoming request: who sent it, or the error to send back. */
export type Authenticated = { status: 200; origin: string } | { status: 400 | 401; error: string };

/**
 * Authenticates a request received by a Node HTTP server, given its body
 * (empty for `GET`) and a way to find the sender's keys.
 */
export async function authenticate(
  us: OurServer,
  req: IncomingMessage,
  body: Uint8Array,
  keys: AsyncEventKeyLookup,
): Promise<Authenticated> {
  // 1. Parse the body once; sign and verify from this value, never the bytes.
  let content: JsonValue | undefined;
  if (body.length > 0) {
    try {
      content = parseJson(body, { numbers: 'legacy' });
    } catch (e) {
      if (e instanceof InvalidInputError) return { status: 400, error: `${e.errcode}: ${e.message}` };
      throw e;
    }
  }
  // 2. Every Authorization header: Node keeps only the first in
  //    `req.headers`, all of them in `req.headersDistinct`.
  const authorization = req.headersDistinct.authorization ?? [];
  // 3. Verify: method, target as received (`req.url`, not decoded), body,
  //    our name as the destination, the origin's keys.
  try {
    const check = await verifyRequest(
      {
        method: req.method ?? '',
        uri: req.url ?? '',
        destination: us.name,
        authorization,
        ...(content === undefined ? {} : { content }),
      },
      keys,
    );
    return check.valid ? { status: 200, origin: check.origin } : { status: 401, error: check.reason };
  } catch (e) {
    // A malformed header (or method, URI, body): a bad request.
    if (e instanceof InvalidInputError) return { status: 400, error: `${e.errcode}: ${e.message}` };
    throw e;
  }
}
