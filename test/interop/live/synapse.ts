/**
 * Runs a real Synapse homeserver on loopback for live federation tests.
 *
 * Synapse (AGPL) is installed from PyPI into the oracle's venv
 * (test/interop/oracle/setup.sh) and run as a separate process, a peer we
 * talk to over the network: none of its code is copied here.
 *
 * Each instance gets a temp dir with its homeserver.yaml (written as JSON,
 * which YAML reads), a SQLite database, a signing key we generate (so tests
 * know it in advance), a TLS certificate from the test CA for its IP-literal
 * server name, and a log file. It listens with TLS for federation and key
 * requests on `host:port` (its server name, so no discovery is needed) and
 * with plain HTTP for the client API on another port of the same address.
 *
 * @example
 * ```ts
 * const ca = createTestCa();
 * const synapse = await startSynapse({ ca });
 * afterAll(() => synapse.stop());
 * const res = await request(`${synapse.federationUrl}/_matrix/key/v2/server`, { ca: ca.certPem });
 * const alice = await synapse.registerUser('alice');
 * ```
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { UserIdString } from '../../../src/identifiers/index.js';
import { encodeBase64, SigningKey } from '../../../src/signing/index.js';
import { createTestCa, type TestCa } from './certs.js';
import { freePort, request, sleep } from './http.js';

/** The oracle venv's Python, where setup.sh installs matrix-synapse. */
export const SYNAPSE_PYTHON = fileURLToPath(new URL('../oracle/.venv/bin/python', import.meta.url));

/**
 * Runs `python -m synapse.app.homeserver -c <config>`, first asking Linux to
 * SIGKILL it when the process that spawned it dies (PR_SET_PDEATHSIG), so a
 * test worker killed by a signal (no afterAll, no exit handlers) leaves no
 * Synapse behind. Elsewhere the prctl call fails and is skipped.
 */
const LAUNCHER = `
import ctypes, os, runpy, signal, sys
parent, config = int(sys.argv[1]), sys.argv[2]
try:
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
except Exception:
    pass
if os.getppid() != parent:
    sys.exit("the test process is gone")
sys.argv = ["synapse.app.homeserver", "-c", config]
runpy.run_module("synapse.app.homeserver", run_name="__main__", alter_sys=True)
`;

/** A `trusted_key_servers` entry. */
export interface TrustedKeyServer {
  server_name: string;
  /** Key ID to unpadded-Base64 public key. */
  verify_keys?: Record<string, string>;
  accept_keys_insecurely?: boolean;
}

/** Options for {@link startSynapse}. */
export interface SynapseOptions {
  /** The loopback address to listen on and use in the server name; default 127.0.0.2. */
  host?: string;
  /** The federation (TLS) port, part of the server name; default a free port. */
  port?: number;
  /** The client API (plain HTTP) port; default a free port. */
  clientPort?: number;
  /** The test CA: issues Synapse's certificate and is the only CA it trusts for federation. Default: a new one. */
  ca?: TestCa;
  /** Synapse's signing key; default a new one. */
  signingKey?: SigningKey;
  /** Its key ID, `ed25519:<version>`; default `ed25519:a_<random>`. */
  keyId?: string;
  /** Notaries to ask for other servers' keys; default none (fetch directly from each server). */
  trustedKeyServers?: TrustedKeyServer[];
  /** Top-level homeserver.yaml settings to add or replace (shallow: a key given here replaces ours). */
  config?: Record<string, unknown>;
  /** Root log level; default INFO. */
  logLevel?: 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR';
  /** How long to wait for Synapse to answer; default 60 s. */
  startTimeoutMs?: number;
  /** Keep the temp dir after stop (also when MSL_KEEP_SYNAPSE=1). */
  keepDir?: boolean;
  /** Python interpreter with matrix-synapse; default {@link SYNAPSE_PYTHON}. */
  python?: string;
}

/** A user registered with {@link Synapse.registerUser}. */
export interface RegisteredUser {
  userId: UserIdString;
  accessToken: string;
  deviceId: string;
  password: string;
}

