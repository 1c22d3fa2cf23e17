/**
 * A tiny HTTPS federation server standing in for "our" side in live tests:
 * it listens on an IP literal (default 127.0.0.3) with a leaf certificate
 * from the test CA, records every request it receives, and answers with the
 * handlers a test gives it. It serves its own signed key response
 * (`/_matrix/key/v2/server`) unless told not to, so that a real homeserver
 * can fetch our keys.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { createServer, type Server } from 'node:https';
import { encodeCanonicalJson, parseJson } from '../../../src/canonicaljson/index.js';
import type { JsonObject, JsonValue } from '../../../src/canonicaljson/value.js';
import { encodeBase64, SigningKey, signJson } from '../../../src/signing/index.js';
import type { TestCa } from './certs.js';
import { freePort } from './http.js';

/** A request the stub received. */
export interface RecordedRequest {
  method: string;
  /** The request target exactly as sent: path and query, still percent-encoded. */
  uri: string;
  /** The path part of `uri` (no query), still percent-encoded. */
  path: string;
  /** The query parameters. */
  query: URLSearchParams;
  /** Headers, names lower-cased (node's view). */
  headers: IncomingHttpHeaders;
  /** Headers as sent: name, value, name, value… */
  rawHeaders: string[];
  /** The body bytes (empty when none). */
  body: Buffer;
  /** The body parsed by our strict parser, when it is JSON; undefined otherwise. */
  json: JsonValue | undefined;
  /** When it arrived (ms since the epoch). */
  receivedAt: number;
}

/** What a handler answers. */
export interface StubReply {
  /** Default 200. */
  status?: number;
  headers?: Record<string, string>;
  /** A JSON value (sent as Canonical JSON), or text or bytes sent as is. Default `{}`. */
  body?: JsonValue | Uint8Array;
}

/** Answers one request. */
export type StubHandler = (req: RecordedRequest, stub: FederationStub) => StubReply | Promise<StubReply>;

/** Options for {@link startFederationStub}. */
export interface FederationStubOptions {
  /** The CA that issues the stub's certificate (the homeserver must trust it). */
  ca: TestCa;
  /** Default 127.0.0.3. */
  host?: string;
  /** Default: a free port. */
  port?: number;
  /** The stub's signing key; default a new one. */
  signingKey?: SigningKey;
  /** Default `ed25519:stub`. */
  keyId?: string;
  /** Serve `/_matrix/key/v2/server` signed with the key; default true. */
  serveKeys?: boolean;
  /** Request body cap; default 1 MiB (bigger gets 413 M_TOO_LARGE). */
  maxBodyBytes?: number;
}

/** A running stub. */
export interface FederationStub {
  /** `host:port`, an IP-literal server name. */
  serverName: string;
  /** `https://host:port`. */
  url: string;
  host: string;
  port: number;
  signingKey: SigningKey;
  keyId: string;
  /** Every request received so far, in order. */
  requests: RecordedRequest[];
  /**
   * Adds a handler for `method` (or `*`) and a path (exact) or pattern
   * (tested against the path without query). Later routes win over earlier
   * ones; unmatched requests get 404 `M_UNRECOGNIZED`.
   */
  route(method: string, path: string | RegExp, handler: StubHandler): void;
  /** Our key response, signed, valid for `validForMs` (default one day). */
  keyResponse(validForMs?: number): JsonObject;
  /** The first recorded request (past or future) matching `predicate`. */
  waitForRequest(predicate: (r: RecordedRequest) => boolean, timeoutMs?: number): Promise<RecordedRequest>;
  /** Closes the server and every open connection. */
  close(): Promise<void>;
}

interface Route {
  method: string;
  path: string | RegExp;
  handler: StubHandler;
}

