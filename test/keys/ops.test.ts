/**
 * The key conformance ops through the runner, without the oracle (which
 * holds them to Synapse's answers in test/interop/keys.test.ts). Expected
 * values: the spec's example key, and libsodium over RFC 8785 text.
 */
import { describe, expect, it } from 'vitest';
import { answerLine } from '../../conformance/src/runner.js';
import { parseJson } from '../../src/canonicaljson/index.js';
import { key, pub, response, sodiumVerify } from './helpers.js';

const SPEC_SEED = 'YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1';
const SPEC_PUBLIC = 'XGX0JRS2Af3be3knz2fBiRbApjm2Dh61gXDJA8kcJNI';
const ask = (req: object) =>
  parseJson(answerLine(JSON.stringify(req)), { numbers: 'legacy' }) as Record<string, unknown> & {
    error?: { code: string };
  };

describe('server_keys', () => {
  it("publishes the spec's example key, signed", () => {
    const a = ask({
      op: 'server_keys',
      server_name: 'example.org',
      key_id: 'ed25519:1',
      seed: SPEC_SEED,
      valid_until_ts: 5,
    });
    const r = a.response as Record<string, never>;
    expect(r).toMatchObject({
      server_name: 'example.org',
      valid_until_ts: 5,
      verify_keys: { 'ed25519:1': { key: SPEC_PUBLIC } },
      old_verify_keys: {},
    });
    expect(sodiumVerify(r, 'example.org', 'ed25519:1', SPEC_PUBLIC)).toBe(true);
  });

  it('refuses bad requests with the protocol errcodes', () => {
    const ok = { op: 'server_keys', server_name: 's', key_id: 'ed25519:1', seed: SPEC_SEED, valid_until_ts: 5 };
    expect(ask({ ...ok, valid_until_ts: undefined }).error?.code).toBe('M_MISSING_PARAM');
    expect(ask({ ...ok, valid_until_ts: 1.5 }).error?.code).toBe('M_INVALID_PARAM');
    expect(ask({ ...ok, key_id: 'ed25519:a-b' }).error?.code).toBe('M_INVALID_PARAM');
    expect(ask({ ...ok, seed: 'AAAA' }).error?.code).toBe('M_INVALID_PARAM');
    expect(ask({ ...ok, old_verify_keys: { 'ed25519:o': { key: 'AAAA', expired_ts: 1 } } }).error?.code).toBe(
      'M_INVALID_PARAM',
    );
    expect(ask({ ...ok, old_verify_keys: { 'ed25519:o': { key: SPEC_PUBLIC } } }).error?.code).toBe('M_INVALID_PARAM');
  });
});

describe('check_server_keys', () => {
  it('answers valid with the keys and their times, or not with a reason', () => {
    const A = key(1);
    const r = response('a.example', { 'ed25519:a': A }, 7, { 'ed25519:o': { key: key(2), expired_ts: 3 } });
    expect(ask({ op: 'check_server_keys', server_name: 'a.example', response: r, now_ts: 0 })).toEqual({
      id: null,
      ok: true,
      valid: true,
      verify_keys: {
        'ed25519:a': { key: pub(A), valid_until_ts: 7 },
        'ed25519:o': { key: pub(key(2)), valid_until_ts: 3 },
      },
      reason: '',
    });
    const other = ask({ op: 'check_server_keys', server_name: 'b.example', response: r, now_ts: 0 });
    expect(other).toMatchObject({ ok: true, valid: false, verify_keys: {} });
    expect(ask({ op: 'check_server_keys', server_name: 'a.example', response: [], now_ts: 0 }).error?.code).toBe(
      'M_INVALID_PARAM',
    );
    expect(ask({ op: 'check_server_keys', server_name: 'a.example', response: r, now_ts: 'x' }).error?.code).toBe(
      'M_INVALID_PARAM',
    );
  });
});