/** A running Synapse. */
export interface Synapse {
  /** `host:port`. */
  serverName: string;
  /** `https://host:port`: federation and key APIs (TLS, certificate from {@link ca}). */
  federationUrl: string;
  /** `http://host:clientPort`: client and admin APIs. */
  clientUrl: string;
  host: string;
  port: number;
  clientPort: number;
  ca: TestCa;
  signingKey: SigningKey;
  keyId: string;
  /** The temp dir (config, database, logs). */
  dir: string;
  /** The path of homeserver.yaml. */
  configPath: string;
  /** The config that was written. */
  config: Record<string, unknown>;
  registrationSharedSecret: string;
  /** Milliseconds from spawn to answering on both listeners. */
  startupMs: number;
  /** Its process ID (also its process group ID). */
  pid: number;
  /** Registers a user through the shared-secret admin API. */
  registerUser(localpart: string, options?: { admin?: boolean; password?: string }): Promise<RegisteredUser>;
  /** The whole Synapse log (log file, then stdout/stderr). */
  logs(): string;
  /** The last `lines` lines of {@link logs}; default 80. */
  logTail(lines?: number): string;
  /** Stops Synapse (SIGTERM to its process group, SIGKILL after 10 s) and removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts Synapse and resolves once its federation listener answers
 * `/_matrix/key/v2/server` over TLS (trusting only the test CA) and its client
 * listener answers `/health`. On failure the error carries the log tail and
 * everything started is stopped.
 */
export async function startSynapse(options: SynapseOptions = {}): Promise<Synapse> {
  const python = options.python ?? SYNAPSE_PYTHON;
  if (!existsSync(python)) {
    throw new Error(`Synapse is not installed: run bash test/interop/oracle/setup.sh (no ${python})`);
  }
  const host = options.host ?? '127.0.0.2';
  const port = options.port ?? (await freePort(host));
  let clientPort = options.clientPort ?? (await freePort(host));
  while (clientPort === port) clientPort = await freePort(host);
  const ca = options.ca ?? createTestCa();
  const signingKey = options.signingKey ?? SigningKey.generate();
  const keyId = options.keyId ?? `ed25519:a_${randomBytes(3).toString('hex')}`;
  const version = keyId.startsWith('ed25519:') ? keyId.slice('ed25519:'.length) : '';
  if (!/^[A-Za-z0-9_]+$/.test(version)) throw new Error(`Bad key ID for Synapse: ${keyId}`);
  const bracketed = host.includes(':') ? `[${host}]` : host;
  const serverName = `${bracketed}:${port}`;
  const keep = options.keepDir ?? process.env.MSL_KEEP_SYNAPSE === '1';

  const dir = mkdtempSync(join(tmpdir(), 'msl-synapse-'));
  const p = (f: string) => join(dir, f);
  const leaf = ca.issue({ ips: [host] });
  writeFileSync(p('tls.crt'), leaf.certPem);
  writeFileSync(p('tls.key'), leaf.keyPem, { mode: 0o600 });
  writeFileSync(p('ca.crt'), ca.certPem);
  writeFileSync(p('signing.key'), `ed25519 ${version} ${encodeBase64(signingKey.exportSeed())}\n`, { mode: 0o600 });
  mkdirSync(p('media'));
  writeFileSync(
    p('log.yaml'),
    JSON.stringify(
      {
        version: 1,
        formatters: {
          precise: { format: '%(asctime)s - %(name)s - %(lineno)d - %(levelname)s - %(request)s - %(message)s' },
        },
        handlers: {
          file: { class: 'logging.FileHandler', formatter: 'precise', filename: p('homeserver.log'), encoding: 'utf8' },
        },
        loggers: { 'synapse.storage.SQL': { level: 'INFO' } },
        root: { level: options.logLevel ?? 'INFO', handlers: ['file'] },
        disable_existing_loggers: false,
      },
      null,
      2,
    ),
  );
  const registrationSharedSecret = randomBytes(16).toString('hex');
  const config: Record<string, unknown> = {
    ...synapseConfig({
      serverName,
      host,
      port,
      clientPort,
      dir,
      registrationSharedSecret,
      trustedKeyServers: options.trustedKeyServers ?? [],
    }),
    ...options.config,
  };
  const configPath = p('homeserver.yaml');
  writeFileSync(configPath, JSON.stringify(config, null, 2));

  const out = openSync(p('stdout.log'), 'a');
  const started = Date.now();
  let child: ChildProcess;
  try {
    child = spawn(python, ['-c', LAUNCHER, String(process.pid), configPath], {
      cwd: dir,
      detached: true, // its own process group, so stop() can kill everything it starts
      stdio: ['ignore', out, out],
      env: { ...process.env, PYTHONUNBUFFERED: '1' },
    });
  } finally {
    closeSync(out);
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error(`Could not spawn ${python}`);
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve();
    });
  });
  child.once('error', () => undefined);
  // Last resort if the test process dies without calling stop().
  const killOnExit = () => {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  process.on('exit', killOnExit);

  const logs = () => {
    const read = (f: string) => (existsSync(p(f)) ? readFileSync(p(f), 'utf8') : '');
    const stdio = read('stdout.log');
    return `${read('homeserver.log')}${stdio === '' ? '' : `--- stdout/stderr ---\n${stdio}`}`;
  };
  const logTail = (lines = 80) => logs().split('\n').slice(-lines).join('\n');

  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      if (exited === undefined) {
        try {
          process.kill(-pid, 'SIGTERM');
        } catch {
          // already gone
        }
        const timer = setTimeout(killOnExit, 10_000);
        await exit;
        clearTimeout(timer);
      }
      // Anything it left in its group.
      killOnExit();
      process.off('exit', killOnExit);
      if (!keep) rmSync(dir, { recursive: true, force: true });
    })();
    return stopped;
  };

  const federationUrl = `https://${serverName}`;
  const clientUrl = `http://${bracketed}:${clientPort}`;
  const timeoutMs = options.startTimeoutMs ?? 60_000;
  const deadline = started + timeoutMs;
  let lastError = 'no answer yet';
  try {
    for (;;) {
      if (exited !== undefined) {
        throw new Error(`Synapse exited during startup (code ${exited.code}, signal ${exited.signal})`);
      }
      if (Date.now() > deadline) throw new Error(`Synapse did not answer within ${timeoutMs} ms: ${lastError}`);
      try {
        const keys = await request(`${federationUrl}/_matrix/key/v2/server`, { ca: ca.certPem, timeoutMs: 2000 });
        const health = await request(`${clientUrl}/health`, { timeoutMs: 2000 });
        if (keys.status === 200 && health.status === 200) break;
        lastError = `key server answered ${keys.status}, health ${health.status}`;
      } catch (e) {
        lastError = e instanceof Error ? e.message : String(e);
      }
      await sleep(150);
    }
  } catch (e) {
    const tail = logTail();
    await stop();
    throw new Error(`${(e as Error).message}\n--- Synapse log tail ---\n${tail}`);
  }
  const startupMs = Date.now() - started;

  return {
    serverName,
    federationUrl,
    clientUrl,
    host,
    port,
    clientPort,
    ca,
    signingKey,
    keyId,
    dir,
    configPath,
    config,
    registrationSharedSecret,
    startupMs,
    pid,
    logs,
    logTail,
    stop,
    registerUser: (localpart, opts = {}) =>
      registerWithSharedSecret(clientUrl, registrationSharedSecret, localpart, opts.password, opts.admin ?? false),
  };
}

