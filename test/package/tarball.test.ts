/**
 * The package as a user gets it (issue 15): `npm pack`'s tarball, unpacked
 * into a fresh project whose TypeScript is as strict as it gets and has no
 * `@types/node` (the web platform's types only, as on Deno, Bun or in a
 * browser build), must type-check a program that imports every subpath
 * export, and that program must print the same on Node, Bun and Deno: Node
 * runs tsc's output, Bun and Deno the TypeScript itself (as their users
 * do), each with both Ed25519 backends. Bun and Deno are pinned
 * devDependencies (the npm packages ship the binaries).
 *
 * The program signs and verifies JSON (the spec's test vectors), checks a
 * received PDU (the spec's signed event, then the same with its content and
 * with its signature changed), signs and verifies a federation request, and
 * makes federation requests to an HTTPS server of this test on loopback
 * (TLS server name, certificate authority and address policy applied), and
 * shows its signing key with `JSON.stringify` and `console.log` (each
 * runtime's console honours `nodejs.util.inspect.custom`: no seed).
 */

import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { createHash, createPrivateKey, sign } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyRequest } from '../../src/federation/xmatrix.js';
import { VerifyKey } from '../../src/signing/ed25519.js';
import { createTestCa } from '../interop/live/certs.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = (name: string) => join(root, 'node_modules', '.bin', name);
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
const subpaths = Object.keys(pkg.exports).filter((p) => p !== './package.json');
const vector = (name: string) => JSON.parse(readFileSync(join(root, 'test', 'vectors', name), 'utf8'));

// The spec's signing key and test vectors (test/vectors says where each value comes from).
const signing = vector('signing-json-spec.json') as {
  signing_key: {
    seed_unpadded_base64: string;
    seed_hex: string;
    public_key_hex: string;
    public_key_unpadded_base64: string;
  };
  cases: { input: string; signature: string }[];
};
const events = vector('event-signing-spec.json') as {
  cases: { name: string; signed: string; expected_signature: string; redacted_signing_bytes: string }[];
};
const minimal = events.cases.find((c) => c.name === 'minimally-sized event');
if (minimal === undefined) throw new Error('event-signing-spec.json has no minimally-sized event');
/** The spec's signed event as a server would send it: a well-formed PDU of room versions 3–10. */
const RECEIVED = JSON.stringify(JSON.parse(minimal.signed));
/** Its signature with the first character changed: still Base64, no longer the signature. */
const FORGED = minimal.expected_signature.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'));
/**
 * Its event ID, by the spec's definition (room versions 4 and later): the
 * unpadded URL-safe Base64 of the SHA-256 of the redacted event without
 * `signatures` and `unsigned`, which is what the vector's
 * `redacted_signing_bytes` is.
 */
const EVENT_ID = `$${createHash('sha256').update(minimal.redacted_signing_bytes).digest('base64url')}`;

/** The spec key's public half (computed with libsodium, says the vector file). */
const PUBLIC_KEY = signing.signing_key.public_key_unpadded_base64;

/** The federation request the program signs, and the spec's signing of it (Request Authentication), by hand. */
const REQUEST = {
  method: 'PUT',
  uri: '/_matrix/federation/v1/send/1',
  origin: 'domain',
  destination: 'other.example',
  content: { pdus: [] },
};
const REQUEST_JSON =
  '{"content":{"pdus":[]},"destination":"other.example","method":"PUT","origin":"domain","uri":"/_matrix/federation/v1/send/1"}';
const seed = createPrivateKey({
  key: Buffer.concat([
    Buffer.from('302e020100300506032b657004220420', 'hex'),
    Buffer.from(signing.signing_key.seed_hex, 'hex'),
  ]),
  format: 'der',
  type: 'pkcs8',
});
const REQUEST_SIG = sign(null, Buffer.from(REQUEST_JSON), seed).toString('base64').replace(/=+$/, '');

