/**
 * The error model (src/errors.ts, DESIGN.md "One error base class"): every
 * error class the package exports extends MatrixServerlibError and carries
 * a stable `code` in one spelling and a Matrix `errcode`; where one error is
 * raised because of another, the other is its `cause`. The errcodes are the
 * spec's (client-server API, "Standard error response"); which one each
 * failure carries is documented on its code (src/federation/client.ts,
 * src/federation/discovery/errors.ts).
 */
import { describe, expect, it } from 'vitest';
import { PythonError } from '../src/auth/pyvalue.js';
import * as root from '../src/index.js';
import {
  assertEventNesting,
  createDnsResolver,
  DirectKeyFetcher,
  DiscoveryError,
  type DiscoveryErrorCode,
  type DnsResolver,
  type ErrCode,
  FederationClient,
  FederationError,
  type FederationErrorCode,
  fetchWellKnown,
  getRoomVersion,
  InvalidInputError,
  Keyring,
  type KeyTransport,
  MatrixServerlibError,
  NotaryKeyFetcher,
  parseJson,
  parseWellKnown,
  path,
  resolveServerName,
  StateMap,
  userPowerLevel,
  VerifyKey,
} from '../src/index.js';
import { partialPdu } from './helpers.js';

/** The one spelling of codes: lower-case words joined by `-`. */
const KEBAB = /^[a-z]+(-[a-z]+)*$/;

/** The error `f` throws or its promise rejects with. */
async function failure(f: () => unknown): Promise<unknown> {
  try {
    await f();
  } catch (e) {
    return e;
  }
  throw new Error('expected a failure');
}

describe('one base class', () => {
  it('every error class the package exports extends MatrixServerlibError', () => {
    const classes = Object.entries(root).filter(
      ([, v]) => typeof v === 'function' && (v === Error || v.prototype instanceof Error),
    );
    // The exports are read, not listed: a new error class must join the model.
    expect(classes.map(([name]) => name)).toEqual(
      expect.arrayContaining(['MatrixServerlibError', 'InvalidInputError', 'FederationError', 'DiscoveryError']),
    );
    for (const [name, cls] of classes) {
      if (cls === MatrixServerlibError) continue;
      expect((cls as { prototype: object }).prototype, name).toBeInstanceOf(MatrixServerlibError);
    }
  });

  it('InvalidInputError: each errcode and its code, the same word in the one spelling', () => {
    const codes: Record<ErrCode, string> = {
      M_NOT_JSON: 'not-json',
      M_BAD_JSON: 'bad-json',
      M_TOO_LARGE: 'too-large',
      M_INVALID_PARAM: 'invalid-param',
      M_MISSING_PARAM: 'missing-param',
      M_UNSUPPORTED_ROOM_VERSION: 'unsupported-room-version',
      M_UNRECOGNIZED: 'unrecognized',
    };
    for (const [errcode, code] of Object.entries(codes) as [ErrCode, string][]) {
      const e = new InvalidInputError(errcode, 'why');
      expect(e).toBeInstanceOf(MatrixServerlibError);
      expect(e).toMatchObject({ name: 'InvalidInputError', errcode, code, message: 'why' });
      expect(e.code).toMatch(KEBAB);
      // No cause given: none at all, as ES2022 errors have it.
      expect('cause' in e).toBe(false);
    }
    const cause = new Error('underneath');
    expect(new InvalidInputError('M_BAD_JSON', 'why', { cause }).cause).toBe(cause);
  });

  it('FederationError: each code and its errcode (ours; the remote one is remoteErrcode)', () => {
    const errcodes: Record<FederationErrorCode, string> = {
      remote: 'M_UNKNOWN',
      backoff: 'M_LIMIT_EXCEEDED',
      network: 'M_UNKNOWN',
      timeout: 'M_UNKNOWN',
      'too-large': 'M_UNKNOWN',
      busy: 'M_LIMIT_EXCEEDED',
      'bad-response': 'M_UNKNOWN',
      discovery: 'M_UNKNOWN',
    };
    for (const [code, errcode] of Object.entries(errcodes) as [FederationErrorCode, string][]) {
      const e = new FederationError(code, 'remote.example', 'why');
      expect(e).toBeInstanceOf(MatrixServerlibError);
      expect(e).toMatchObject({ name: 'FederationError', code, errcode, destination: 'remote.example' });
      expect(e.code).toMatch(KEBAB);
    }
    const remote = new FederationError('remote', 'r.example', 'no', { status: 403, remoteErrcode: 'M_FORBIDDEN' });
    expect(remote).toMatchObject({ errcode: 'M_UNKNOWN', remoteErrcode: 'M_FORBIDDEN', status: 403 });
  });

  it('DiscoveryError: each code and its errcode', () => {
    const errcodes: Record<DiscoveryErrorCode, string> = {
      'blocked-address': 'M_FORBIDDEN',
      'invalid-port': 'M_INVALID_PARAM',
      'ambiguous-ip-literal': 'M_INVALID_PARAM',
      'not-found': 'M_UNKNOWN',
      'dns-failure': 'M_UNKNOWN',
      'service-unavailable': 'M_UNKNOWN',
      'http-status': 'M_UNKNOWN',
      'too-large': 'M_UNKNOWN',
      'redirect-loop': 'M_UNKNOWN',
      'too-many-redirects': 'M_UNKNOWN',
      'insecure-redirect': 'M_UNKNOWN',
      'invalid-json': 'M_UNKNOWN',
      'invalid-well-known': 'M_UNKNOWN',
      network: 'M_UNKNOWN',
      timeout: 'M_UNKNOWN',
    };
    for (const [code, errcode] of Object.entries(errcodes) as [DiscoveryErrorCode, string][]) {
      const e = new DiscoveryError(code, 'why');
      expect(e).toBeInstanceOf(MatrixServerlibError);
      expect(e).toMatchObject({ name: 'DiscoveryError', code, errcode });
      expect(e.code).toMatch(KEBAB);
    }
  });
});