interface ConfigInputs {
  serverName: string;
  host: string;
  port: number;
  clientPort: number;
  dir: string;
  registrationSharedSecret: string;
  trustedKeyServers: TrustedKeyServer[];
}

/** Relaxed enough that no test trips a limit. */
const NO_LIMIT = { per_second: 1000, burst_count: 1000 };

/** The homeserver.yaml settings the harness writes (before `options.config`). */
export function synapseConfig(c: ConfigInputs): Record<string, unknown> {
  const p = (f: string) => join(c.dir, f);
  return {
    server_name: c.serverName,
    pid_file: p('homeserver.pid'),
    report_stats: false,
    listeners: [
      {
        // Federation and key APIs, TLS, on the server name's address and port.
        port: c.port,
        bind_addresses: [c.host],
        type: 'http',
        tls: true,
        x_forwarded: false,
        resources: [{ names: ['federation', 'keys'], compress: false }],
      },
      {
        // Client and admin APIs, plain HTTP, for driving it.
        port: c.clientPort,
        bind_addresses: [c.host],
        type: 'http',
        tls: false,
        x_forwarded: false,
        resources: [{ names: ['client'], compress: false }],
      },
    ],
    tls_certificate_path: p('tls.crt'),
    tls_private_key_path: p('tls.key'),
    // Outbound federation: verify certificates, trusting only the test CA.
    federation_verify_certificates: true,
    federation_custom_ca_list: [p('ca.crt')],
    // Outbound requests to loopback (and other private ranges) are blocked by
    // default. The allowlist is not enough: IP-literal server names are checked
    // against the blocklist alone (BlocklistingAgentWrapper), so empty it
    // (Synapse still always blocks 0.0.0.0 and ::).
    ip_range_blacklist: [],
    ip_range_whitelist: ['127.0.0.0/8', '::1/128'],
    database: { name: 'sqlite3', args: { database: p('homeserver.db') } },
    log_config: p('log.yaml'),
    media_store_path: p('media'),
    signing_key_path: p('signing.key'),
    trusted_key_servers: c.trustedKeyServers,
    suppress_key_server_warning: true,
    registration_shared_secret: c.registrationSharedSecret,
    enable_registration: false,
    macaroon_secret_key: randomBytes(16).toString('hex'),
    form_secret: randomBytes(16).toString('hex'),
    enable_metrics: false,
    url_preview_enabled: false,
    presence: { enabled: false },
    // Back off briefly from unreachable servers (default 10 minutes at first).
    federation: {
      client_timeout: '20s',
      destination_min_retry_interval: '1s',
      destination_max_retry_interval: '10s',
    },
    rc_message: NO_LIMIT,
    rc_registration: NO_LIMIT,
    rc_login: { address: NO_LIMIT, account: NO_LIMIT, failed_attempts: NO_LIMIT },
    rc_admin_redaction: NO_LIMIT,
    rc_joins: { local: NO_LIMIT, remote: NO_LIMIT },
    rc_joins_per_room: NO_LIMIT,
    rc_invites: { per_room: NO_LIMIT, per_user: NO_LIMIT, per_issuer: NO_LIMIT },
    rc_third_party_invite: NO_LIMIT,
    rc_key_requests: NO_LIMIT,
    rc_room_creation: NO_LIMIT,
    rc_profile: NO_LIMIT,
    rc_presence: { per_user: NO_LIMIT },
    rc_delayed_event_mgmt: NO_LIMIT,
    rc_federation: { window_size: 1000, sleep_limit: 1000, sleep_delay: 1, reject_limit: 1000, concurrent: 100 },
  };
}