/** A program that imports every subpath and uses something of each. */
const PROGRAM = `
import * as all from 'matrix-serverlib';
${subpaths
  .filter((p) => p !== '.')
  .map((p, i) => `import * as m${i} from 'matrix-serverlib/${p.slice(2)}';`)
  .join('\n')}
import { encodeCanonicalJson, type JsonObject, parseJson } from 'matrix-serverlib/canonicaljson';
import { checkIncomingPdu, type EventKeyLookup, parsePdu } from 'matrix-serverlib/events';
import {
  checkRequestSignature,
  createUndiciTransport,
  DiscoveryError,
  FederationError,
  FederationClient,
  signRequest,
  verifyRequest,
} from 'matrix-serverlib/federation';
import { getRoomVersion } from 'matrix-serverlib/roomversions';
import { decodeBase64, SigningKey, signJson, verifyBackend, verifyJson } from 'matrix-serverlib/signing';

// What this program needs of process (there is no @types/node here).
declare const process: { readonly argv: readonly string[] };
const [port, ca] = process.argv.slice(2) as [string, string];

const key = new SigningKey(decodeBase64(${JSON.stringify(signing.signing_key.seed_unpadded_base64)}));
const keys: EventKeyLookup = (server, keyId) =>
  server === 'domain' && keyId === 'ed25519:1' ? { key: key.verifyKey, validUntilTs: Number.POSITIVE_INFINITY } : undefined;
const asyncKeys = async (server: string, keyIds: readonly string[]) =>
  new Map(keyIds.flatMap((id) => { const k = keys(server, id); return k === undefined ? [] : [[id, k] as const]; }));

const inputs: JsonObject[] = ${JSON.stringify(signing.cases.map((c) => JSON.parse(c.input)))};
const signedJson = inputs.map((o) => signJson(o, 'domain', 'ed25519:1', key));

const rules = getRoomVersion('10');
const received = ${JSON.stringify(RECEIVED)};
const check = (json: string) => {
  const c = checkIncomingPdu(parsePdu(new TextEncoder().encode(json), rules), keys);
  return c.result === 'invalid' ? { result: c.result } : { result: c.result, eventId: c.eventId };
};

const request = ${JSON.stringify(REQUEST)};
const authorization = signRequest(request, 'ed25519:1', key);

// What a call gave, or the code of the error it threw.
const outcome = async (call: () => Promise<unknown>): Promise<{ ok: unknown } | { error: string }> => {
  try {
    return { ok: await call() };
  } catch (e) {
    return { error: e instanceof FederationError || e instanceof DiscoveryError ? e.code : String(e) };
  }
};
const clients: FederationClient[] = [];
const client = (tlsServerName: string, allow: readonly string[]) => {
  const c = new FederationClient({
    serverName: 'domain',
    sign: (r) => signRequest(r, 'ed25519:1', key),
    resolve: async () => ({ address: '127.0.0.1', port: Number(port), hostHeader: 'fed.test', tlsServerName }),
    allow,
    ca,
  });
  clients.push(c);
  return c;
};
const transport = createUndiciTransport({ ca });
const network = {
  version: await outcome(() => client('fed.test', ['127.0.0.1']).getVersion('fed.test')),
  // The certificate is for fed.test, not other.test.
  wrongServerName: await outcome(() => client('other.test', ['127.0.0.1']).getVersion('fed.test')),
  // Loopback is refused unless allowed.
  loopback: await outcome(() => client('fed.test', []).getVersion('fed.test')),
  // The discovery transport holds the addresses it connects to to the same policy.
  wellKnownOnLoopback: await outcome(async () => {
    const r = await transport.get({ url: \`https://127.0.0.1:\${port}/.well-known/matrix/server\`, headers: {}, maxBytes: 1024 });
    return r.status;
  }),
  closed: await outcome(async () => {
    await Promise.all([...clients.map((c) => c.close()), transport.close?.()]);
    return true;
  }),
};

const loaded: number = [${subpaths
  .filter((p) => p !== '.')
  .map((_, i) => `m${i}`)
  .join(', ')}].filter((m) => Object.keys(m).length > 0).length;
console.log(JSON.stringify({
  text: encodeCanonicalJson(parseJson('{"b":1,"a":[true,null]}')),
  version: getRoomVersion('12').id,
  loaded,
  root: Object.keys(all).length > 0,
  signatures: signedJson.map((s) => s.signatures),
  verified: signedJson.map((s) => verifyJson(s, 'domain', 'ed25519:1', key.verifyKey).valid),
  changedVerified: verifyJson({ ...signedJson[1], one: 2 }, 'domain', 'ed25519:1', key.verifyKey).valid,
  pdu: {
    received: check(received),
    contentChanged: check(received.replace('"content":{}', '"content":{"body":"changed"}')),
    signatureChanged: check(received.replace(${JSON.stringify(minimal.expected_signature)}, ${JSON.stringify(FORGED)})),
  },
  request: {
    authorization,
    checked: checkRequestSignature({ ...request, authorization }, keys),
    verified: await verifyRequest({ ...request, authorization }, asyncKeys),
    otherUriVerified: (await verifyRequest({ ...request, uri: '/_matrix/federation/v1/send/2', authorization }, asyncKeys)).valid,
  },
  network,
  backend: verifyBackend(),
  keyAsJson: JSON.parse(JSON.stringify(key)),
}));
// How the runtime's console shows a signing key: never its seed.
console.log(key);
`;

