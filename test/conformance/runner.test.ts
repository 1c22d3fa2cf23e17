import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { answerBytes, answerLine, LINE_TOO_LONG, splitLines } from '../../conformance/src/runner.js';
import type { JsonObject } from '../../src/canonicaljson/index.js';
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

describe('answerBytes', () => {
  it('refuses a line that is not UTF-8 with M_NOT_JSON and id null, never decoding it with U+FFFD', () => {
    const request = (middle: number[]) =>
      Uint8Array.from([
        ...Buffer.from('{"id":1,"op":"canonical_json","json":"\\"'),
        ...middle,
        ...Buffer.from('\\""}'),
      ]);
    // A stray continuation byte, 0xff, an overlong "/", an encoded surrogate
    // (U+D800 as CESU-8 writes it), a code point above U+10FFFF, a truncated
    // three-byte sequence (RFC 3629, section 3: all are ill-formed).
    for (const bad of [[0x80], [0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82]]) {
      expect(JSON.parse(answerBytes(request(bad)))).toEqual({
        id: null,
        ok: false,
        error: { code: 'M_NOT_JSON', message: 'The line is not valid UTF-8' },
      });
    }
    // A byte order mark is kept as text, so refused, as Python's json.loads
    // refuses it (RFC 8259, section 8.1: senders must not write one, and
    // parsers may ignore it or not).
    expect(JSON.parse(answerBytes(Buffer.from('\ufeff{"id":1,"op":"nope"}')))).toMatchObject({
      id: null,
      error: { code: 'M_NOT_JSON' },
    });
    // Well-formed UTF-8 of the same lengths is answered.
    for (const good of [[0x7f], [0xc2, 0x80], [0xe2, 0x80, 0xa8], [0xf4, 0x8f, 0xbf, 0xbf]]) {
      const text = Buffer.from(good).toString('utf8');
      expect(JSON.parse(answerBytes(request(good)))).toEqual({ id: 1, ok: true, canonical: `"${text}"` });
    }
  });
});

