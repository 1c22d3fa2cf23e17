/**
 * The well-known step in isolation, with an injected transport: redirects,
 * limits, classification of failures, and reading the body. The spec: "30x
 * redirects should be followed, however redirection loops should be
 * avoided"; "If the response is invalid (bad JSON, missing properties,
 * non-200 response, etc), skip to step 4"; `m.server` is "parsed as
 * <delegated_hostname>[:<delegated_port>]" (the server-name grammar).
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AddressPolicy } from '../../../src/federation/discovery/addresses.js';
import { DiscoveryError } from '../../../src/federation/discovery/errors.js';
import type { HttpRequest, HttpResponse, HttpTransport } from '../../../src/federation/discovery/http.js';
import {
  fetchWellKnown,
  parseWellKnown,
  WELL_KNOWN_MAX_BYTES,
  WELL_KNOWN_MAX_REDIRECTS,
} from '../../../src/federation/discovery/wellknown.js';
import { isValidServerName } from '../../../src/identifiers/identifiers.js';

const enc = new TextEncoder();

/** A transport answering from a table of URL → response (or error), recording requests. */
function fakeTransport(
  answer: (url: string) => Partial<HttpResponse> | Error,
): HttpTransport & { seen: HttpRequest[] } {
  const seen: HttpRequest[] = [];
  return {
    seen,
    async get(req) {
      seen.push(req);
      const a = answer(req.url);
      if (a instanceof Error) throw a;
      return { status: a.status ?? 200, headers: a.headers ?? {}, body: a.body ?? new Uint8Array() };
    },
  };
}

const ok = (server: string): Partial<HttpResponse> => ({ body: enc.encode(JSON.stringify({ 'm.server': server })) });
const policy = new AddressPolicy();

async function failure(p: Promise<unknown>): Promise<{ code: string; transient: boolean }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof DiscoveryError) return { code: e.code, transient: e.transient };
    throw e;
  }
  throw new Error('expected a DiscoveryError');
}

