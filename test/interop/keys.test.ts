/**
 * Differential tests for the server key ops (server_keys,
 * check_server_keys): the same request lines answered by Synapse's own code
 * (the oracle: its key server resource, and its ServerKeyFetcher's response
 * processing) and by us must agree. Expected values are Synapse's answers.
 *
 * Responses are generated from a fixed seed (reproducible): signed by some
 * of their keys, then mutated in the ways a broken or hostile server could
 * (keys of the wrong length or encoding, signatures by the wrong key or
 * over other content, times of every JSON type, old keys, other servers'
 * names). Request lines are built as text so that numbers reach both sides
 * exactly as written.
 */
import { appendFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { prng } from '../../bench/corpus.ts';
import { type JsonObject, parseJson } from '../../src/canonicaljson/index.js';
import { encodeBase64, SigningKey, signedBytes } from '../../src/signing/index.js';
import { SPEC_EXAMPLE_KEY_RESPONSE } from '../keys/helpers.js';
import { askSynapse, type Difference, ourDifferingAnswer } from './oracle.js';
import { LEGACY, type Obj, objOf, Raw, text, type Val } from './rawjson.js';

class Dice {
  readonly #r: () => number;
  constructor(seed: number) {
    this.#r = prng(seed);
  }
  int(n: number): number {
    return Math.floor(this.#r() * n);
  }
  chance(p: number): boolean {
    return this.#r() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)] as T;
  }
}

const seedOf = (n: number) => new Uint8Array(32).map((_, i) => (n * 31 + i * 7) & 0xff);
const KEYS = Array.from({ length: 6 }, (_, i) => new SigningKey(seedOf(i + 1)));

const SERVERS = ['origin.example', 'other.example', 'origin.example:8448', '[::1]:8448', '__proto__', 'é.example'];
const KEY_IDS = [
  'ed25519:a',
  'ed25519:b_1',
  'ed25519:auto2',
  'ed25519:',
  'ed25519:a:b',
  'ed25519:é',
  'ED25519:a',
  'curve25519:a',
  'ed25519',
  'ed25519:__proto__',
];

/** Text of a JSON number or other value used for times. */
const TIMES: readonly Val[] = [
  new Raw('1652262000000'),
  new Raw('0'),
  new Raw('-1'),
  new Raw('-0'),
  new Raw('9007199254740991'),
  new Raw('9007199254740993'),
  new Raw('9223372036854775807'),
  new Raw('9223372036854775808'),
  new Raw('-9223372036854775808'),
  new Raw('-9223372036854775809'),
  new Raw('1652262000000.0'),
  new Raw('1.5'),
  new Raw('1E12'),
  new Raw('1e400'),
  '1652262000000',
  true,
  false,
  null,
  [],
  {},
];

function goodTime(d: Dice): Val {
  return new Raw(String(d.pick([1652262000000, 0, 1, 2 ** 40, 4102444800000, 1532645052628])));
}

/** A public key entry, or a broken one. */
function keyEntry(d: Dice, key: SigningKey, broken: boolean): Val {
  const b64 = encodeBase64(key.publicKey);
  if (!broken) {
    return d.chance(0.1)
      ? objOf([
          ['key', b64],
          ['extra', d.int(5)],
        ])
      : objOf([['key', b64]]);
  }
  switch (d.int(12)) {
    case 0:
      return objOf([['key', encodeBase64(key.publicKey.subarray(0, 31))]]);
    case 1:
      return objOf([['key', encodeBase64(new Uint8Array([...key.publicKey, 0]))]]);
    case 2:
      return objOf([['key', `${b64}=`]]); // padded: Synapse reads it
    case 3:
      return objOf([['key', Buffer.from(key.publicKey).toString('base64url')]]); // URL-safe: read too
    case 4:
      return objOf([['key', `${b64.slice(0, 10)}!${b64.slice(10)}`]]); // junk skipped
    case 5:
      return objOf([['key', `${b64.slice(0, 10)}é${b64.slice(10)}`]]);
    case 6:
      return objOf([['key', d.int(100)]]);
    case 7:
      return objOf([['kee', b64]]);
    case 8:
      return b64;
    case 9:
      return [objOf([['key', b64]])];
    case 10:
      return null;
    default:
      return objOf([['key', `${b64}A`]]); // 43 + 1 characters: one too many
  }
}

interface Case {
  request: string;
}

/** One check_server_keys request, from the dice. */
function generate(d: Dice): Case {
  const asked = d.chance(0.85) ? 'origin.example' : d.pick(SERVERS);
  const claimed = d.chance(0.9) ? asked : d.pick(SERVERS);
  const keyIds = [...new Set(Array.from({ length: 1 + d.int(3) }, () => d.pick(KEY_IDS)))];
  const keyOf = new Map(keyIds.map((id) => [id, d.pick(KEYS)]));
  const brokenKeys = d.chance(0.15);

  const entries: Array<[string, Val]> = [];
  if (!d.chance(0.03)) entries.push(['server_name', claimed]);
  if (!d.chance(0.03)) entries.push(['valid_until_ts', d.chance(0.8) ? goodTime(d) : d.pick(TIMES)]);
  const verifyKeys: Array<[string, Val]> = keyIds.map((id) => [
    id,
    keyEntry(d, keyOf.get(id) as SigningKey, brokenKeys && d.chance(0.5)),
  ]);
  if (!d.chance(0.02)) entries.push(['verify_keys', d.chance(0.02) ? [] : objOf(verifyKeys)]);
  const oldIds: string[] = [];
  if (d.chance(0.4)) {
    const old: Array<[string, Val]> = [];
    for (let i = d.int(3); i > 0; i--) {
      const id = d.chance(0.3) ? d.pick(keyIds) : d.pick(KEY_IDS);
      oldIds.push(id);
      const key = d.pick(KEYS);
      keyOf.set(id, keyOf.get(id) ?? key);
      const fields: Array<[string, Val]> = [['key', encodeBase64(key.publicKey)]];
      if (!d.chance(0.05)) fields.push(['expired_ts', d.chance(0.7) ? goodTime(d) : d.pick(TIMES)]);
      if (d.chance(0.05)) fields[0] = ['key', encodeBase64(key.publicKey.subarray(1))];
      old.push([id, d.chance(0.03) ? 'nope' : objOf(fields)]);
    }
    entries.push(['old_verify_keys', d.chance(0.03) ? null : objOf(old)]);
  }
  if (d.chance(0.15)) entries.push(['tls_fingerprints', [objOf([['sha256', 'abc']])]]);
  if (d.chance(0.08))
    entries.push([
      'extra',
      d.pick<Val>([new Raw('1.0'), new Raw('-0.0'), new Raw('1E5'), new Raw('123456789012345678901234567890')]),
    ]);
  if (d.chance(0.05)) entries.push(['bad', '\\ud800']); // replaced below with a real escape
  if (d.chance(0.05)) entries.push(['unsigned', objOf([['age', d.int(100)]])]);
  if (d.chance(0.02)) entries.push(['unsigned', objOf([['x', new Raw('1e400')]])]);

  const unsignedText = text(objOf(entries)).replace('"\\\\ud800"', '"\\ud800"');
  let content: JsonObject | undefined;
  try {
    content = parseJson(unsignedText, { ...LEGACY, allowInfiniteFloats: true }) as JsonObject;
  } catch {
    content = undefined;
  }
  const sign = (key: SigningKey): string => {
    try {
      return encodeBase64(key.sign(signedBytes(content as JsonObject, { numbers: 'legacy' })));
    } catch {
      return 'cannot be signed';
    }
  };

  // Signatures: by some of the keys, in a shuffled order, each possibly broken.
  const sigs: Array<[string, Val]> = [];
  const signers = [...keyOf.keys()].filter(() => d.chance(0.8));
  if (d.chance(0.1)) signers.push('ed25519:unknown');
  for (let i = signers.length - 1; i > 0; i--) {
    const j = d.int(i + 1);
    [signers[i], signers[j]] = [signers[j] as string, signers[i] as string];
  }
  for (const id of signers) {
    let sig = sign(keyOf.get(id) ?? d.pick(KEYS));
    if (d.chance(0.12)) {
      const pos = d.int(sig.length);
      switch (d.int(6)) {
        case 0:
          sig = sig.slice(0, pos) + (sig[pos] === 'A' ? 'B' : 'A') + sig.slice(pos + 1);
          break;
        case 1:
          sig = sig.slice(0, pos);
          break;
        case 2:
          sig = `${sig}==`;
          break;
        case 3:
          sig = sign(d.pick(KEYS));
          break;
        case 4:
          sig = `${sig.slice(0, pos)}!${sig.slice(pos)}`;
          break;
        default:
          sigs.push([id, d.int(9)]);
          continue;
      }
    }
    sigs.push([id, sig]);
  }
  const signatures: Array<[string, Val]> = [];
  const mine: Val = d.chance(0.03) ? d.pick<Val>(['ed25519:a', [...signers], null]) : objOf(sigs);
  if (!d.chance(0.04)) signatures.push([claimed, mine]);
  if (d.chance(0.15)) signatures.push(['notary.example', objOf([['ed25519:n', sign(KEYS[5] as SigningKey)]])]);
  const signaturesVal: Val = d.chance(0.02) ? [] : objOf(signatures);
  let body = `${unsignedText.slice(0, -1)}${unsignedText.length > 2 ? ',' : ''}"signatures":${text(signaturesVal)}}`;
  if (d.chance(0.06)) {
    // Tampered after signing.
    body = body.replace(/"valid_until_ts":-?[0-9][^,}]*/, '"valid_until_ts":1652262000001');
  }
  const now = d.pick([0, 1652262000000, 2000000000000, -5]);
  const request = `{"op":"check_server_keys","server_name":${JSON.stringify(asked)},"response":${body},"now_ts":${now}}`;
  return { request };
}

interface Outcome {
  diffs: Difference[];
  theirs: Array<Record<string, unknown>>;
}

async function compare(lines: string[]): Promise<Outcome> {
  const answers = await askSynapse(lines);
  const diffs: Difference[] = [];
  const theirs: Array<Record<string, unknown>> = [];
  lines.forEach((request, i) => {
    const synapse = answers[i] as string;
    const ours = ourDifferingAnswer(request, synapse);
    theirs.push(parseJson(synapse, LEGACY) as Record<string, unknown>);
    if (ours !== undefined) diffs.push({ request, synapse, ours });
  });
  return { diffs, theirs };
}

const cut = (s: string, n = 1500) => (s.length > n ? `${s.slice(0, n)}… (${s.length} chars)` : s);

async function expectAgreement(label: string, lines: string[]): Promise<Outcome> {
  const outcome = await compare(lines);
  if (process.env.DUMP_DIFFS) {
    for (const d of outcome.diffs) appendFileSync(process.env.DUMP_DIFFS, `${JSON.stringify({ label, ...d })}\n`);
  }
  const first = outcome.diffs
    .slice(0, 3)
    .map((d) => `\n  request: ${cut(d.request)}\n  synapse: ${cut(d.synapse)}\n  ours:    ${cut(d.ours)}`)
    .join('\n');
  expect(outcome.diffs.length, `${label}: ${outcome.diffs.length} of ${lines.length} differ${first}`).toBe(0);
  return outcome;
}

function tally(theirs: Array<Record<string, unknown>>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const a of theirs) {
    const k =
      a.ok !== true
        ? String((a.error as { code?: string }).code)
        : a.valid === undefined
          ? 'ok'
          : `valid=${String(a.valid)}`;
    counts[k] = (counts[k] ?? 0) + 1;
  }
  return counts;
}

