/**
 * The fields every event of a room version needs, around the fields a test
 * varies: for ops that read an event's type, sender, state key and content
 * but not its hashes or signatures (placeholders here).
 */

let serial = 0;

/**
 * An event of room version `v` made of `fields` and placeholders for the
 * rest (v1–v2: a fresh `event_id` each call).
 */
export function envelope<V>(v: string, fields: { [key: string]: V }): { [key: string]: V } {
  const n = Number(v);
  const ref = (c: string) => (n <= 2 ? [`$${c}:hs`, { sha256: 'h' }] : `$${c.repeat(43)}`);
  return {
    room_id: n >= 12 ? `!${'R'.repeat(43)}` : '!r:hs',
    sender: '@admin:hs',
    depth: 5,
    origin_server_ts: 1,
    prev_events: [ref('P')],
    auth_events: [ref('A')],
    hashes: { sha256: 'h' },
    signatures: {},
    ...(n <= 2 ? { event_id: `$${++serial}:hs` } : {}),
    ...fields,
  } as unknown as { [key: string]: V };
}