describe('causes chained where one error wraps another', () => {
  it("the federation client's discovery failure carries the DiscoveryError, and its errcode", async () => {
    const refused = new DiscoveryError('invalid-port', 'port 0');
    const client = new FederationClient({
      serverName: 'us.example',
      sign: () => 'X-Matrix',
      resolve: async () => {
        throw refused;
      },
    });
    const e = await failure(() => client.getVersion('them.example:0'));
    expect(e).toBeInstanceOf(FederationError);
    expect(e).toMatchObject({ code: 'discovery', errcode: 'M_INVALID_PARAM', destination: 'them.example:0' });
    expect((e as FederationError).cause).toBe(refused);
    await client.close();
  });

  it('discovery keeps the DNS failure, the transport failure and the JSON error', async () => {
    const servfail = Object.assign(new Error('queryA ESERVFAIL'), { code: 'ESERVFAIL' });
    const dns: DnsResolver = {
      resolveSrv: async () => [],
      resolve4: async () => {
        throw servfail;
      },
      resolve6: async () => [],
    };
    const http = {
      get: async () => {
        throw new TypeError('fetch failed');
      },
      close: async () => {},
    };
    const e = await failure(() => resolveServerName('example.org', { dns, http }));
    expect(e).toMatchObject({ name: 'DiscoveryError', code: 'dns-failure', errcode: 'M_UNKNOWN' });
    expect((e as DiscoveryError).cause).toBe(servfail);
    const wellKnown = await failure(() =>
      fetchWellKnown('example.org', { transport: http, policy: new root.AddressPolicy() }),
    );
    expect(wellKnown).toMatchObject({ code: 'network', cause: expect.any(TypeError) });
    const notJson = await failure(() => parseWellKnown(new TextEncoder().encode('{"m.server":')));
    expect(notJson).toMatchObject({ code: 'invalid-json', cause: expect.any(SyntaxError) });
  });

  it('parse failures inside higher checks: bytes that are not UTF-8, an event nested too deep', async () => {
    const notUtf8 = await failure(() => parseJson(new Uint8Array([0x22, 0xff, 0x22])));
    expect(notUtf8).toMatchObject({ errcode: 'M_NOT_JSON', cause: expect.any(TypeError) });
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 200; i++) deep = { a: deep };
    const nested = await failure(() => assertEventNesting({ type: 'm.room.message', content: deep as never }));
    expect(nested).toMatchObject({ errcode: 'M_BAD_JSON', cause: expect.any(Error) });
    expect((nested as Error).message).toBe(((nested as Error).cause as Error).message);
  });

  it('malformed content in the power level helpers: an InvalidInputError caused by the internal PythonError', async () => {
    const state = new StateMap([
      partialPdu({ type: 'm.room.create', state_key: '', sender: '@a:x', content: { creator: '@a:x' } }),
      partialPdu({ type: 'm.room.power_levels', state_key: '', sender: '@a:x', content: { users_default: 'abc' } }),
    ]);
    const e = await failure(() => userPowerLevel(state, '@b:x', getRoomVersion('9')));
    expect((e as Error).constructor).toBe(InvalidInputError);
    expect((e as InvalidInputError).cause).toBeInstanceOf(PythonError);
  });

  it('key fetch failures keep what the transport or the parser threw', async () => {
    const down = new FederationError('network', 'them.example', 'connection refused');
    const failing: KeyTransport = {
      fetchJson: async () => {
        throw down;
      },
    };
    const direct = await new DirectKeyFetcher(failing).fetch([
      { serverName: 'them.example', keyIds: [], minimumValidUntilTs: 0 },
    ]);
    expect(direct.failures).toEqual([{ serverName: 'them.example', reason: expect.any(String), cause: down }]);
    const notary = {
      serverName: 'notary.example',
      verifyKeys: new Map([['ed25519:n', new VerifyKey(new Uint8Array(32))]]),
    };
    const viaNotary = await new NotaryKeyFetcher(failing, notary).fetch([
      { serverName: 'them.example', keyIds: [], minimumValidUntilTs: 0 },
    ]);
    expect(viaNotary.failures).toEqual([{ reason: expect.any(String), cause: down }]);
    const garbage: KeyTransport = { fetchJson: async () => new TextEncoder().encode('{"server_name":') };
    const unparsed = await new DirectKeyFetcher(garbage).fetch([
      { serverName: 'them.example', keyIds: [], minimumValidUntilTs: 0 },
    ]);
    expect(unparsed.failures[0]?.cause).toBeInstanceOf(InvalidInputError);
  });
});

