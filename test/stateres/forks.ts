/**
 * A small forked room for the state resolution unit tests: alice creates it
 * (power level 100), makes it public, bob joins; then each event of the
 * fork is made on that state without entering it, so that the tests put
 * each in the state sets they choose.
 */
import type { JsonObject } from '../../src/canonicaljson/index.js';
import type { Pdu } from '../../src/events/index.js';
import { Room } from '../auth/room.js';

/** The room, its state before the fork, and a maker of the fork's events (kept in `room.events`). */
export function forkedRoom(version: string) {
  const room = new Room(version, '@alice:a.org');
  room.member('@alice:a.org', 'join');
  room.add('m.room.power_levels', '', '@alice:a.org', { users: { '@alice:a.org': 100 } });
  room.add('m.room.join_rules', '', '@alice:a.org', { join_rule: 'public' });
  room.member('@bob:b.org', 'join');
  const base = room.currentState();
  const fork = (type: string, stateKey: string, sender: string, content: JsonObject): Pdu => {
    const made = room.make(type, stateKey, sender, content);
    room.events.set(made.id, made.event as Pdu);
    return made.event as Pdu;
  };
  return { room, base, fork };
}