/** What every runtime must print, whichever Ed25519 backend verifies. */
const expected = (backend: string) => ({
  text: '{"a":[true,null],"b":1}',
  version: '12',
  loaded: subpaths.length - 1,
  root: true,
  signatures: signing.cases.map((c) => ({ domain: { 'ed25519:1': c.signature } })),
  verified: signing.cases.map(() => true),
  changedVerified: false,
  pdu: {
    received: { result: 'valid', eventId: EVENT_ID },
    // The content hash no longer matches; the signature covers the redacted event, which is unchanged.
    contentChanged: { result: 'redacted', eventId: EVENT_ID },
    signatureChanged: { result: 'invalid' },
  },
  request: {
    authorization: `X-Matrix origin="domain",destination="other.example",key="ed25519:1",sig="${REQUEST_SIG}"`,
    checked: { valid: true, origin: 'domain' },
    verified: { valid: true, origin: 'domain' },
    otherUriVerified: false,
  },
  network: {
    version: { ok: { server: { name: 'stub', version: '1' } } },
    wrongServerName: { error: 'network' },
    loopback: { error: 'discovery' },
    wellKnownOnLoopback: { error: 'blocked-address' },
    closed: { ok: true },
  },
  backend,
  keyAsJson: { publicKey: PUBLIC_KEY, seed: '[redacted]' },
});

/** What the HTTPS server received: each request, and whether its X-Matrix signature verified. */
interface Seen {
  url: string;
  host: string | undefined;
  sni: string | false | null;
  origin: string | undefined;
}

let project: string;
let server: Server;
let port: number;
let caPem: string;
const seen: Seen[] = [];
/** TCP connections the server accepted. */
let connections = 0;

beforeAll(async () => {
  project = mkdtempSync(join(tmpdir(), 'matrix-serverlib-tarball-'));
  // The tarball as npm publishes it (built files from the last build; no scripts).
  const tarball = execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', project], {
    cwd: root,
    encoding: 'utf8',
  }).trim();
  const modules = join(project, 'node_modules');
  mkdirSync(join(modules, 'matrix-serverlib'), { recursive: true });
  execFileSync('tar', ['xzf', join(project, tarball), '-C', join(modules, 'matrix-serverlib'), '--strip-components=1']);
  // Its one runtime dependency and its optional peer, as npm would install them.
  symlinkSync(join(root, 'node_modules', 'undici'), join(modules, 'undici'));
  symlinkSync(join(root, 'node_modules', 'sodium-native'), join(modules, 'sodium-native'));
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({
      name: 'user',
      type: 'module',
      private: true,
      dependencies: { 'matrix-serverlib': `file:./${tarball}`, 'sodium-native': '*' },
    }),
  );
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2023',
        lib: ['ES2024', 'DOM'],
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        types: [],
        strict: true,
        noUncheckedIndexedAccess: true,
        exactOptionalPropertyTypes: true,
        noImplicitOverride: true,
        skipLibCheck: false,
        outDir: 'out',
      },
      include: ['main.ts'],
    }),
  );
  writeFileSync(join(project, 'main.ts'), PROGRAM);

  // A federation server on loopback, named fed.test by a certificate of a CA made here.
  const ca = createTestCa({ backend: 'node' });
  caPem = ca.certPem;
  const leaf = ca.issue({ ips: ['127.0.0.1'], dns: ['fed.test'] });
  const verifyKey = new VerifyKey(Buffer.from(signing.signing_key.public_key_hex, 'hex'));
  server = createServer({ cert: leaf.certPem, key: leaf.keyPem }, (req, res) => {
    req.resume();
    req.on('end', async () => {
      const check = await verifyRequest(
        {
          method: req.method ?? '',
          uri: req.url ?? '',
          destination: 'fed.test',
          authorization: req.headersDistinct.authorization ?? [],
        },
        async (_server, keyIds) => new Map(keyIds.map((id) => [id, { key: verifyKey, validUntilTs: Infinity }])),
      );
      seen.push({
        url: req.url ?? '',
        host: req.headers.host,
        sni: (req.socket as TLSSocket).servername,
        origin: check.valid ? check.origin : undefined,
      });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"server":{"name":"stub","version":"1"}}');
    });
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
}, 120_000);

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  if (project !== undefined) rmSync(project, { recursive: true, force: true });
});

