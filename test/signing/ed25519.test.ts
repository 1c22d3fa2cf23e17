import { Console } from 'node:console';
import { Writable } from 'node:stream';
import { format, inspect } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidInputError, SigningKey, VerifyKey, verifyKeyFromBytes } from '../../src/signing/index.js';
import { BACKENDS, useBackend } from './backends.js';
import { fromLE, L, sodium, toLE } from './forge.js';

// libsodium (what Synapse verifies with, through PyNaCl) as the independent
// judge of which signatures are valid.
function libsodiumVerify(pk: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean {
  if (sig.length !== 64 || pk.length !== 32) return false;
  return sodium.crypto_sign_verify_detached(Buffer.from(sig), Buffer.from(msg), Buffer.from(pk));
}

describe('Ed25519 keys', () => {
  it('derives the same public key and signatures as libsodium', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 200 }), (seed, msg) => {
        const ours = new SigningKey(seed);
        const pk = Buffer.alloc(32);
        const sk = Buffer.alloc(64);
        sodium.crypto_sign_seed_keypair(pk, sk, Buffer.from(seed));
        expect(Buffer.from(ours.publicKey)).toEqual(pk);
        const sig = Buffer.alloc(64);
        sodium.crypto_sign_detached(sig, Buffer.from(msg), sk);
        expect(Buffer.from(ours.sign(msg))).toEqual(sig);
      }),
      { numRuns: 100 },
    );
  });

  it('generates working keys', () => {
    const k = SigningKey.generate();
    const msg = Buffer.from('hello');
    expect(k.verifyKey.verify(msg, k.sign(msg))).toBe(true);
    expect(libsodiumVerify(k.publicKey, msg, k.sign(msg))).toBe(true);
  });

  it('refuses seeds and public keys of the wrong length with a typed error', () => {
    expect(() => new SigningKey(new Uint8Array(31))).toThrow(InvalidInputError);
    expect(() => new VerifyKey(new Uint8Array(33))).toThrow(InvalidInputError);
  });
});

describe('the seed stays private', () => {
  // Bytes unlikely to appear by chance in any of the forms leaks() looks for.
  const seed = Uint8Array.from({ length: 32 }, (_, i) => 200 + ((i * 7) % 56));
  const key = new SigningKey(seed);
  const publicKey = (() => {
    const pk = Buffer.alloc(32);
    sodium.crypto_sign_seed_keypair(pk, Buffer.alloc(64), Buffer.from(seed));
    return pk.toString('base64').replace(/=+$/, '');
  })();

  /** The forms of the seed found in `text`: hex, Base64, Uint8Array's inspect and JSON forms. */
  function leaks(text: string): string[] {
    const b = Buffer.from(seed);
    const forms: Record<string, string> = {
      hex: b.subarray(0, 8).toString('hex'),
      base64: b.toString('base64').slice(0, 12),
      base64url: b.toString('base64url').slice(0, 12),
      inspect: [...seed.subarray(0, 4)].join(', '),
      list: [...seed.subarray(0, 4)].join(','),
      json: `"0":${seed[0]},"1":${seed[1]}`,
    };
    return Object.keys(forms).filter((form) => text.includes(forms[form] as string));
  }

  it('is no property of the key', () => {
    expect('seed' in key).toBe(false);
    expect((key as unknown as Record<string, unknown>).seed).toBeUndefined();
    expect((key as unknown as Record<string, unknown>).privateKey).toBeUndefined();
    expect(Object.keys(key)).toEqual(['verifyKey']);
  });

  it('console.log and util.inspect show the public key and [redacted]', () => {
    let logged = '';
    const out = new Writable({
      write(chunk, _encoding, done) {
        logged += String(chunk);
        done();
      },
    });
    new Console(out).log(key);
    expect(logged).toBe(`SigningKey { publicKey: '${publicKey}', seed: [redacted] }\n`);
    for (const text of [
      inspect(key, { showHidden: true, depth: Number.POSITIVE_INFINITY }),
      inspect({ nested: [key] }),
      format('%s %o %O %j', key, key, key, key),
    ]) {
      expect(text).toContain('[redacted]');
      expect(leaks(text), text).toEqual([]);
    }
  });

  it('JSON.stringify writes the public key and "[redacted]"', () => {
    expect(JSON.stringify(key)).toBe(`{"publicKey":"${publicKey}","seed":"[redacted]"}`);
    expect(leaks(JSON.stringify({ key }))).toEqual([]);
  });

  it('error messages do not carry it: a wrong length, a key as an error cause or in a message', () => {
    const long = Uint8Array.from([...seed, 1]);
    let message = '';
    try {
      new SigningKey(long);
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidInputError);
      message = inspect(e);
    }
    expect(message).toContain('not 33');
    expect(leaks(message)).toEqual([]);
    const error = new Error(`cannot use ${key}`, { cause: key });
    expect(leaks(inspect(error))).toEqual([]);
    expect(leaks(String(error))).toEqual([]);
  });

  it('exportSeed gives a copy of it, from which libsodium derives the same key', () => {
    const exported = key.exportSeed();
    expect(Buffer.from(exported)).toEqual(Buffer.from(seed));
    exported.fill(0);
    expect(Buffer.from(key.exportSeed())).toEqual(Buffer.from(seed));
    // The constructor copies too: changing its argument changes nothing.
    const input = Uint8Array.from(seed);
    const copy = new SigningKey(input);
    input.fill(0);
    expect(Buffer.from(copy.exportSeed())).toEqual(Buffer.from(seed));
    expect(Buffer.from(copy.publicKey).toString('base64').replace(/=+$/, '')).toBe(publicKey);
  });
});