const line = (req: object) => JSON.stringify(req);
const SEED = 'YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1';

describe('Synapse oracle: check_server_keys', () => {
  it('agrees on 4,000 generated and mutated key responses, with a healthy mix of answers', async () => {
    const d = new Dice(20260505);
    const lines = Array.from({ length: 4000 }, () => generate(d).request);
    const { theirs } = await expectAgreement('generated', lines);
    const counts = tally(theirs);
    console.log('check_server_keys, Synapse answers:', counts);
    expect(counts['valid=true'] ?? 0).toBeGreaterThan(lines.length * 0.25);
    expect(counts['valid=false'] ?? 0).toBeGreaterThan(lines.length * 0.25);
  });

  it('agrees on named cases', async () => {
    const k = KEYS[0] as SigningKey;
    const pk = encodeBase64(k.publicKey);
    const signed = (o: JsonObject, keyId = 'ed25519:a', key = k): JsonObject => ({
      ...o,
      signatures: { 'origin.example': { [keyId]: encodeBase64(key.sign(signedBytes(o, { numbers: 'legacy' }))) } },
    });
    const base = {
      server_name: 'origin.example',
      valid_until_ts: 1652262000000,
      verify_keys: { 'ed25519:a': { key: pk } },
    };
    const check = (response: unknown, server = 'origin.example', now: unknown = 0) =>
      line({ op: 'check_server_keys', server_name: server, response, now_ts: now });
    const specExample = SPEC_EXAMPLE_KEY_RESPONSE;
    const lines = [
      check(specExample, 'example.org'),
      check(signed(base)),
      check(signed(base), 'other.example'),
      check({ ...signed(base), valid_until_ts: 1 }),
      check(signed({ ...base, old_verify_keys: { 'ed25519:a': { key: pk, expired_ts: 5 } } })),
      check(signed({ ...base, old_verify_keys: { 'ed25519:o': { key: pk, expired_ts: 5 } } })),
      check(signed({ ...base, old_verify_keys: { 'ed25519:o': { key: pk } } })),
      check(signed(base, 'ed25519:a', KEYS[1] as SigningKey)),
      check({ ...base, signatures: {} }),
      check(base),
      check(signed({ ...base, verify_keys: {} })),
      check(signed({ ...base, verify_keys: { 'ed25519:a': { key: pk.slice(0, -2) } } })),
      check(signed({ ...base, valid_until_ts: '1652262000000' })),
      check(signed(base), 'origin.example', 1.5),
      check(signed(base), 'origin.example', 'now'),
      check('not an object'),
      line({ op: 'check_server_keys', server_name: 'origin.example', now_ts: 0 }),
      line({ op: 'check_server_keys', response: signed(base), now_ts: 0 }),
      line({ op: 'check_server_keys', server_name: 'origin.example', response: signed(base) }),
    ];
    const { theirs } = await expectAgreement('named', lines);
    expect(theirs[0]).toMatchObject({ valid: false }); // the spec's example keys are not 32 bytes
    expect(theirs[1]).toMatchObject({ valid: true });
  });
});

