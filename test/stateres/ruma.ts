/**
 * ruma's state resolution fixtures (vectors/ruma-state-res.json) as events
 * of their room versions: ruma's PDUs carry made-up event IDs and no depth
 * or hashes, so each is rebuilt with a depth, a content hash and the event
 * ID its version computes (from v12 the room ID too), its references
 * rewritten to match.
 *
 * The algorithm breaks ties by `origin_server_ts`, then by event ID (the
 * reverse topological power ordering and the mainline ordering), and the
 * new IDs do not sort as ruma's did: so each event's `origin_server_ts`
 * becomes its rank in the fixture's order by (`origin_server_ts`, ruma's
 * ID), which every comparison of the two orders the same way. Nothing else
 * reads the timestamp.
 */
import { readFileSync } from 'node:fs';
import type { JsonObject } from '../../src/canonicaljson/index.js';
import { assertEventSchema, type Pdu } from '../../src/events/index.js';
import { contentHash, eventId } from '../../src/hashing/index.js';
import { getRoomVersion, type RoomVersionRules } from '../../src/roomversions/index.js';
import { encodeBase64 } from '../../src/signing/index.js';
import type { StateIds } from '../../src/stateres/index.js';

interface RumaPdu {
  event_id: string;
  room_id?: string;
  sender: string;
  type: string;
  content: JsonObject;
  state_key?: string;
  origin_server_ts: number;
  prev_events: string[];
  auth_events: string[];
  redacts?: string;
}

interface RumaVectorCase {
  name: string;
  pdus: RumaPdu[][];
  state_sets?: string[][];
  expected: Record<string, Record<string, string>>;
}

/** A fixture as events of its room version. */
export interface RumaCase {
  readonly name: string;
  readonly rules: RoomVersionRules;
  /** The events, in the fixture's order. */
  readonly events: Pdu[];
  /** The state sets, by the new IDs. */
  readonly stateSets: StateIds[];
  /** The state ruma's snapshot holds, by the new IDs. */
  readonly expected: StateIds;
  /** ruma's ID of each new one. */
  readonly rumaId: ReadonlyMap<string, string>;
}

/** The fixture file's cases. */
export function rumaVectors(): { cases: RumaVectorCase[] } {
  return JSON.parse(readFileSync(new URL('./vectors/ruma-state-res.json', import.meta.url), 'utf8'));
}

const stateOf = (entries: Iterable<readonly [string, string, string]>): Map<string, Map<string, string>> => {
  const state = new Map<string, Map<string, string>>();
  for (const [type, key, id] of entries) state.set(type, (state.get(type) ?? new Map()).set(key, id));
  return state;
};

/** Rebuilds one fixture. */
function rebuild(c: RumaVectorCase): RumaCase {
  const pdus = c.pdus.flat();
  const rules = getRoomVersion(String(pdus[0]?.content.room_version));
  const newId = new Map<string, string>();
  const depth = new Map<string, number>();
  const byRuma = new Map<string, Pdu>();
  const events: Pdu[] = [];
  const ref = (id: string) => {
    const mapped = newId.get(id);
    if (mapped === undefined) throw new Error(`${c.name}: ${id} is cited before it comes`);
    return mapped;
  };
  const byTimeThenId = [...pdus].sort(
    (a, b) =>
      a.origin_server_ts - b.origin_server_ts || (a.event_id < b.event_id ? -1 : a.event_id > b.event_id ? 1 : 0),
  );
  const rank = new Map(byTimeThenId.map((p, i) => [p.event_id, i]));
  let roomId: string | undefined;
  for (const p of pdus) {
    const isCreate = p.type === 'm.room.create' && p.state_key === '';
    const event: JsonObject = {
      type: p.type,
      sender: p.sender,
      content: p.content,
      origin_server_ts: rank.get(p.event_id) as number,
      prev_events: p.prev_events.map(ref),
      auth_events: p.auth_events.map(ref),
      depth: Math.max(0, ...p.prev_events.map((id) => depth.get(id) ?? 0)) + 1,
      hashes: { sha256: '' },
      signatures: {},
    };
    if (p.state_key !== undefined) event.state_key = p.state_key;
    if (p.redacts !== undefined) event.redacts = ref(p.redacts);
    if (!(rules.eventFormat.roomIdIsCreateEventHash && isCreate)) {
      event.room_id = rules.eventFormat.roomIdIsCreateEventHash ? (roomId as string) : (p.room_id as string);
    }
    event.hashes = { sha256: encodeBase64(contentHash(event, rules)) };
    assertEventSchema(event, rules);
    const id = eventId(event, rules);
    if (isCreate && rules.eventFormat.roomIdIsCreateEventHash) roomId = `!${id.slice(1)}`;
    newId.set(p.event_id, id);
    depth.set(p.event_id, event.depth as number);
    byRuma.set(p.event_id, event);
    events.push(event);
  }
  const keyed = (id: string) => {
    const e = byRuma.get(id) as Pdu;
    return [e.type, e.state_key as string, ref(id)] as const;
  };
  const stateSets =
    c.state_sets?.map((ids) => stateOf(ids.map(keyed))) ?? pdus.map((p) => stateOf([keyed(p.event_id)]));
  const expected = stateOf(
    Object.entries(c.expected).flatMap(([type, byKey]) =>
      Object.entries(byKey).map(([k, id]) => [type, k, ref(id)] as const),
    ),
  );
  return { name: c.name, rules, events, stateSets, expected, rumaId: new Map([...newId].map(([a, b]) => [b, a])) };
}

/** Every fixture, rebuilt. */
export function rumaCases(): RumaCase[] {
  return rumaVectors().cases.map(rebuild);
}