describe('splitLines', () => {
  async function* chunked(bytes: Uint8Array, cuts: number[]): AsyncGenerator<Uint8Array> {
    let start = 0;
    for (const cut of [...cuts].sort((x, y) => x - y)) {
      yield bytes.subarray(start, Math.max(start, cut));
      start = Math.max(start, cut);
    }
    yield bytes.subarray(start);
  }
  /** The lines as Latin-1 text (one character per byte); a line over the limit as `null`. */
  async function lines(bytes: Uint8Array, cuts: number[] = [], max?: number): Promise<(string | null)[]> {
    const out: (string | null)[] = [];
    for await (const line of splitLines(chunked(bytes, cuts), max)) {
      out.push(line === LINE_TOO_LONG ? null : Buffer.from(line).toString('latin1'));
    }
    return out;
  }

  it('splits at \\n bytes only, wherever the chunks are cut', async () => {
    // Latin-1 keeps one character per byte, so the expected lines are the
    // text's split at "\n", without the empty string after a last "\n".
    const bytes = fc
      .uint8Array({ maxLength: 60 })
      .map((b) => b.map((x) => (x % 10 < 5 ? ([0x0a, 0x0d, 0xe2, 0x80, 0xa8][x % 10] as number) : x)));
    await fc.assert(
      fc.asyncProperty(bytes, fc.array(fc.nat({ max: 60 })), async (b, cuts) => {
        const text = Buffer.from(b).toString('latin1');
        const expected = text.split('\n');
        if (expected.at(-1) === '') expected.pop();
        expect(await lines(b, cuts)).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('keeps \\r, U+2028 and U+2029 inside their lines, and ends a last line without \\n', async () => {
    const text = 'a\rb\r\n\u2028\u2029\n\nlast';
    const out: string[] = [];
    for await (const line of splitLines(chunked(Buffer.from(text), [1, 2, 7]))) {
      if (line !== LINE_TOO_LONG) out.push(Buffer.from(line).toString());
    }
    expect(out).toEqual(['a\rb\r', '\u2028\u2029', '', 'last']);
  });

  it('drops a line longer than the limit, whole or in chunks, and reads on after it', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.string({ unit: fc.constantFrom('a', 'b'), maxLength: 12 }), { minLength: 1, maxLength: 6 }),
        fc.boolean(),
        fc.array(fc.nat({ max: 80 })),
        async (texts, lastEnds, cuts) => {
          const bytes = Buffer.from(texts.join('\n') + (lastEnds ? '\n' : ''), 'latin1');
          const expected = texts.map((t) => (t.length > 5 ? null : t));
          if (!lastEnds && expected.at(-1) === '') expected.pop();
          expect(await lines(bytes, cuts, 5)).toEqual(expected);
        },
      ),
      { numRuns: 500 },
    );
    expect(JSON.parse(answerBytes(LINE_TOO_LONG))).toMatchObject({
      id: null,
      ok: false,
      error: { code: 'M_TOO_LARGE' },
    });
  });
});

describe('the conformance process', () => {
  const script = fileURLToPath(new URL('../../conformance/dist/conformance.js', import.meta.url));
  // The runner as `npm run conformance` starts it: the Node of the node
  // devDependency (its readline split lines at U+2028 too).
  const node = fileURLToPath(new URL('../../node_modules/.bin/node', import.meta.url));

  /** Runs the built runner on `input`: its exit status, answers and standard error. */
  async function run(input: Uint8Array): Promise<{ code: number | null; answers: JsonObject[]; stderr: string }> {
    const child = spawn(node, [script], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.stdin.end(input);
    const [code] = (await once(child, 'close')) as [number | null];
    const text = Buffer.concat(out).toString('utf8');
    expect(text.endsWith('\n')).toBe(true);
    const answers = text
      .slice(0, -1)
      .split('\n')
      .map((l) => JSON.parse(l) as JsonObject);
    return { code, answers, stderr };
  }

  it('says on one line why it stops when its input cannot be read, without a stack trace', async () => {
    // Standard input open for writing only: reading it fails (EBADF).
    const file = join(tmpdir(), `conformance-stdin-${process.pid}`);
    const writeOnly = openSync(file, 'w');
    const child = spawn(node, [script], { stdio: [writeOnly, 'pipe', 'pipe'] });
    closeSync(writeOnly);
    rmSync(file);
    const err: Buffer[] = [];
    child.stderr?.on('data', (d: Buffer) => err.push(d));
    const [code] = await once(child, 'close');
    expect(code).toBe(1);
    expect(Buffer.concat(err).toString()).toMatch(/^conformance: cannot read requests: .*\n$/);
  });

  it('splits lines at \\n only: U+2028, U+2029 and a lone \\r are part of their line', async () => {
    const input = [
      // Raw U+2028 and U+2029 in JSON strings, as JSON allows.
      '{"id":"a\u2028b","op":"canonical_json","json":"[\\"x\u2028y\u2029z\\"]"}\n',
      '{"id":"\u2029","op":"nope"}\n',
      // A lone \r ends no line: this is one line, and not JSON.
      '{"id":3,"op":"nope"}\r{"id":4,"op":"nope"}\n',
      // \r\n: the \r is JSON whitespace at the end of the line.
      '{"id":5,"op":"nope"}\r\n',
      '\n',
      // A last line without \n is answered.
      '{"id":6,"op":"nope"}',
    ].join('');
    const { code, answers, stderr } = await run(Buffer.from(input));
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(answers.map((a) => [a.id, (a.error as JsonObject | undefined)?.code ?? a.canonical])).toEqual([
      // Canonical JSON writes U+2028 and U+2029 as they are (spec, appendix:
      // only '"', '\\' and characters below U+0020 are escaped).
      ['a\u2028b', '["x\u2028y\u2029z"]'],
      ['\u2029', 'M_UNRECOGNIZED'],
      [null, 'M_NOT_JSON'],
      [5, 'M_UNRECOGNIZED'],
      [null, 'M_NOT_JSON'],
      [6, 'M_UNRECOGNIZED'],
    ]);
  });

  it('answers a line of invalid UTF-8 with M_NOT_JSON and id null, and the next lines in order', async () => {
    const input = Buffer.concat([
      Buffer.from('{"id":1,"op":"canonical_json","json":"\\"'),
      Buffer.from([0xff, 0xed, 0xa0, 0x80]),
      Buffer.from('\\""}\n{"id":2,"op":"nope"}\n'),
    ]);
    const { code, answers, stderr } = await run(input);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(answers).toEqual([
      { id: null, ok: false, error: { code: 'M_NOT_JSON', message: 'The line is not valid UTF-8' } },
      { id: 2, ok: false, error: { code: 'M_UNRECOGNIZED', message: 'Unknown op "nope"' } },
    ]);
  });

  it('ends quietly (status 0, nothing on stderr) when its reader closes the pipe, as | head -1 does', async () => {
    const child = spawn(node, [script], { stdio: ['pipe', 'pipe', 'pipe'] });
    // The runner may stop before it has read all of its input.
    child.stdin.on('error', () => {});
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const first = new Promise<string>((resolve) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve(out.slice(0, out.indexOf('\n')));
      });
    });
    // About 4 MB of answers: far more than a pipe holds, so the runner is
    // still writing when the pipe closes.
    child.stdin.end('{"id":1,"op":"nope"}\n'.repeat(50_000));
    expect(JSON.parse(await first)).toMatchObject({ id: 1, ok: false });
    child.stdout.destroy();
    const [code, signal] = await once(child, 'close');
    expect({ code, signal, stderr }).toEqual({ code: 0, signal: null, stderr: '' });
  });

  it('answers each line as soon as it is read, in order, and exits 0 at end of input', async () => {
    const child = spawn(node, [script], { stdio: ['pipe', 'pipe', 'inherit'] });
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
