/**
 * Signing an outgoing federation request and authenticating an incoming one:
 * the code of docs/signing-requests.md, run by
 * test/examples/sign-verify-request.test.ts. `npm run example --
 * sign-verify-request` sends signed, altered and malformed requests to a
 * server on loopback and prints how it answered.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { encodeCanonicalJson, InvalidInputError, type JsonValue, parseJson } from 'matrix-serverlib/canonicaljson';
import type { AsyncEventKeyLookup, EventVerifyKey } from 'matrix-serverlib/events';
import { signRequest, verifyRequest } from 'matrix-serverlib/federation';
import { SigningKey } from 'matrix-serverlib/signing';

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

/**
 * A receiving server on loopback that answers every request with what
 * {@link authenticate} decided: its base URL, and how to stop it.
 */
export async function startReceiver(
  us: OurServer,
  keys: AsyncEventKeyLookup,
): Promise<{ base: string; close: () => Promise<void> }> {
  const server = createServer(async (req, res) => {
    const chunks: Uint8Array[] = [];
    for await (const chunk of req) chunks.push(chunk as Uint8Array);
    const answer = await authenticate(us, req, Buffer.concat(chunks), keys);
    res.writeHead(answer.status, { 'Content-Type': 'application/json' }).end(JSON.stringify(answer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Sends a signed request, the same with its body altered, and a malformed one. */
export async function main(): Promise<void> {
  const a: OurServer = { name: 'a.example', keyId: 'ed25519:a1', key: SigningKey.generate() };
  const b: OurServer = { name: 'b.example', keyId: 'ed25519:b1', key: SigningKey.generate() };
  // b knows a's key (in a server: its keyring, which fetches it).
  const keys: AsyncEventKeyLookup = async (server, keyIds) =>
    new Map<string, EventVerifyKey>(
      server === a.name && keyIds.includes(a.keyId)
        ? [[a.keyId, { key: a.key.verifyKey, validUntilTs: Date.now() + 3_600_000 }]]
        : [],
    );
  const receiver = await startReceiver(b, keys);
  const send = async (
    what: string,
    method: string,
    path: string,
    init: { headers: Record<string, string>; body?: string },
  ) => {
    const res = await fetch(`${receiver.base}${path}`, { method, ...init });
    console.log(`${what}: ${res.status} ${await res.text()}`);
  };
  try {
    const path = '/_matrix/federation/v1/send/1';
    const signed = outgoingRequest(a, b.name, 'PUT', path, { origin: a.name, pdus: [], edus: [] });
    await send('signed', 'PUT', path, signed);
    await send('body altered on the way', 'PUT', path, {
      ...signed,
      body: '{"origin":"a.example","pdus":[],"edus":[1]}',
    });
    await send('malformed header', 'PUT', path, {
      ...signed,
      headers: { Authorization: 'X-Matrix origin="a.example' },
    });
  } finally {
    await receiver.close();
  }
}
