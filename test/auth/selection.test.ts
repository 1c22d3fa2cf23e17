import { describe, expect, it } from 'vitest';
import { authTypesForEvent, InvalidInputError } from '../../src/auth/index.js';
import type { JsonObject } from '../../src/canonicaljson/index.js';
import { getRoomVersion, SPEC_ROOM_VERSIONS } from '../../src/roomversions/index.js';

const rv = getRoomVersion;
const member = (content: JsonObject, extra: JsonObject = {}): JsonObject => ({
  type: 'm.room.member',
  sender: '@a:x',
  state_key: '@b:y',
  content,
  ...extra,
});

describe('authTypesForEvent (spec: "Auth events selection")', () => {
  it('selects nothing for the create event', () => {
    expect(authTypesForEvent({ type: 'm.room.create', sender: '@a:x', state_key: '', content: {} }, rv('10'))).toEqual(
      [],
    );
  });

  it.each(SPEC_ROOM_VERSIONS)('v%s: create (not from v12), power levels and the sender for any event', (id) => {
    const base = [
      ['m.room.member', '@a:x'],
      ['m.room.power_levels', ''],
    ];
    const expected = Number(id) >= 12 ? base : [['m.room.create', ''], ...base];
    expect(authTypesForEvent({ type: 'm.room.message', sender: '@a:x', content: {} }, rv(id))).toEqual(expected);
  });

  it('adds the target and, for join/invite/knock, the join rules', () => {
    for (const membership of ['join', 'invite', 'knock']) {
      expect(authTypesForEvent(member({ membership }), rv('10'))).toEqual([
        ['m.room.create', ''],
        ['m.room.join_rules', ''],
        ['m.room.member', '@a:x'],
        ['m.room.member', '@b:y'],
        ['m.room.power_levels', ''],
      ]);
    }
    for (const membership of ['leave', 'ban']) {
      expect(authTypesForEvent(member({ membership }), rv('10'))).toEqual([
        ['m.room.create', ''],
        ['m.room.member', '@a:x'],
        ['m.room.member', '@b:y'],
        ['m.room.power_levels', ''],
      ]);
    }
  });

  it('adds the third-party invite whose token an invite carries', () => {
    const content = {
      membership: 'invite',
      third_party_invite: { display_name: 'd', signed: { token: 'tok', mxid: '@b:y' } },
    };
    expect(authTypesForEvent(member(content), rv('12'))).toContainEqual(['m.room.third_party_invite', 'tok']);
    expect(() => authTypesForEvent(member({ membership: 'invite', third_party_invite: {} }), rv('12'))).toThrow(
      InvalidInputError,
    );
    // Only invites look at it.
    expect(authTypesForEvent(member({ membership: 'join', third_party_invite: {} }), rv('12'))).not.toContainEqual(
      expect.arrayContaining(['m.room.third_party_invite']),
    );
  });

  it('adds the authorising user of a restricted join from v8 only', () => {
    const content = { membership: 'join', join_authorised_via_users_server: '@c:z' };
    expect(authTypesForEvent(member(content), rv('8'))).toContainEqual(['m.room.member', '@c:z']);
    expect(authTypesForEvent(member(content), rv('7'))).not.toContainEqual(['m.room.member', '@c:z']);
    expect(authTypesForEvent(member({ ...content, membership: 'invite' }), rv('10'))).not.toContainEqual([
      'm.room.member',
      '@c:z',
    ]);
  });

  it('lists each type and state key once, in code point order', () => {
    const self = member({ membership: 'join' }, { sender: '@b:y' });
    expect(authTypesForEvent(self, rv('10')).filter(([t]) => t === 'm.room.member')).toEqual([
      ['m.room.member', '@b:y'],
    ]);
    const astral = member({ membership: 'leave' }, { sender: '@\u{1F600}:x', state_key: '@\uFB33:x' });
    expect(authTypesForEvent(astral, rv('10')).filter(([t]) => t === 'm.room.member')).toEqual([
      ['m.room.member', '@\uFB33:x'],
      ['m.room.member', '@\u{1F600}:x'],
    ]);
  });

  it('refuses member events without a membership or a string state key', () => {
    expect(() => authTypesForEvent(member({}), rv('10'))).toThrow(InvalidInputError);
    // A membership of another type matches nothing, as in Synapse.
    expect(authTypesForEvent(member({ membership: 5 }), rv('10'))).not.toContainEqual(['m.room.join_rules', '']);
    expect(() => authTypesForEvent(member({ membership: 'join' }, { state_key: 5 }), rv('10'))).toThrow(
      InvalidInputError,
    );
  });
});