describe.each(BACKENDS)('Ed25519 verification accepts exactly what libsodium accepts, %s backend', (backend) => {
  useBackend(backend);
  const key = new SigningKey(new Uint8Array(32).fill(7));
  const msg = Buffer.from('{"a":1}');
  const sig = key.sign(msg);

  it('accepts a valid signature and refuses a malleated one (S + L)', () => {
    expect(key.verifyKey.verify(msg, sig)).toBe(true);
    const malleated = Uint8Array.from(sig);
    malleated.set(toLE(fromLE(sig.subarray(32)) + L), 32);
    expect(libsodiumVerify(key.publicKey, msg, malleated)).toBe(false);
    expect(key.verifyKey.verify(msg, malleated)).toBe(false);
  });

  it('refuses signatures of the wrong length', () => {
    expect(key.verifyKey.verify(msg, sig.subarray(0, 63))).toBe(false);
    expect(key.verifyKey.verify(msg, new Uint8Array(65))).toBe(false);
  });

  it('refuses every small-order public key and small-order R', () => {
    const smallOrder = [
      '0000000000000000000000000000000000000000000000000000000000000000',
      '0100000000000000000000000000000000000000000000000000000000000000',
      '0000000000000000000000000000000000000000000000000000000000000080',
      '0100000000000000000000000000000000000000000000000000000000000080',
      '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
      'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
      'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa',
      'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
      'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
      'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
    ].map((h) => Uint8Array.from(Buffer.from(h, 'hex')));
    for (const pk of smallOrder) {
      const vk = new VerifyKey(pk);
      expect(vk.usable).toBe(false);
      // libsodium refuses these keys before any arithmetic; so must we.
      const s = toLE(5n);
      const R = new SigningKey(new Uint8Array(32)).publicKey; // any point
      const forged = new Uint8Array([...R, ...s]);
      expect(vk.verify(msg, forged)).toBe(libsodiumVerify(pk, msg, forged));
    }
    for (const r of smallOrder) {
      const forged = new Uint8Array([...r, ...sig.subarray(32)]);
      expect(key.verifyKey.verify(msg, forged)).toBe(false);
      expect(libsodiumVerify(key.publicKey, msg, forged)).toBe(false);
    }
  });

  it('agrees with libsodium on mutated signatures, keys and messages', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ maxLength: 64 }),
        fc.array(fc.tuple(fc.nat(127), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }),
        fc.constantFrom('sig', 'pk', 'msg', 'sBits', 'none'),
        (seed, message, edits, target) => {
          const k = new SigningKey(seed);
          const s = Uint8Array.from(k.sign(message));
          const pk = Uint8Array.from(k.publicKey);
          const m = Uint8Array.from(message);
          for (const [pos, val] of edits) {
            if (target === 'sig') s[pos % 64] = val;
            else if (target === 'pk') pk[pos % 32] = val;
            else if (target === 'msg' && m.length > 0) m[pos % m.length] = val;
            else if (target === 'sBits') s[63] = ((s[63] as number) & 0x0f) | (val & 0xf0);
          }
          const ours = new VerifyKey(pk).verify(m, s);
          expect(ours).toBe(libsodiumVerify(pk, m, s));
          expect(verifyKeyFromBytes(pk).verify(m, s)).toBe(ours);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('agrees with libsodium on non-canonical public key encodings (y ≥ p)', () => {
    for (let low = 0xed; low <= 0xff; low++) {
      for (const top of [0x7f, 0xff]) {
        const pk = new Uint8Array(32).fill(0xff);
        pk[0] = low;
        pk[31] = top;
        const vk = new VerifyKey(pk);
        expect(vk.usable).toBe(false);
        expect(vk.verify(msg, sig)).toBe(libsodiumVerify(pk, msg, sig));
      }
    }
  });
});
