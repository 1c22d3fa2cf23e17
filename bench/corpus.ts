/**
 * A deterministic corpus of realistic federation events for the benchmarks:
 * small messages, ~10 KB state events and ~60 KB member lists, shaped like
 * the PDUs Synapse sends (hashes, signatures, prev/auth events, unsigned).
 */

/** A small seeded PRNG (mulberry32) so every run measures the same input. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function b64(rand: () => number, n: number, alphabet = B64): string {
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(rand() * 64)];
  return s;
}

/** A v4+ event ID: `$` and 43 characters of URL-safe Base64. */
const eventIdOf = (rand: () => number) => `$${b64(rand, 43, B64_URL)}`;

function words(rand: () => number, n: number): string {
  const w = [
    'hello',
    'matrix',
    'federation',
    'room',
    'événement',
    'сообщение',
    '日本語',
    'test',
    'the',
    'of',
    '😀',
    'server',
  ];
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(w[Math.floor(rand() * w.length)] as string);
  return out.join(' ');
}

function envelope(rand: () => number, type: string, content: object, stateKey?: string): Record<string, unknown> {
  const event: Record<string, unknown> = {
    auth_events: [eventIdOf(rand), eventIdOf(rand), eventIdOf(rand)],
    content,
    depth: Math.floor(rand() * 100000),
    hashes: { sha256: b64(rand, 43) },
    origin_server_ts: 1700000000000 + Math.floor(rand() * 1e9),
    prev_events: [eventIdOf(rand)],
    room_id: `!${b64(rand, 18)}:example.org`,
    sender: `@user${Math.floor(rand() * 1000)}:example.org`,
    signatures: { 'example.org': { 'ed25519:a_AbCd': b64(rand, 86) } },
    type,
    unsigned: { age_ts: 1700000000000 },
  };
  if (stateKey !== undefined) event.state_key = stateKey;
  return event;
}

/** A small (under 1 KB) `m.room.message`. */
export function smallMessage(rand: () => number): Record<string, unknown> {
  return envelope(rand, 'm.room.message', { body: words(rand, 20), msgtype: 'm.text' });
}

/** A ~10 KB state event (a room topic with long text and formatted body). */
export function stateEvent10k(rand: () => number): Record<string, unknown> {
  return envelope(
    rand,
    'm.room.topic',
    { topic: words(rand, 700), 'm.topic': [{ body: words(rand, 500), mimetype: 'text/html' }] },
    '',
  );
}

/** A ~60 KB power levels event listing many users (a "member list"). */
export function memberList60k(rand: () => number): Record<string, unknown> {
  const users: Record<string, number> = {};
  for (let i = 0; i < 1950; i++)
    users[`@${b64(rand, 8).toLowerCase()}${i}:server${i % 37}.org`] = Math.floor(rand() * 100);
  return envelope(
    rand,
    'm.room.power_levels',
    { users, users_default: 0, events: { 'm.room.name': 50, 'm.room.power_levels': 100 }, ban: 50, kick: 50 },
    '',
  );
}

/** The corpus: name, then the events as compact JSON text (as received). */
export function corpus(): { name: string; texts: string[] }[] {
  const rand = prng(42);
  const make = (n: number, f: (r: () => number) => Record<string, unknown>) =>
    Array.from({ length: n }, () => JSON.stringify(f(rand)));
  const groups = [
    { kind: 'small message', texts: make(200, smallMessage) },
    { kind: 'state event', texts: make(40, stateEvent10k) },
    { kind: 'member list', texts: make(8, memberList60k) },
  ];
  // Labels give the measured mean size, not a nominal one.
  return groups.map(({ kind, texts }) => {
    const mean = texts.reduce((n, t) => n + Buffer.byteLength(t), 0) / texts.length;
    return { name: `${kind} (${(mean / 1024).toFixed(1)} KB)`, texts };
  });
}
