/**
 * What the compiler accepts and refuses where the federation client takes
 * room, user and event IDs side by side (issue 15). Never run: type-checked
 * by `npm run typecheck`, which fails if a line marked `@ts-expect-error`
 * compiles.
 */
import type { FederationClient } from '../../src/federation/index.js';
import type { EventIdString, RoomIdString, UserIdString } from '../../src/identifiers/index.js';

export function mixUps(c: FederationClient, room: RoomIdString, user: UserIdString, event: EventIdString): void {
  void c.makeJoin('b.example', room, user, ['10']);
  void c.makeJoin('b.example', '!r:b.example', '@u:a.example', ['10']);
  // @ts-expect-error the user ID where the room ID goes
  void c.makeJoin('b.example', user, room, ['10']);
  // @ts-expect-error a literal with the wrong sigil
  void c.makeLeave('b.example', '@u:a.example', '@u:a.example');
  // @ts-expect-error an event ID where the room ID goes
  void c.getState('b.example', event, event);
  // @ts-expect-error a room ID among the event IDs
  void c.backfill('b.example', room, [event, room], 10);
  const text: string = room;
  // @ts-expect-error a plain string: narrow it first (isValidRoomId)
  void c.getStateIds('b.example', text, event);
}