describe('no error of another class escapes where the input is bad', () => {
  it('an unpaired surrogate in a federation path or query: InvalidInputError, not a URIError', async () => {
    const e = await failure(() => path`/_matrix/federation/v1/event/${'$\ud800'}`);
    expect(e).toBeInstanceOf(InvalidInputError);
    expect(e).toMatchObject({ errcode: 'M_INVALID_PARAM', cause: expect.any(URIError) });
    const client = new FederationClient({
      serverName: 'us.example',
      sign: () => 'X-Matrix',
      resolve: async () => ({ address: '8.8.8.8', port: 8448, hostHeader: 'them.example' }),
    });
    const query = await failure(() =>
      client.request('them.example', { method: 'GET', path: '/x', query: { v: '\udc00' } }),
    );
    expect(query).toMatchObject({ errcode: 'M_INVALID_PARAM', cause: expect.any(URIError) });
    await client.close();
  });

  it('name servers that are not addresses: InvalidInputError with node:dns’s error as cause', async () => {
    const e = await failure(() => createDnsResolver({ servers: ['not an address'] }));
    expect(e).toBeInstanceOf(InvalidInputError);
    expect(e).toMatchObject({ errcode: 'M_INVALID_PARAM', cause: expect.any(Error) });
  });

  it('two key fetchers with the same source name: InvalidInputError, not a TypeError', async () => {
    const transport: KeyTransport = { fetchJson: async () => ({}) };
    const e = await failure(
      () => new Keyring({ fetchers: [new DirectKeyFetcher(transport), new DirectKeyFetcher(transport)] }),
    );
    expect(e).toBeInstanceOf(InvalidInputError);
    expect(e).toMatchObject({ errcode: 'M_INVALID_PARAM' });
  });
});
