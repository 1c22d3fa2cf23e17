import type { StateLookup } from 'matrix-serverlib/auth';
import type { Pdu as PackagePdu } from 'matrix-serverlib/events';
import { describe, expect, it } from 'vitest';
import { authorise } from '../../examples/check-event-allowed.ts';
import type { Pdu } from '../../src/events/index.js';
import { Room } from '../auth/room.js';

/**
 * The example takes the package's types (its build); the room makes events
 * with the source's. The values are the same: only the marks of the two
 * copies of the Pdu type differ.
 */
const built = (e: Pdu) => e as unknown as PackagePdu;
const builtState = (room: Room) => room.state as unknown as StateLookup;

const A = '@alice:a.org';
const B = '@bob:b.org';

/** The auth events an event cites, by ID (plus the create event in v12). */
function citedBy(room: Room, event: Pdu): Map<string, PackagePdu> {
  const list = room.request(event).auth_events as Pdu[];
  return new Map(list.map((e) => [room.idOf(e), built(e)]));
}

describe('the guide "checking whether an event is allowed"', () => {
  it.each(['1', '10', '12'])('accepts a message from a member (v%s)', (v) => {
    const room = new Room(v, A);
    room.member(A, 'join');
    const msg = room.make('m.room.message', undefined, A, { body: 'hi' }).event;
    expect(authorise(built(msg), citedBy(room, msg), new Set(), builtState(room), room.rules)).toEqual({
      outcome: 'accepted',
    });
  });

  it('rejects a message from a non-member, naming the rule', () => {
    const room = new Room('10', A);
    room.member(A, 'join');
    const msg = room.make('m.room.message', undefined, B, { body: 'hi' }).event;
    const verdict = authorise(built(msg), citedBy(room, msg), new Set(), builtState(room), room.rules);
    expect(verdict).toMatchObject({
      outcome: 'rejected',
      why: expect.stringMatching(/^sender_not_joined \(room version 10\)/),
    });
  });

  it('soft-fails an event its auth events allow but the current state does not (sender since banned)', () => {
    const room = new Room('10', A);
    room.member(A, 'join');
    room.add('m.room.join_rules', '', A, { join_rule: 'public' });
    room.member(B, 'join');
    const msg = room.make('m.room.message', undefined, B, { body: 'before the ban' }).event;
    const cited = citedBy(room, msg);
    room.member(B, 'ban', A);
    expect(authorise(built(msg), cited, new Set(), builtState(room), room.rules)).toMatchObject({
      outcome: 'soft-failed',
      why: expect.stringMatching(/^sender_not_joined/),
    });
  });

  it('rejects an event that cites a rejected auth event', () => {
    const room = new Room('10', A);
    const join = room.member(A, 'join');
    const msg = room.make('m.room.message', undefined, A, { body: 'hi' }).event;
    const verdict = authorise(built(msg), citedBy(room, msg), new Set([join.id]), builtState(room), room.rules);
    expect(verdict).toMatchObject({ outcome: 'rejected', why: expect.stringMatching(/^auth_events/) });
  });
});
