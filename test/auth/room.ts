/**
 * A hand-driven room for the named auth-rule cases: events of any room
 * version, whose auth events the selection algorithm picks from the room's
 * state, and the `check_auth` and `soft_fail` request lines for a candidate
 * event.
 * Signatures and hashes are placeholders: the auth rules do not read them.
 */

import { StateMap } from '../../src/auth/index.js';
import { authTypesForEvent } from '../../src/auth/selection.js';
import type { JsonObject, JsonValue } from '../../src/canonicaljson/index.js';
import { assertEventSchema, type Pdu } from '../../src/events/index.js';
import { eventId } from '../../src/hashing/index.js';
import { getRoomVersion, type RoomVersionRules } from '../../src/roomversions/index.js';

/** Overrides for one event. */
export interface EventOptions {
  /** `prev_events` IDs (default: the last event added). */
  prev?: string[];
  /** `auth_events` IDs (default: selected from the state). */
  auth?: string[];
  /** Extra top-level keys (e.g. `redacts`). */
  extra?: JsonObject;
  /** Another room ID. */
  roomId?: string;
}

export class Room {
  readonly rules: RoomVersionRules;
  readonly state = new StateMap();
  readonly events = new Map<string, Pdu>();
  roomId = '';
  #last: string[] = [];
  #n = 0;

  /**
   * @param version - the room version.
   * @param creator - the create event's sender.
   * @param createContent - more create event content.
   * @param roomId - v1–v11: the room ID (default `!room:` and the creator's
   *   server); from v12 it is the create event's hash.
   */
  constructor(
    readonly version: string,
    readonly creator = '@alice:a.org',
    createContent: JsonObject = {},
    roomId?: string,
  ) {
    this.rules = getRoomVersion(version);
    if (!this.rules.eventFormat.roomIdIsCreateEventHash)
      this.roomId = roomId ?? `!room:${creator.slice(creator.indexOf(':') + 1)}`;
    const content: JsonObject = this.rules.auth.implicitRoomCreator ? {} : { creator };
    this.add('m.room.create', '', creator, { ...content, room_version: version, ...createContent }, { prev: [] });
  }

  get opaque(): boolean {
    return this.rules.eventFormat.eventIdFormat === 'opaque';
  }

  /** An event of this room, not yet added. */
  make(type: string, stateKey: string | undefined, sender: string, content: JsonObject, o: EventOptions = {}) {
    const v12 = this.rules.eventFormat.roomIdIsCreateEventHash;
    const isCreate = type === 'm.room.create';
    const draft: JsonObject = { type, sender, content, depth: this.#n + 1, origin_server_ts: 1_000 + this.#n };
    if (stateKey !== undefined) draft.state_key = stateKey;
    if (!(v12 && isCreate)) draft.room_id = o.roomId ?? this.roomId;
    const ref = (id: string): JsonValue => (this.opaque ? [id, { sha256: 'aGFzaA' }] : id);
    draft.prev_events = (o.prev ?? this.#last).map(ref);
    draft.auth_events = (o.auth ?? (isCreate ? [] : this.selectAuth(draft))).map(ref);
    draft.hashes = { sha256: 'aGFzaA' };
    draft.signatures = { [sender.slice(sender.indexOf(':') + 1)]: { 'ed25519:k': 'c2ln' } };
    if (this.opaque) draft.event_id = `$e${++this.#n}:${sender.slice(sender.indexOf(':') + 1)}`;
    else this.#n++;
    Object.assign(draft, o.extra ?? {});
    assertEventSchema(draft, this.rules);
    const id = eventId(draft, this.rules);
    return { event: draft, id };
  }

  /** The IDs of the auth events the selection algorithm picks from the state. */
  selectAuth(draft: JsonObject): string[] {
    const ids: string[] = [];
    let types: ReturnType<typeof authTypesForEvent>;
    try {
      types = authTypesForEvent(draft, this.rules);
    } catch {
      // Content the selection cannot read (the room may hold such events).
      types = [['m.room.create', '']];
    }
    for (const [type, key] of types) {
      const e = this.state.get(type, key);
      if (e !== undefined) ids.push(this.idOf(e));
    }
    return ids;
  }

  idOf(event: JsonObject): string {
    return eventId(event, this.rules);
  }

  /** Makes an event and adds it to the room (and its state), unchecked. */
  add(type: string, stateKey: string | undefined, sender: string, content: JsonObject, o: EventOptions = {}) {
    const made = this.make(type, stateKey, sender, content, o);
    this.events.set(made.id, made.event);
    if (stateKey !== undefined) this.state.set(type, stateKey, made.event);
    if (type === 'm.room.create' && this.rules.eventFormat.roomIdIsCreateEventHash)
      this.roomId = `!${made.id.slice(1)}`;
    this.#last = [made.id];
    return made;
  }

  /** A member event. */
  member(user: string, membership: string, sender = user, content: JsonObject = {}, o: EventOptions = {}) {
    return this.add('m.room.member', user, sender, { membership, ...content }, o);
  }

  /** The room's current state: the events of `state`, in the order they were added. */
  currentState(): Pdu[] {
    return [...this.events.values()].filter(
      (e) => typeof e.state_key === 'string' && this.state.get(e.type, e.state_key) === e,
    );
  }

  /** The `soft_fail` request for `event`, against the room's current state. */
  softFailRequest(event: JsonObject): JsonObject {
    return { op: 'soft_fail', room_version: this.version, event, current_state: this.currentState() };
  }

  /** The `check_auth` request for `event`, with every event of the room on offer. */
  request(event: JsonObject, rejected?: string[]): JsonObject {
    const cited = ((event.auth_events as JsonValue[]) ?? []).map((r) => (Array.isArray(r) ? r[0] : r) as string);
    if (this.rules.eventFormat.roomIdIsCreateEventHash && event.type !== 'm.room.create') {
      cited.push(`$${this.roomId.slice(1)}`);
    }
    const authEvents = cited.map((id) => this.events.get(id)).filter((e) => e !== undefined);
    const req: JsonObject = { op: 'check_auth', room_version: this.version, event, auth_events: authEvents };
    if (rejected !== undefined) req.rejected_auth_events = rejected;
    return req;
  }
}
