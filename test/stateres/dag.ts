/**
 * Hand-made auth DAGs for the state resolution unit tests: events with the
 * members state resolution reads, under IDs the test chooses (a loader's IDs
 * are trusted, so the events need not hash to them), in room version 10
 * unless told otherwise.
 */
import type { JsonObject } from '../../src/canonicaljson/index.js';
import type { Pdu } from '../../src/events/index.js';
import { getRoomVersion, type RoomVersionRules } from '../../src/roomversions/index.js';
import type { EventLoader } from '../../src/stateres/index.js';
import { partialPdu } from '../helpers.js';

export const V10: RoomVersionRules = getRoomVersion('10');

/** What {@link Dag.add} makes an event of. */
export interface FakeEvent {
  readonly type?: string;
  readonly stateKey?: string;
  readonly sender?: string;
  readonly content?: JsonObject;
  readonly auth?: readonly string[];
  /** The room ID (`null`: none, as a v12 create event has). */
  readonly roomId?: string | null;
  readonly ts?: number;
}

/** A DAG of fake events by ID, and a loader over it that counts its calls. */
export class Dag {
  readonly events = new Map<string, Pdu>();
  /** The ID lists the loader was asked for, in order. */
  readonly calls: string[][] = [];

  /** Adds an event under `id`. */
  add(id: string, e: FakeEvent = {}): this {
    this.events.set(
      id,
      partialPdu({
        type: e.type ?? 'm.room.topic',
        state_key: e.stateKey ?? '',
        sender: e.sender ?? '@alice:a.example',
        content: e.content ?? {},
        ...(e.roomId === null ? {} : { room_id: e.roomId ?? '!room:a.example' }),
        origin_server_ts: e.ts ?? 0,
        depth: 1,
        prev_events: [],
        auth_events: [...(e.auth ?? [])],
        hashes: {},
      }),
    );
    return this;
  }

  /** The auth events `id` cites. */
  authOf(id: string): string[] {
    const event = this.events.get(id);
    if (event === undefined) throw new Error(`no event ${id}`);
    return event.auth_events as string[];
  }

  /** A loader over the events, recording each call. */
  get loader(): EventLoader {
    return {
      loadEvents: async (ids) => {
        this.calls.push([...ids]);
        return new Map(ids.flatMap((id) => (this.events.has(id) ? [[id, this.events.get(id) as Pdu]] : [])));
      },
    };
  }
}

/** The error `f` rejects with. */
export async function rejection(f: () => Promise<unknown>): Promise<unknown> {
  try {
    await f();
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}
