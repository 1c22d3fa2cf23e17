/**
 * A room's auth DAG as state resolution loads it: each event once, its
 * auth events as edges between small integers, so that walks over a large
 * room touch arrays rather than strings.
 *
 * @module
 */

import type { Pdu } from '../hashing/schema.js';
import { createEventIdOfRoom, roomIdOfCreateEventId } from '../identifiers/identifiers.js';
import type { RoomVersionRules } from '../roomversions/rules.js';
import { StateResolutionError } from './errors.js';
import type { Loading } from './loader.js';

/**
 * The most events one resolution visits by default: the state sets' events
 * and their auth chains (a room of 100,000 members has about that many
 * events in one state set's auth chain, with its history of power levels
 * and memberships). `maxEvents` in {@link LoadOptions} changes it.
 */
export const DEFAULT_MAX_EVENTS = 1_000_000;

/** Quotes an event ID for a message (escaping control characters). */
export const quote = (id: string): string => JSON.stringify(id);

/**
 * The IDs of an event's auth events, as Synapse's `auth_event_ids()` gives
 * them: the IDs it cites, in order (v1–v2: the first of each pair), and
 * from v12 (MSC4291) the create event its room ID names, which it never
 * cites. The order is kept, duplicates too: where an event cites two of a
 * kind, Synapse takes the first or the last as the list has them.
 */
function authEventIds(event: Pdu, rules: RoomVersionRules): string[] {
  const ids = event.auth_events.map((ref) => (typeof ref === 'string' ? ref : ref[0]));
  if (rules.eventFormat.roomIdIsCreateEventHash && !isCreateEvent(event)) {
    const create = createEventIdOfRoom(event.room_id as string);
    if (!ids.includes(create)) ids.push(create);
  }
  return ids;
}

/** Whether the event is the room's create event (`m.room.create`, state key ""). */
export function isCreateEvent(event: Pdu): boolean {
  return event.type === 'm.room.create' && event.state_key === '';
}

/**
 * A room's events and the auth edges between them, loaded through an
 * {@link EventLoader} as state resolution needs them. Keep one per room and
 * pass it to each resolution of that room (`cache` in {@link LoadOptions}): every event is then loaded once, and later
 * resolutions only load what is new. It holds every event it has loaded
 * until it is dropped.
 *
 * Each resolution still walks the auth chains of its state sets once
 * (every event once, whatever the number of state sets); an index of the
 * chains that spares that walk is future work.
 */
export class EventGraph {
  /** The room version's rules: the graph is of one room, of one version. */
  readonly rules: RoomVersionRules;
  #roomId: string | undefined;
  readonly #nodes = new Map<string, number>();
  readonly #ids: string[] = [];
  readonly #events: Pdu[] = [];
  readonly #authIds: string[][] = [];
  readonly #auth: number[][] = [];
  /** Events loaded whose auth events are not all loaded yet (a load failed half-way). */
  readonly #incomplete = new Set<number>();

  /** @param rules - the room version's rules. */
  constructor(rules: RoomVersionRules) {
    this.rules = rules;
  }

  /** How many events it holds. */
  get size(): number {
    return this.#ids.length;
  }

  /** The room of its events, once one is loaded. */
  get roomId(): string | undefined {
    return this.#roomId;
  }

  /** The number of an event ID, if the event is loaded. @internal */
  nodeOf(eventId: string): number | undefined {
    return this.#nodes.get(eventId);
  }

  /** The event ID of a node. @internal */
  idOf(node: number): string {
    return this.#ids[node] as string;
  }

  /** The event of a node. @internal */
  eventOf(node: number): Pdu {
    return this.#events[node] as Pdu;
  }

  /**
   * The auth events of a node, in the order the event cites them (see
   * `authEventIds`), once its chain is loaded. @internal
   */
  authOf(node: number): readonly number[] {
    return this.#auth[node] as number[];
  }

  /**
   * Loads the events of `eventIds` and, with `chains`, their whole auth
   * chains: the IDs not yet loaded are asked for a frontier at a time.
   * Afterwards each event has a node, and with `chains` every event of
   * their chains has one too, with its auth edges.
   *
   * @param eventIds - the events to load.
   * @param maxEvents - the most events to load.
   * @param chains - whether to load their auth chains too.
   * @throws {@link StateResolutionError} `missing-event` if an event is not
   *   found, `wrong-room` if one is of another room, `too-large` past
   *   `maxEvents`. What was loaded stays loaded, and a later load completes
   *   it.
   * @internal
   */
  *load(eventIds: Iterable<string>, maxEvents: number, chains: boolean): Loading<void> {
    const frontier: string[] = [];
    const citedBy = new Map<string, string | undefined>();
    const want = (id: string, by: string | undefined) => {
      if (this.#nodes.has(id) || citedBy.has(id)) return;
      citedBy.set(id, by);
      frontier.push(id);
    };
    for (const id of eventIds) want(id, undefined);
    if (!chains) {
      yield* this.#loadFrontier(frontier, citedBy, maxEvents, () => undefined);
      return;
    }
    for (const node of this.#incomplete) {
      for (const id of this.#authIds[node] as string[]) want(id, this.idOf(node));
    }
    yield* this.#loadFrontier(frontier, citedBy, maxEvents, want);
    for (const node of this.#incomplete) {
      this.#auth[node] = (this.#authIds[node] as string[]).map((id) => this.#nodes.get(id) as number);
    }
    this.#incomplete.clear();
  }

  /**
   * Loads `frontier` and what `next` adds to it as events arrive, until
   * nothing is left to load.
   */
  *#loadFrontier(
    frontier: string[],
    citedBy: ReadonlyMap<string, string | undefined>,
    maxEvents: number,
    next: (id: string, by: string) => void,
  ): Loading<void> {
    let loaded = 0;
    while (frontier.length > 0) {
      loaded += frontier.length;
      if (loaded > maxEvents) {
        throw new StateResolutionError('too-large', `The resolution needs more than ${maxEvents} events`);
      }
      const batch = frontier.splice(0);
      const found = yield batch;
      for (const id of batch) {
        const event = found.get(id);
        if (event === undefined) {
          const by = citedBy.get(id);
          const why = by === undefined ? '' : ` (an auth event of ${quote(by)})`;
          throw new StateResolutionError('missing-event', `The event ${quote(id)}${why} is missing`, id);
        }
        for (const auth of this.#add(id, event)) next(auth, id);
      }
    }
  }

  /** Adds a loaded event; returns the IDs of its auth events. */
  #add(id: string, event: Pdu): string[] {
    const room =
      this.rules.eventFormat.roomIdIsCreateEventHash && isCreateEvent(event)
        ? roomIdOfCreateEventId(id)
        : event.room_id;
    if (this.#roomId === undefined) this.#roomId = room;
    else if (room !== this.#roomId) {
      throw new StateResolutionError(
        'wrong-room',
        `The event ${quote(id)} is of the room ${quote(String(room))}, not ${quote(this.#roomId)}`,
        id,
      );
    }
    const node = this.#ids.length;
    const auth = authEventIds(event, this.rules);
    this.#nodes.set(id, node);
    this.#ids.push(id);
    this.#events.push(event);
    this.#authIds.push(auth);
    this.#auth.push([]);
    this.#incomplete.add(node);
    return auth;
  }
}