/** Starts a stub federation server. */
export async function startFederationStub(options: FederationStubOptions): Promise<FederationStub> {
  const host = options.host ?? '127.0.0.3';
  const port = options.port ?? (await freePort(host));
  const leaf = options.ca.issue({ ips: [host] });
  const signingKey = options.signingKey ?? SigningKey.generate();
  const keyId = options.keyId ?? 'ed25519:stub';
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  const routes: Route[] = [];
  const requests: RecordedRequest[] = [];
  const waiters = new Set<{ predicate: (r: RecordedRequest) => boolean; resolve: (r: RecordedRequest) => void }>();
  const serverName = `${host.includes(':') ? `[${host}]` : host}:${port}`;

  const server: Server = createServer({ cert: leaf.certPem, key: leaf.keyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBodyBytes) tooLarge = true;
      else chunks.push(c);
    });
    req.on('end', () => {
      const send = (status: number, body: JsonValue | Uint8Array, headers: Record<string, string> = {}) => {
        const isBytes = body instanceof Uint8Array;
        const bytes = isBytes ? Buffer.from(body) : Buffer.from(encodeCanonicalJson(body), 'utf8');
        const hasType = Object.keys(headers).some((h) => h.toLowerCase() === 'content-type');
        res.writeHead(status, {
          ...(isBytes || hasType ? {} : { 'Content-Type': 'application/json' }),
          ...headers,
          'Content-Length': String(bytes.length),
        });
        res.end(bytes);
      };
      if (tooLarge) {
        send(413, { errcode: 'M_TOO_LARGE', error: 'Request body too large' });
        return;
      }
      const uri = req.url ?? '/';
      const q = uri.indexOf('?');
      const body = Buffer.concat(chunks);
      let json: JsonValue | undefined;
      if (body.length > 0) {
        try {
          json = parseJson(body);
        } catch {
          json = undefined;
        }
      }
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET',
        uri,
        path: q < 0 ? uri : uri.slice(0, q),
        query: new URLSearchParams(q < 0 ? '' : uri.slice(q + 1)),
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        body,
        json,
        receivedAt: Date.now(),
      };
      requests.push(recorded);
      for (const w of waiters) {
        if (w.predicate(recorded)) {
          waiters.delete(w);
          w.resolve(recorded);
        }
      }
      const route = routes.findLast(
        (r) =>
          (r.method === '*' || r.method === recorded.method) &&
          (typeof r.path === 'string' ? r.path === recorded.path : r.path.test(recorded.path)),
      );
      if (route === undefined) {
        send(404, { errcode: 'M_UNRECOGNIZED', error: `No stub route for ${recorded.method} ${recorded.path}` });
        return;
      }
      Promise.resolve()
        .then(() => route.handler(recorded, stub))
        .then(
          (reply) => send(reply.status ?? 200, reply.body ?? {}, reply.headers),
          (e: unknown) => send(500, { errcode: 'M_UNKNOWN', error: `Stub handler failed: ${String(e)}` }),
        );
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });

  const stub: FederationStub = {
    serverName,
    url: `https://${serverName}`,
    host,
    port,
    signingKey,
    keyId,
    requests,
    route(method, path, handler) {
      routes.push({ method: method.toUpperCase(), path, handler });
    },
    keyResponse(validForMs = 86400_000) {
      const keys: JsonObject = {};
      keys[keyId] = { key: encodeBase64(signingKey.publicKey) };
      return signJson(
        { server_name: serverName, valid_until_ts: Date.now() + validForMs, verify_keys: keys, old_verify_keys: {} },
        serverName,
        keyId,
        signingKey,
      );
    },
    waitForRequest(predicate, timeoutMs = 15_000) {
      const seen = requests.find(predicate);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise<RecordedRequest>((resolve, reject) => {
        const w = {
          predicate,
          resolve: (r: RecordedRequest) => {
            clearTimeout(timer);
            resolve(r);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(w);
          const got = requests.map((r) => `${r.method} ${r.uri}`).join('\n  ');
          reject(new Error(`The stub got no matching request in ${timeoutMs} ms; it got:\n  ${got || '(none)'}`));
        }, timeoutMs);
        waiters.add(w);
      });
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
  if (options.serveKeys ?? true) {
    stub.route('GET', '/_matrix/key/v2/server', () => ({ body: stub.keyResponse() }));
  }
  return stub;
}
