/**
 * IDs as text with their sigil in their type (issue 15: branded IDs where
 * they prevent mix-ups): the guards that narrow a string. That swapping
 * two IDs does not compile is checked by `npm run typecheck`, on
 * mixups.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  type EventIdString,
  isValidEventId,
  isValidRoomId,
  isValidUserId,
  type RoomIdString,
  type UserIdString,
} from '../../src/identifiers/index.js';
import { getRoomVersion } from '../../src/roomversions/index.js';

describe('ID strings', () => {
  const rules = getRoomVersion('10');

  it('are narrowed from a string by the validity checks, and only valid IDs are', () => {
    const candidates = ['!r:b.example', '@u:a.example', `$${'A'.repeat(43)}`, '!nodomain', 'plain'];
    const narrowed: (RoomIdString | UserIdString | EventIdString)[] = [];
    for (const s of candidates) {
      if (isValidRoomId(s, rules)) narrowed.push(s);
      if (isValidUserId(s)) narrowed.push(s);
      if (isValidEventId(s, rules)) narrowed.push(s);
    }
    expect(narrowed).toEqual(['!r:b.example', '@u:a.example', `$${'A'.repeat(43)}`]);
  });
});