describe('Synapse oracle: server_keys', () => {
  it('agrees on generated requests, and Synapse accepts every response it builds', async () => {
    const d = new Dice(77);
    const lines: string[] = [];
    for (let i = 0; i < 600; i++) {
      const old: Array<[string, Val]> = [];
      for (let j = d.int(3); j > 0; j--) {
        const fields: Array<[string, Val]> = [];
        if (!d.chance(0.03)) fields.push(['key', d.chance(0.95) ? encodeBase64(d.pick(KEYS).publicKey) : 'AAAA']);
        if (!d.chance(0.03)) fields.push(['expired_ts', d.chance(0.85) ? goodTime(d) : d.pick(TIMES)]);
        old.push([d.chance(0.9) ? `ed25519:old${j}` : d.pick(KEY_IDS), d.chance(0.02) ? 7 : objOf(fields)]);
      }
      const fields: Array<[string, Val]> = [
        ['op', 'server_keys'],
        ['server_name', d.chance(0.95) ? d.pick(SERVERS) : '\\ud800'],
        ['key_id', d.chance(0.85) ? d.pick(['ed25519:a', 'ed25519:a_1', 'ed25519:Zz9']) : d.pick(KEY_IDS)],
        ['seed', d.chance(0.95) ? encodeBase64(seedOf(d.int(50))) : d.pick(['AAAA', '', `${SEED}=`, 'é'])],
      ];
      if (!d.chance(0.03)) fields.push(['valid_until_ts', d.chance(0.85) ? goodTime(d) : d.pick(TIMES)]);
      if (old.length > 0 || d.chance(0.2)) fields.push(['old_verify_keys', d.chance(0.03) ? null : objOf(old)]);
      lines.push(text(objOf(fields)).replace('"\\\\ud800"', '"\\ud800"'));
    }
    lines.push(
      line({
        op: 'server_keys',
        server_name: 'example.org',
        key_id: 'ed25519:a_1',
        seed: SEED,
        valid_until_ts: 1652262000000,
        old_verify_keys: {
          'ed25519:0ldk3y': { key: encodeBase64((KEYS[2] as SigningKey).publicKey), expired_ts: 1532645052628 },
        },
      }),
    );
    const { theirs } = await expectAgreement('server_keys', lines);
    const counts = tally(theirs);
    console.log('server_keys, Synapse answers:', counts);
    const built = theirs.filter((a) => a.ok === true);
    expect(built.length).toBeGreaterThan(lines.length / 2);
    expect(built.length).toBeLessThan(lines.length);

    // Each response Synapse built, checked by both as fetched from that server.
    const checks = built.map((a) => {
      const response = a.response as Obj;
      return `{"op":"check_server_keys","server_name":${JSON.stringify(response.server_name)},"response":${JSON.stringify(response)},"now_ts":0}`;
    });
    const round = await expectAgreement('server_keys then check_server_keys', checks);
    expect(round.theirs.every((a) => a.valid === true)).toBe(true);
  });
});