/**
 * Runs a command in the project, asynchronously (the server above answers
 * in this process while it runs), and gives what it printed and its exit
 * code.
 */
function run(file: string, args: string[], env: Record<string, string> = {}) {
  return new Promise<{ stdout: string; stderr: string; code: number | null }>((resolve) => {
    const child = execFile(
      file,
      args,
      {
        cwd: project,
        encoding: 'utf8',
        env: {
          PATH: process.env.PATH ?? '',
          HOME: project,
          NO_COLOR: '1',
          // Deno: its cache in the project, and no update check (no network here).
          DENO_DIR: join(project, '.deno'),
          DENO_NO_UPDATE_CHECK: '1',
          ...env,
        },
      },
      (_error, stdout, stderr) => resolve({ stdout, stderr, code: child.exitCode }),
    );
  });
}

/**
 * The fewest permissions Deno runs the program with: loopback, and the two
 * environment variables undici reads when it first connects (Deno refuses
 * to read any other, this library's `MATRIX_SERVERLIB_ED25519` included).
 */
const DENO_RUN = ['run', '--no-prompt', '--allow-net=127.0.0.1', '--allow-env=JEST_WORKER_ID,UNDICI_NO_WASM_SIMD'];

const runs: [string, string, () => [string, string[], Record<string, string>]][] = [
  ['Node', 'node', () => [bin('node'), [join(project, 'out', 'main.js')], { MATRIX_SERVERLIB_ED25519: 'node' }]],
  ['Node', 'sodium', () => [bin('node'), [join(project, 'out', 'main.js')], { MATRIX_SERVERLIB_ED25519: 'sodium' }]],
  ['Bun', 'node', () => [bin('bun'), ['main.ts'], { MATRIX_SERVERLIB_ED25519: 'node' }]],
  ['Bun', 'sodium', () => [bin('bun'), ['main.ts'], { MATRIX_SERVERLIB_ED25519: 'sodium' }]],
  // MATRIX_SERVERLIB_ED25519 cannot be read and sodium-native cannot be
  // loaded (no file or FFI access): node:crypto verifies.
  ['Deno', 'node', () => [bin('deno'), [...DENO_RUN, 'main.ts'], { MATRIX_SERVERLIB_ED25519: 'sodium' }]],
  // sodium-native needs to read files and call native code.
  [
    'Deno',
    'sodium',
    () => [
      bin('deno'),
      [...DENO_RUN, '--allow-env', '--allow-read', '--allow-ffi', 'main.ts'],
      { MATRIX_SERVERLIB_ED25519: 'sodium' },
    ],
  ],
];

describe('the packed tarball in a fresh strict TypeScript project without @types/node', () => {
  it('type-checks a program importing every subpath export, with no error in the declarations', () => {
    const tsc = spawnSync(bin('node'), [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], {
      encoding: 'utf8',
    });
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
  });

  it('type-checks it with Deno (its own libraries and defaults)', async () => {
    const check = await run(bin('deno'), ['check', 'main.ts']);
    expect(check.stdout + check.stderr).toBe('Check main.ts\n');
    expect(check.code).toBe(0);
  });

  it.each(runs)('runs it on %s with the %s Ed25519 backend, printing the same', async (_runtime, backend, command) => {
    const [file, args, env] = command();
    const before = seen.length;
    const connectionsBefore = connections;
    const { stdout, stderr, code } = await run(file, [...args, String(port), caPem], env);
    // What it printed first: a difference says more than the exit code.
    const [json, shown, ...rest] = stdout.split('\n');
    expect(json === '' ? stderr : JSON.parse(json ?? '')).toEqual(expected(backend));
    expect([shown, ...rest]).toEqual([`SigningKey { publicKey: '${PUBLIC_KEY}', seed: [redacted] }`, '']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    // The one request that got through was signed, and sent to fed.test by name.
    expect(seen.slice(before)).toEqual([
      { url: '/_matrix/federation/v1/version', host: 'fed.test', sni: 'fed.test', origin: 'domain' },
    ]);
    // Two connections: that request's and the one refused for its certificate;
    // none to the addresses the policy refuses.
    expect(connections - connectionsBefore).toBe(2);
  });
});