describe('fetchWellKnown', () => {
  it('GETs https://<hostname>/.well-known/matrix/server with a User-Agent and the size limit', async () => {
    const t = fakeTransport(() => ok('target.example:443'));
    expect(await fetchWellKnown('example.org', { transport: t, policy })).toEqual({
      server: 'target.example:443',
      headers: {},
    });
    expect(t.seen).toEqual([
      {
        url: 'https://example.org/.well-known/matrix/server',
        headers: { 'user-agent': 'matrix-serverlib' },
        maxBytes: WELL_KNOWN_MAX_BYTES,
      },
    ]);
    expect(WELL_KNOWN_MAX_BYTES).toBe(51_200);
  });

  it('uses another port only when told (tests)', async () => {
    const t = fakeTransport(() => ok('a.example'));
    await fetchWellKnown('example.org', { transport: t, policy, port: 8443, userAgent: 'ua' });
    expect(t.seen[0]?.url).toBe('https://example.org:8443/.well-known/matrix/server');
    expect(t.seen[0]?.headers).toEqual({ 'user-agent': 'ua' });
  });

  it.each([301, 302, 303, 307, 308])(
    'follows a %i, relative locations resolved against the current URL',
    async (status) => {
      const t = fakeTransport((url) =>
        url.endsWith('/.well-known/matrix/server')
          ? { status, headers: { location: '../moved?x=1' } }
          : url === 'https://example.org/.well-known/moved?x=1'
            ? ok('moved.example')
            : new Error(`unexpected ${url}`),
      );
      expect((await fetchWellKnown('example.org', { transport: t, policy })).server).toBe('moved.example');
    },
  );

  it(`follows ${WELL_KNOWN_MAX_REDIRECTS} redirects (Twisted's RedirectAgent limit, Synapse's) but not one more`, async () => {
    const chain = (n: number) =>
      fakeTransport((url) => {
        const i = url.endsWith('/server') ? 0 : Number(url.split('/r/')[1]);
        return i < n ? { status: 302, headers: { location: `/r/${i + 1}` } } : ok('end.example');
      });
    const twenty = chain(20);
    expect((await fetchWellKnown('example.org', { transport: twenty, policy })).server).toBe('end.example');
    expect(twenty.seen).toHaveLength(21);
    const more = chain(21);
    expect(await failure(fetchWellKnown('example.org', { transport: more, policy }))).toEqual({
      code: 'too-many-redirects',
      transient: true,
    });
    expect(more.seen).toHaveLength(21);
    expect(
      await failure(fetchWellKnown('example.org', { transport: chain(3), policy, maxRedirects: 2 })),
    ).toMatchObject({
      code: 'too-many-redirects',
    });
  });

  it('stops at the first URL seen twice (a loop), not at the limit', async () => {
    const t = fakeTransport((url) => ({ status: 302, headers: { location: url.endsWith('/a') ? '/b' : '/a' } }));
    expect(await failure(fetchWellKnown('example.org', { transport: t, policy }))).toEqual({
      code: 'redirect-loop',
      transient: true,
    });
    expect(t.seen.map((r) => new URL(r.url).pathname)).toEqual(['/.well-known/matrix/server', '/a', '/b']);
    // The fragment does not make a URL new.
    const frag = fakeTransport(() => ({ status: 302, headers: { location: '/.well-known/matrix/server#x' } }));
    expect((await failure(fetchWellKnown('example.org', { transport: frag, policy }))).code).toBe('redirect-loop');
  });

  it('refuses redirects away from https (a downgrade would let anyone on the path delegate)', async () => {
    for (const location of ['http://example.org/x', 'ftp://example.org/x', 'data:text/plain,{}']) {
      const t = fakeTransport(() => ({ status: 302, headers: { location } }));
      expect(await failure(fetchWellKnown('example.org', { transport: t, policy }))).toEqual({
        code: 'insecure-redirect',
        transient: false,
      });
      expect(t.seen).toHaveLength(1);
    }
  });

  it('refuses redirects to refused IP literals before requesting them, in every spelling', async () => {
    for (const host of [
      '127.0.0.1',
      '10.1.1.1',
      '[::1]',
      '[::ffff:127.0.0.1]',
      '[fd00::1]',
      '0x7f.1',
      '2130706433',
      '127.1',
    ]) {
      const t = fakeTransport(() => ({ status: 302, headers: { location: `https://${host}/x` } }));
      expect(await failure(fetchWellKnown('example.org', { transport: t, policy })), host).toEqual({
        code: 'blocked-address',
        transient: true,
      });
      expect(t.seen).toHaveLength(1);
    }
    // An allowlisted one is followed.
    const t = fakeTransport((url) =>
      url.includes('127.0.0.1') ? ok('x.example') : { status: 302, headers: { location: 'https://127.0.0.1/x' } },
    );
    const allow = new AddressPolicy({ allow: ['127.0.0.1'] });
    expect((await fetchWellKnown('example.org', { transport: t, policy: allow })).server).toBe('x.example');
  });

  it('does not fetch for hostnames that URL parsers read as IP addresses', async () => {
    for (const host of ['0177.0.0.1', '0x7f.1', '127.1', '2130706433', '1.2.3.4.']) {
      const t = fakeTransport(() => ok('x.example'));
      expect((await failure(fetchWellKnown(host, { transport: t, policy }))).code, host).toBe('ambiguous-ip-literal');
      expect(t.seen).toEqual([]);
    }
  });

  it('fails on a redirect without Location, or to an invalid URL (transient, as Twisted raises)', async () => {
    expect(
      await failure(fetchWellKnown('example.org', { transport: fakeTransport(() => ({ status: 302 })), policy })),
    ).toEqual({
      code: 'http-status',
      transient: true,
    });
    const bad = fakeTransport(() => ({ status: 301, headers: { location: 'https://exa mple.org:99999/' } }));
    expect((await failure(fetchWellKnown('example.org', { transport: bad, policy }))).code).toBe('http-status');
  });

  it('classifies statuses as Synapse does: 5xx transient, other non-200 permanent', async () => {
    for (const [status, transient] of [
      [500, true],
      [503, true],
      [599, true],
      [404, false],
      [204, false],
      [300, false],
      [304, false],
      [410, false],
      [600, false],
    ] as const) {
      const t = fakeTransport(() => ({ status, body: enc.encode('{"m.server":"a.example"}') }));
      expect(await failure(fetchWellKnown('example.org', { transport: t, policy })), String(status)).toEqual({
        code: 'http-status',
        transient,
      });
    }
  });

  it('refuses bodies over the limit even from a transport that ignores it (transient, as Synapse)', async () => {
    const body = enc.encode(`{"m.server":"a.example"}${' '.repeat(WELL_KNOWN_MAX_BYTES)}`);
    expect(
      await failure(fetchWellKnown('example.org', { transport: fakeTransport(() => ({ body })), policy })),
    ).toEqual({
      code: 'too-large',
      transient: true,
    });
    const exact = enc.encode('{"m.server":"a.example"}'.padEnd(WELL_KNOWN_MAX_BYTES, ' '));
    expect(
      (await fetchWellKnown('example.org', { transport: fakeTransport(() => ({ body: exact })), policy })).server,
    ).toBe('a.example');
  });

  it('reports transport failures as transient network errors, keeping DiscoveryErrors as they are', async () => {
    expect(
      await failure(
        fetchWellKnown('example.org', { transport: fakeTransport(() => new Error('ECONNREFUSED')), policy }),
      ),
    ).toEqual({
      code: 'network',
      transient: true,
    });
    const timeout = Object.assign(new Error('timed out'), { name: 'TimeoutError' });
    expect(
      (await failure(fetchWellKnown('example.org', { transport: fakeTransport(() => timeout), policy }))).code,
    ).toBe('timeout');
    const weird: HttpTransport = { get: () => Promise.reject('a string') };
    expect((await failure(fetchWellKnown('example.org', { transport: weird, policy }))).code).toBe('network');
    const throwsSync: HttpTransport = {
      get: () => {
        throw new TypeError('sync');
      },
    };
    expect((await failure(fetchWellKnown('example.org', { transport: throwsSync, policy }))).code).toBe('network');
  });
});

