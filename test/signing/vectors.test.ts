import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseJson } from '../../src/canonicaljson/index.js';
import { decodeBase64, SigningKey, signedBytes, signJson, VerifyKey, verifyJson } from '../../src/signing/index.js';
import { BACKENDS, useBackend } from './backends.js';

const read = (name: string) => JSON.parse(readFileSync(new URL(`../vectors/${name}`, import.meta.url), 'utf8'));

describe.each(BACKENDS)(
  '"Taming the many EdDSAs" vectors (test/vectors/ed25519-speccheck.json), %s backend',
  (backend) => {
    useBackend(backend);
    const { cases } = read('ed25519-speccheck.json') as {
      cases: {
        number: string | null;
        message: string;
        pub_key: string;
        signature: string;
        libsodium_valid: boolean;
        description: string;
      }[];
    };
    it.each(cases.map((c) => [c.number ?? 'extra', c.description, c] as const))(
      'case %s (%s): same verdict as libsodium',
      (_n, _d, c) => {
        const key = new VerifyKey(Buffer.from(c.pub_key, 'hex'));
        expect(key.verify(Buffer.from(c.message, 'hex'), Buffer.from(c.signature, 'hex'))).toBe(c.libsodium_valid);
      },
    );
  },
);

describe.each(BACKENDS)('spec JSON signing vectors (test/vectors/signing-json-spec.json), %s backend', (backend) => {
  useBackend(backend);
  const v = read('signing-json-spec.json');
  const key = new SigningKey(decodeBase64(v.signing_key.seed_unpadded_base64));
  type Case = {
    name: string;
    input: string;
    signing_bytes: string;
    signed: string;
    server_name: string;
    key_id: string;
  };
  it.each((v.cases as Case[]).map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const input = parseJson(c.input) as Record<string, never>;
    expect(signedBytes(input).toString()).toBe(c.signing_bytes);
    const signed = signJson(input, c.server_name, c.key_id, key);
    expect(signed).toEqual(parseJson(c.signed));
    expect(verifyJson(signed, c.server_name, c.key_id, key.verifyKey)).toEqual({ valid: true });
  });
});
