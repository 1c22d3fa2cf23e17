import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../../src/canonicaljson/index.js';
import { answerLine } from '../../src/cli/runner.js';
import { Room } from '../auth/room.js';

const answer = (req: unknown) => JSON.parse(answerLine(typeof req === 'string' ? req : JSON.stringify(req)));

describe('answerLine', () => {
  it('echoes the id, whatever JSON value it is, and null when absent', () => {
    for (const id of [1, 'x', null, [1, { a: 2 }], { deep: { er: true } }]) {
      expect(answer({ id, op: 'public_key', seed: 'YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1' })).toMatchObject({
        id,
        ok: true,
      });
    }
    expect(answer({ op: 'nope' }).id).toBeNull();
  });

  it('keeps a large integer id exact', () => {
    expect(answerLine('{"id":123456789012345678901234567890,"op":"nope"}')).toContain(
      '"id":123456789012345678901234567890',
    );
  });

  it('answers errors with the protocol errcodes', () => {
    expect(answer('not json')).toMatchObject({ id: null, ok: false, error: { code: 'M_NOT_JSON' } });
    expect(answer('')).toMatchObject({ id: null, ok: false, error: { code: 'M_NOT_JSON' } });
    expect(answer('[1,2]')).toMatchObject({ id: null, ok: false, error: { code: 'M_BAD_JSON' } });
    expect(answer({ id: 1 })).toMatchObject({ id: 1, ok: false, error: { code: 'M_MISSING_PARAM' } });
    expect(answer({ id: 1, op: 'frobnicate' })).toMatchObject({ error: { code: 'M_UNRECOGNIZED' } });
    expect(answer({ id: 1, op: 'public_key' })).toMatchObject({ error: { code: 'M_MISSING_PARAM' } });
    expect(answer({ id: 1, op: 'public_key', seed: 5 })).toMatchObject({ error: { code: 'M_INVALID_PARAM' } });
    expect(answer({ id: 1, op: 'public_key', seed: 'AAAA' })).toMatchObject({ error: { code: 'M_INVALID_PARAM' } });
    expect(answer({ id: 1, op: 'canonical_json', json: '{}', room_version: '13' })).toMatchObject({
      error: { code: 'M_UNSUPPORTED_ROOM_VERSION' },
    });
    expect(answer({ id: 1, op: 'canonical_json', json: '{}', room_version: 6 })).toMatchObject({
      error: { code: 'M_UNSUPPORTED_ROOM_VERSION' },
    });
    expect(answer({ id: 1, op: 'canonical_json', json: '{"a":1.5}', room_version: '6' })).toMatchObject({
      error: { code: 'M_BAD_JSON' },
    });
    expect(answer({ id: 1, op: 'canonical_json', json: '{"a":' })).toMatchObject({ error: { code: 'M_NOT_JSON' } });
    expect(
      answer({ id: 1, op: 'sign_json', object: [], server_name: 'd', key_id: 'ed25519:1', seed: 'x' }),
    ).toMatchObject({ error: { code: 'M_INVALID_PARAM' } });
  });

  it('answers check_auth, and refuses requests it cannot judge with the protocol errcodes', () => {
    const room = new Room('10', '@a:x.org');
    room.member('@a:x.org', 'join');
    const msg = room.make('m.room.message', undefined, '@a:x.org', { body: 'hi' }).event;
    const req = room.request(msg);
    expect(answer(req)).toMatchObject({ ok: true, allowed: true });
    expect(
      answer({ ...req, rejected_auth_events: [room.idOf(room.state.get('m.room.create', '') as JsonObject)] }),
    ).toMatchObject({ ok: true, allowed: false, reason: expect.stringMatching(/^auth_events: /) });
    const { auth_events: _, ...withoutAuth } = req;
    expect(answer(withoutAuth)).toMatchObject({ error: { code: 'M_MISSING_PARAM' } });
    expect(answer({ ...req, auth_events: {} })).toMatchObject({ error: { code: 'M_INVALID_PARAM' } });
    expect(answer({ ...req, auth_events: [5] })).toMatchObject({ error: { code: 'M_INVALID_PARAM' } });
    expect(answer({ ...req, auth_events: [{}] })).toMatchObject({ error: { code: 'M_BAD_JSON' } });
    expect(answer({ ...req, auth_events: [] })).toMatchObject({ error: { code: 'M_INVALID_PARAM' } });
    expect(answer({ ...req, rejected_auth_events: [1] })).toMatchObject({ error: { code: 'M_INVALID_PARAM' } });
    expect(answer({ ...req, room_version: '13' })).toMatchObject({ error: { code: 'M_UNSUPPORTED_ROOM_VERSION' } });
  });

  it('answers soft_fail against the current state, and refuses malformed current states', () => {
    const room = new Room('10', '@a:x.org');
    room.member('@a:x.org', 'join');
    room.member('@b:y.org', 'join');
    const msg = room.make('m.room.message', undefined, '@b:y.org', { body: 'hi' }).event;
    expect(answer(room.softFailRequest(msg))).toMatchObject({ ok: true, allowed: true, reason: '' });
    room.member('@b:y.org', 'leave');
    const req = room.softFailRequest(msg);
    expect(answer(req)).toMatchObject({
      ok: true,
      allowed: false,
      reason: expect.stringMatching(/^sender_not_joined: /),
    });
    const state = req.current_state as JsonObject[];
    const first = state[0] as JsonObject;
    const { state_key: _, ...notState } = first;
    const { current_state: _state, ...withoutState } = req;
    expect(answer(withoutState)).toMatchObject({ error: { code: 'M_MISSING_PARAM' } });
    expect(answer({ ...req, current_state: {} })).toMatchObject({ error: { code: 'M_INVALID_PARAM' } });
    expect(answer({ ...req, current_state: [5] })).toMatchObject({ error: { code: 'M_INVALID_PARAM' } });
    expect(answer({ ...req, current_state: [{}] })).toMatchObject({ error: { code: 'M_BAD_JSON' } });
    expect(answer({ ...req, current_state: [...state, first] })).toMatchObject({ error: { code: 'M_INVALID_PARAM' } });
    expect(answer({ ...req, current_state: [notState] })).toMatchObject({ error: { code: 'M_INVALID_PARAM' } });
    expect(answer({ ...req, current_state: [] })).toMatchObject({
      ok: true,
      allowed: false,
      reason: expect.stringMatching(/^auth_events: /),
    });
    expect(answer({ ...req, room_version: '13' })).toMatchObject({ error: { code: 'M_UNSUPPORTED_ROOM_VERSION' } });
  });

  it('uses the room version rules, defaulting to 12', () => {
    expect(answer({ op: 'canonical_json', json: '[1.0, 1e5]', room_version: '1' }).canonical).toBe('[1.0,100000.0]');
    expect(answer({ op: 'canonical_json', json: '[1.0]' }).error.code).toBe('M_BAD_JSON');
  });

  it('answers a request holding unpaired surrogates instead of failing on them', () => {
    const line = '{"id":"\\ud800","op":"canonical_json","json":"\\"\\ud800\\""}';
    expect(answerLine(line)).toBe(
      '{"error":{"code":"M_BAD_JSON","message":"JSON string contains an unpaired UTF-16 surrogate"},"id":"\\ud800","ok":false}',
    );
  });

  it('answers any line with one line of JSON and never throws', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (line) => {
        const out = answerLine(line);
        expect(out).not.toContain('\n');
        expect(typeof JSON.parse(out).ok).toBe('boolean');
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(
        fc.constantFrom('canonical_json', 'public_key', 'sign_json', 'verify_json'),
        fc.dictionary(
          fc.constantFrom('json', 'room_version', 'seed', 'object', 'server_name', 'key_id', 'public_key'),
          fc.jsonValue({ maxDepth: 2 }),
        ),
        (op, fields) => {
          const out = JSON.parse(answerLine(JSON.stringify({ ...fields, op, id: 7 })));
          expect(out.id).toBe(7);
          if (!out.ok) expect(out.error.code).toMatch(/^M_(?!UNKNOWN)/);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('answers deeply nested and huge requests with typed errors', () => {
    expect(answer('['.repeat(100_000)).error.code).toBe('M_BAD_JSON');
    const deep = `${'['.repeat(2000)}${']'.repeat(2000)}`;
    expect(answer({ id: 1, op: 'canonical_json', json: deep }).error.code).toBe('M_BAD_JSON');
  });
});

describe('the conformance process', () => {
  const script = fileURLToPath(new URL('../../dist/cli/conformance.js', import.meta.url));

  it('answers each line as soon as it is read, in order, and exits 0 at end of input', async () => {
    const child = spawn(process.execPath, [script], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    const firstAnswer = new Promise<string>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve(out);
      });
    });
    child.stdin.write('{"id":1,"op":"canonical_json","json":"{\\"b\\":1,\\"a\\":2}"}\n');
    // The first answer must arrive while stdin is still open.
    expect(JSON.parse(await firstAnswer)).toEqual({ id: 1, ok: true, canonical: '{"a":2,"b":1}' });
    child.stdin.end('garbage\n\n{"id":2,"op":"public_key","seed":"AAAA"}\r\n{"id":3}');
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    const lines = out
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.id, l.ok])).toEqual([
      [1, true],
      [null, false],
      [null, false],
      [2, false],
      [3, false],
    ]);
  });
});
