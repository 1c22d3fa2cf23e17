/**
 * Cancelling key lookups with an AbortSignal. A lookup gives up at once
 * with the signal's reason. The fetch it started or joined is shared with
 * the lookups batched with it and those made while it runs: it is aborted
 * (its transport request's signal aborts) only once every one of them has
 * given up, and an aborted fetch is remembered neither as a failure nor as
 * an answer. The fetchers and the notary take the signal too.
 */
import { describe, expect, it } from 'vitest';
import type { JsonValue } from '../../src/canonicaljson/index.js';
import {
  checkServerKeys,
  DirectKeyFetcher,
  type KeyFetcher,
  type KeyFetchResult,
  KeyNotary,
  type KeyRequest,
  Keyring,
  keyQueryForServer,
  NotaryKeyFetcher,
} from '../../src/keys/index.js';
import { FakeClock, FakeTransport, key, response, settle } from './helpers.js';

const A = key(1);
const N = key(9);
const T0 = 1_700_000_000_000;
const DAY = 86_400_000;

/**
 * a.example answering its keys only when the test says; each request's
 * answer function in `held`, in order. A request whose signal aborts
 * rejects with its reason, as a transport must.
 */
function heldOrigin(clock: FakeClock) {
  const held: (() => void)[] = [];
  const t = new FakeTransport().on(
    'a.example',
    (_req, { signal }) =>
      new Promise<JsonValue>((resolve, reject) => {
        signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
        held.push(() => resolve(response('a.example', { 'ed25519:a': A }, clock.t + DAY)));
      }),
  );
  return { t, held };
}

/** A fetch result of one response, checked as the direct fetcher checks it. */
async function checked(body: JsonValue): Promise<KeyFetchResult> {
  const check = checkServerKeys(body, { serverName: 'a.example' });
  if (!check.valid) throw new Error(check.reason);
  const fetched = { serverName: 'a.example', fromServer: 'a.example', response: check.response };
  return { fetched: [{ ...fetched, validUntilTs: check.validUntilTs, keys: check.verifyKeys }], failures: [] };
}

function setup() {
  const clock = new FakeClock(T0);
  const { t, held } = heldOrigin(clock);
  const keyring = new Keyring({ transport: t, now: clock.now });
  return { clock, t, held, keyring };
}

const keyA = (keyring: Keyring, signal?: AbortSignal) =>
  keyring.getKeys('a.example', ['ed25519:a'], undefined, signal === undefined ? {} : { signal });

