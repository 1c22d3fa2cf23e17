/**
 * The keyring's diagnostics channels: each fetch from a source (servers
 * asked, servers answered, failures, error, duration) and each change of a
 * back-off (of a source for a server, of a whole source, of a key).
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../../src/canonicaljson/index.js';
import {
  KEY_BACKOFF_CHANNEL,
  KEY_FETCH_CHANNEL,
  type KeyBackoffMessage,
  type KeyFetchMessage,
  Keyring,
} from '../../src/keys/index.js';
import { FakeClock, FakeTransport, key, response, settle, sodiumSign } from './helpers.js';

const A = key(1);
const N = key(9);
const T0 = 1_700_000_000_000;
const DAY = 86_400_000;
const NOTARY = { serverName: 'notary.example', verifyKeys: new Map([['ed25519:n', N.verifyKey]]) };

/** Collects what each channel publishes while `fn` runs. */
async function collect(fn: () => Promise<void>) {
  const fetches: KeyFetchMessage[] = [];
  const backoffs: KeyBackoffMessage[] = [];
  const onFetch = (m: unknown) => fetches.push(m as KeyFetchMessage);
  const onBackoff = (m: unknown) => backoffs.push(m as KeyBackoffMessage);
  subscribe(KEY_FETCH_CHANNEL, onFetch);
  subscribe(KEY_BACKOFF_CHANNEL, onBackoff);
  try {
    await fn();
  } finally {
    unsubscribe(KEY_FETCH_CHANNEL, onFetch);
    unsubscribe(KEY_BACKOFF_CHANNEL, onBackoff);
  }
  return { fetches, backoffs };
}

describe('Keyring diagnostics channels', () => {
  it('publishes each fetch and each back-off change', async () => {
    const clock = new FakeClock(T0);
    // a.example does not answer; the notary vouches for it. b.example is unknown to all.
    const t = new FakeTransport().on('notary.example', (req) => {
      const asked = Object.keys((req.body as { server_keys: JsonObject }).server_keys);
      const list = asked.includes('a.example') ? [response('a.example', { 'ed25519:a': A }, T0 + DAY)] : [];
      return { server_keys: list.map((r) => sodiumSign(r, 'notary.example', 'ed25519:n', N)) };
    });
    const kr = new Keyring({ transport: t, notaries: [NOTARY], now: clock.now, backoff: { initialMs: 1000 } });
    const { fetches, backoffs } = await collect(async () => {
      await Promise.all([kr.getKeys('a.example', ['ed25519:a']), kr.getKeys('b.example', ['ed25519:b'])]);
      kr.resetBackoff('b.example');
    });
    expect(fetches).toEqual([
      {
        source: 'direct',
        servers: ['a.example', 'b.example'],
        fetched: [],
        failures: [
          {
            serverName: 'a.example',
            reason: expect.stringContaining('connection refused: a.example'),
            cause: expect.any(Error),
          },
          {
            serverName: 'b.example',
            reason: expect.stringContaining('connection refused: b.example'),
            cause: expect.any(Error),
          },
        ],
        error: undefined,
        durationMs: expect.any(Number),
      },
      {
        source: 'notary:notary.example',
        servers: ['a.example', 'b.example'],
        fetched: ['a.example'],
        failures: [],
        error: undefined,
        durationMs: expect.any(Number),
      },
    ]);
    const failed = { failures: 1, retryAt: T0 + 1000 };
    expect(backoffs).toEqual([
      { kind: 'source', source: 'direct', serverName: 'a.example', keyId: undefined, state: failed },
      { kind: 'source', source: 'direct', serverName: 'b.example', keyId: undefined, state: failed },
      // b.example's key: no source gave it.
      { kind: 'key', source: undefined, serverName: 'b.example', keyId: 'ed25519:b', state: failed },
      // resetBackoff('b.example'): its source failure, then its key's.
      { kind: 'source', source: 'direct', serverName: 'b.example', keyId: undefined, state: undefined },
      { kind: 'key', source: undefined, serverName: 'b.example', keyId: 'ed25519:b', state: undefined },
    ]);
  });

  it('publishes a fetch that every waiting lookup gave up, with the abort as its error', async () => {
    const t = new FakeTransport().on(
      'a.example',
      (_req, { signal }) =>
        new Promise((_resolve, reject) => signal?.addEventListener('abort', () => reject(signal.reason))),
    );
    const kr = new Keyring({ transport: t });
    const controller = new AbortController();
    const { fetches, backoffs } = await collect(async () => {
      const pending = kr.getKeys('a.example', ['ed25519:a'], undefined, { signal: controller.signal });
      await settle();
      controller.abort();
      await pending.catch(() => undefined);
      await settle();
    });
    expect(fetches).toEqual([
      expect.objectContaining({
        source: 'direct',
        servers: ['a.example'],
        error: expect.objectContaining({ name: 'AbortError' }),
      }),
    ]);
    // An aborted fetch is no failure.
    expect(backoffs).toEqual([]);
  });
});