describe('parseWellKnown', () => {
  it.each([
    ['{"m.server":"example.org"}', 'example.org'],
    ['{"m.server":"example.org:443"}', 'example.org:443'],
    ['{"m.server":"1.2.3.4:8448"}', '1.2.3.4:8448'],
    ['{"m.server":"[2001:db8::1]"}', '[2001:db8::1]'],
    [' \n\t{"m.server" : "a.example" , "x": [1, 2.5, null, {"y": true}]}\r\n', 'a.example'],
    // Duplicate keys: the last wins, as in Python's json (Synapse).
    ['{"m.server":"first.example","m.server":"second.example"}', 'second.example'],
    ['{"m.server":"\\u0061.example"}', 'a.example'],
  ])('reads %j', (body, server) => {
    expect(parseWellKnown(enc.encode(body))).toBe(server);
  });

  const invalid = (bytes: Uint8Array | string, code: string) => {
    const body = typeof bytes === 'string' ? enc.encode(bytes) : bytes;
    try {
      parseWellKnown(body);
    } catch (e) {
      expect(e).toBeInstanceOf(DiscoveryError);
      expect((e as DiscoveryError).code).toBe(code);
      expect((e as DiscoveryError).transient).toBe(false);
      return;
    }
    throw new Error(`accepted ${JSON.stringify(bytes)}`);
  };

  it('refuses what is not UTF-8 JSON (invalid-json)', () => {
    for (const s of [
      '',
      'not json',
      '{"m.server":"a.example"',
      '{"m.server":"a.example"} x',
      "{'m.server':'a'}",
      'NaN',
      '{"m.server":"a","n":NaN}',
      '{"n":Infinity}',
    ]) {
      invalid(s, 'invalid-json');
    }
    // A byte order mark is not skipped (Python's utf-8 decode keeps it; JSON then fails).
    invalid(new Uint8Array([0xef, 0xbb, 0xbf, ...enc.encode('{"m.server":"a.example"}')]), 'invalid-json');
    // Invalid UTF-8: a lone continuation byte, an overlong '/', an encoded surrogate, a truncated sequence.
    for (const bad of [[0x80], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82]]) {
      invalid(new Uint8Array([...enc.encode('{"m.server":"a'), ...bad, ...enc.encode('"}')]), 'invalid-json');
    }
  });

  it('refuses JSON that is not an object with a valid m.server (invalid-well-known)', () => {
    for (const s of [
      '[]',
      '"a.example"',
      'null',
      '{}',
      '{"M.server":"a.example"}',
      '{"m.server":null}',
      '{"m.server":8448}',
      '{"m.server":["a.example"]}',
      '{"m.server":""}',
      '{"m.server":"a.example:"}',
      '{"m.server":"a.example:65536"}',
      // Port 0 is in the grammar (port = 1*5DIGIT) but reaches nothing (RFC 6335: reserved);
      // Synapse would read it as no port at all (see synapse.test.ts).
      '{"m.server":"a.example:0"}',
      '{"m.server":"a.example:00000"}',
      '{"m.server":"1.2.3.4:0"}',
      '{"m.server":"[2001:db8::1]:0"}',
      '{"m.server":"https://a.example"}',
      '{"m.server":"a.example/path"}',
      '{"m.server":"exa mple.org"}',
      '{"m.server":"ex_ample.org"}',
      '{"m.server":"é.example"}',
      '{"m.server":"[::1"}',
      '{"m.server":"010.1.1.1"}',
      '{"m.server":" a.example"}',
      '{"m.server":"a.example\\u0000"}',
      '{"__proto__":{"m.server":"a.example"}}',
    ]) {
      invalid(s, 'invalid-well-known');
    }
  });

  it('escapes the control characters of a body its error quotes (JSON.parse quotes the start)', () => {
    let error: unknown;
    try {
      parseWellKnown(enc.encode('\u001b]0;pwned\u0007\u001b[2J'));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DiscoveryError);
    const message = (error as DiscoveryError).message;
    expect(message).toContain('\\u001b]0;pwned\\u0007');
    expect(message).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
  });

  it('never throws anything but a DiscoveryError, on any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          parseWellKnown(bytes);
        } catch (e) {
          if (!(e instanceof DiscoveryError)) throw e;
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('accepts m.server exactly when it is a valid server name (neither an ambiguous IPv4 literal nor on port 0)', () => {
    const nameish = fc.oneof(
      fc.string({ maxLength: 30 }),
      fc.stringMatching(/^[a-z0-9.:[\]-]{1,30}$/),
      fc
        .domain()
        .chain((d) => fc.option(fc.integer({ min: 0, max: 70000 })).map((p) => (p === null ? d : `${d}:${p}`))),
      fc.ipV4().map((ip) => ip),
      fc.ipV6().map((ip) => `[${ip}]`),
    );
    fc.assert(
      fc.property(nameish, fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 3 }), (server, rest) => {
        const body = enc.encode(JSON.stringify({ ...rest, 'm.server': server }));
        const ambiguous =
          /^(\d{1,3}\.){3}\d{1,3}(:\d+)?$/.test(server) && /(^|\.)0\d/.test(server.split(':')[0] as string);
        // Port 0: in the grammar (1*5DIGIT), but nothing can be connected to there (RFC 6335).
        const portZero = /:0+$/.test(server);
        const valid = isValidServerName(server) && !ambiguous && !portZero;
        let got: string | undefined;
        try {
          got = parseWellKnown(body);
        } catch (e) {
          expect(e).toBeInstanceOf(DiscoveryError);
        }
        expect(got).toBe(valid ? server : undefined);
      }),
      { numRuns: 3000 },
    );
  });
});
