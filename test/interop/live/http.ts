/**
 * Small HTTP helpers for live tests: a request function that trusts a given
 * CA (global fetch cannot be told to), and free-port picking.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';

/** A response, body fully read. */
export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The body as UTF-8 text. */
  text(): string;
}

/** Options for {@link request}. */
export interface RequestOptions {
  /** Default GET. */
  method?: string;
  headers?: Record<string, string>;
  /** A string or bytes is sent as is; anything else as JSON (with a content type). */
  body?: string | Uint8Array | object;
  /** PEM CA certificate(s) to trust for https URLs (instead of the system store). */
  ca?: string | string[];
  /** Whole-request timeout; default 10 s. */
  timeoutMs?: number;
  /** Response size cap; default 8 MiB. */
  maxBytes?: number;
}

/**
 * Makes one HTTP(S) request and reads the whole response. `url` may carry
 * any request target: the path and query are sent exactly as written.
 */
export function request(url: string, options: RequestOptions = {}): Promise<HttpResponse> {
  const u = new URL(url);
  const headers: Record<string, string> = { ...options.headers };
  let body: Buffer | undefined;
  if (typeof options.body === 'string') body = Buffer.from(options.body, 'utf8');
  else if (options.body instanceof Uint8Array) body = Buffer.from(options.body);
  else if (options.body !== undefined) {
    body = Buffer.from(JSON.stringify(options.body), 'utf8');
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
      headers['Content-Type'] = 'application/json';
    }
  }
  if (body !== undefined) headers['Content-Length'] = String(body.length);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxBytes = options.maxBytes ?? 8 * 1024 * 1024;
  const https = u.protocol === 'https:';
  const make = https ? httpsRequest : httpRequest;
  return new Promise<HttpResponse>((resolve, reject) => {
    const req = make(
      {
        host: u.hostname.replace(/^\[|\]$/g, ''),
        port: u.port === '' ? (https ? 443 : 80) : Number(u.port),
        method: options.method ?? 'GET',
        path: `${u.pathname}${u.search}`,
        headers,
        agent: false,
        ...(https && options.ca !== undefined ? { ca: options.ca } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > maxBytes) {
            req.destroy(new Error(`Response from ${url} is over ${maxBytes} bytes`));
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => {
          const b = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: b, text: () => b.toString('utf8') });
        });
        res.on('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${options.method ?? 'GET'} ${url} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** A port that is free on `host` right now (the OS picks it). */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, host, () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      s.close(() => (port > 0 ? resolve(port) : reject(new Error(`No free port on ${host}`))));
    });
  });
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