/**
 * Registers a user with Synapse's shared-secret admin API
 * (`/_synapse/admin/v1/register`: get a nonce, then post the HMAC-SHA1 of
 * nonce, user, password and admin flag).
 */
export async function registerWithSharedSecret(
  clientUrl: string,
  sharedSecret: string,
  localpart: string,
  password = randomBytes(12).toString('hex'),
  admin = false,
): Promise<RegisteredUser> {
  const url = `${clientUrl}/_synapse/admin/v1/register`;
  const nonceRes = await request(url);
  if (nonceRes.status !== 200) throw new Error(`GET ${url}: ${nonceRes.status} ${nonceRes.text()}`);
  const { nonce } = JSON.parse(nonceRes.text()) as { nonce: string };
  const mac = createHmac('sha1', sharedSecret)
    .update(`${nonce}\0${localpart}\0${password}\0${admin ? 'admin' : 'notadmin'}`)
    .digest('hex');
  const res = await request(url, { method: 'POST', body: { nonce, username: localpart, password, admin, mac } });
  if (res.status !== 200) throw new Error(`POST ${url}: ${res.status} ${res.text()}`);
  const r = JSON.parse(res.text()) as { user_id: UserIdString; access_token: string; device_id: string };
  return { userId: r.user_id, accessToken: r.access_token, deviceId: r.device_id, password };
}