describe('Keyring lookups with a signal', () => {
  it('rejects at once with the reason of a signal already aborted, fetching nothing', async () => {
    const { t, keyring } = setup();
    const reason = new Error('gone');
    await expect(keyA(keyring, AbortSignal.abort(reason))).rejects.toBe(reason);
    await expect(
      keyring.lookup('a.example', ['ed25519:a'], undefined, { signal: AbortSignal.abort(reason) }),
    ).rejects.toBe(reason);
    await expect(
      keyring.prepare([{ serverName: 'a.example', keyIds: ['ed25519:a'] }], { signal: AbortSignal.abort(reason) }),
    ).rejects.toBe(reason);
    await expect(
      keyring.refresh([{ serverName: 'a.example', keyIds: [] }], { signal: AbortSignal.abort(reason) }),
    ).rejects.toBe(reason);
    await settle();
    expect(t.calls).toHaveLength(0);
  });

  it('gives up a fetch under way: rejects with the reason, aborts the request, and remembers nothing', async () => {
    const { t, held, keyring } = setup();
    const controller = new AbortController();
    const pending = keyA(keyring, controller.signal);
    await settle();
    expect(t.calls).toHaveLength(1);
    const reason = new Error('client went away');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    // The only lookup waiting gave up: the request itself was aborted.
    expect(t.signals[0]?.aborted).toBe(true);
    // Neither a failure (back-off) nor an answer (refetch interval) was
    // remembered: the next lookup fetches at once.
    const again = keyA(keyring);
    await settle();
    expect(t.calls).toHaveLength(2);
    held[1]?.();
    expect((await again).has('ed25519:a')).toBe(true);
  });

  it('keeps a batched fetch for the other lookups in the batch when one gives up', async () => {
    const { t, held, keyring } = setup();
    const first = new AbortController();
    const a = keyA(keyring, first.signal);
    const b = keyA(keyring, new AbortController().signal);
    await settle();
    expect(t.calls).toHaveLength(1);
    first.abort();
    await expect(a).rejects.toMatchObject({ name: 'AbortError' });
    expect(t.signals[0]?.aborted).toBe(false);
    held[0]?.();
    expect((await b).has('ed25519:a')).toBe(true);
    expect(t.calls).toHaveLength(1);
  });

  it('keeps a fetch for a later lookup that joined it when the lookup that started it gives up', async () => {
    const { t, held, keyring } = setup();
    const first = new AbortController();
    const a = keyA(keyring, first.signal);
    await settle();
    // A later batch: it waits for the fetch under way instead of starting another.
    const b = keyA(keyring, new AbortController().signal);
    await settle();
    expect(t.calls).toHaveLength(1);
    first.abort();
    await expect(a).rejects.toMatchObject({ name: 'AbortError' });
    expect(t.signals[0]?.aborted).toBe(false);
    held[0]?.();
    expect((await b).has('ed25519:a')).toBe(true);
    expect(t.calls).toHaveLength(1);
  });

  it('aborts the shared fetch once every lookup waiting for it has given up', async () => {
    const { t, keyring } = setup();
    const first = new AbortController();
    const second = new AbortController();
    const a = keyA(keyring, first.signal);
    await settle();
    const b = keyA(keyring, second.signal);
    await settle();
    first.abort();
    await expect(a).rejects.toMatchObject({ name: 'AbortError' });
    expect(t.signals[0]?.aborted).toBe(false);
    second.abort();
    await expect(b).rejects.toMatchObject({ name: 'AbortError' });
    expect(t.signals[0]?.aborted).toBe(true);
  });

  it('a lookup without a signal holds the fetch to its end', async () => {
    const { t, held, keyring } = setup();
    const controller = new AbortController();
    const a = keyA(keyring, controller.signal);
    const b = keyA(keyring);
    await settle();
    controller.abort();
    await expect(a).rejects.toMatchObject({ name: 'AbortError' });
    expect(t.signals[0]?.aborted).toBe(false);
    held[0]?.();
    expect((await b).has('ed25519:a')).toBe(true);
  });

  it('a new lookup after every waiter gave up starts a new fetch, not joining the abandoned one', async () => {
    // A fetcher that does not heed the signal: its first fetch never ends.
    const clock = new FakeClock(T0);
    const calls: KeyRequest[][] = [];
    const fetcher: KeyFetcher = {
      source: 'stubborn',
      direct: true,
      fetch: (requests) => {
        calls.push([...requests]);
        if (calls.length === 1) return new Promise(() => undefined);
        return checked(response('a.example', { 'ed25519:a': A }, clock.t + DAY));
      },
    };
    const keyring = new Keyring({ fetchers: [fetcher], now: clock.now });
    const controller = new AbortController();
    const a = keyA(keyring, controller.signal);
    await settle();
    controller.abort();
    await expect(a).rejects.toMatchObject({ name: 'AbortError' });
    const b = keyA(keyring);
    expect((await b).has('ed25519:a')).toBe(true);
    expect(calls).toHaveLength(2);
  });
});

describe('fetchers and the notary with a signal', () => {
  it('DirectKeyFetcher passes the signal to the transport and rejects with its reason', async () => {
    const clock = new FakeClock(T0);
    const { t } = heldOrigin(clock);
    const controller = new AbortController();
    const pending = new DirectKeyFetcher(t).fetch([{ serverName: 'a.example', keyIds: [], minimumValidUntilTs: 0 }], {
      signal: controller.signal,
    });
    await settle();
    const reason = new Error('stop');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    expect(t.signals[0]).toBe(controller.signal);
  });

  it('NotaryKeyFetcher passes the signal to the transport and rejects with its reason', async () => {
    const t = new FakeTransport().on(
      'notary.example',
      (_req, { signal }) =>
        new Promise((_r, reject) => {
          signal?.addEventListener('abort', () => reject(signal.reason));
        }),
    );
    const fetcher = new NotaryKeyFetcher(t, {
      serverName: 'notary.example',
      verifyKeys: new Map([['ed25519:n', N.verifyKey]]),
    });
    const controller = new AbortController();
    const pending = fetcher.fetch([{ serverName: 'a.example', keyIds: ['ed25519:a'], minimumValidUntilTs: 0 }], {
      signal: controller.signal,
    });
    await settle();
    const reason = new Error('stop');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    expect(t.signals[0]).toBe(controller.signal);
  });

  it('KeyNotary.query gives up with the signal, aborting the fetch it started', async () => {
    const { t, keyring } = setup();
    const notary = new KeyNotary({ keyring, identity: { serverName: 'notary.example', keys: { 'ed25519:n': N } } });
    const controller = new AbortController();
    const pending = notary.query(keyQueryForServer('a.example'), { signal: controller.signal });
    await settle();
    const reason = new Error('requester went away');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    expect(t.signals[0]?.aborted).toBe(true);
  });
});
