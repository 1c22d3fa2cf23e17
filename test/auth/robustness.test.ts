/**
 * Adversarial input for the auth checks: any content in any of the events
 * the rules read gives a verdict (or, for events that are not events at
 * all, InvalidInputError); nothing else escapes, nothing hangs.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkEventAuth, checkSoftFail, InvalidInputError } from '../../src/auth/index.js';
import type { JsonObject, JsonValue } from '../../src/canonicaljson/index.js';
import { Room } from './room.js';

const ALL = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12'];
const A = '@alice:a.org';
const B = '@bob:b.org';

const leaf = fc.oneof(
  fc.constantFrom<JsonValue>(null, true, false, 0, -1, 100, '', '100', ' +0100 ', '50.9', 'join', 'ban', A, B),
  fc.string({ maxLength: 6 }),
  fc.integer(),
);
const value: fc.Arbitrary<JsonValue> = fc.letrec<{ v: JsonValue }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    leaf,
    fc.array(tie('v'), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom(A, B, 'users', 'events', 'public_key', 'x', 'ban', 'kick', '__proto__'), tie('v'), {
      maxKeys: 3,
    }),
  ),
})).v;
const content = fc.dictionary(
  fc.constantFrom(
    'users',
    'users_default',
    'events',
    'events_default',
    'state_default',
    'ban',
    'kick',
    'invite',
    'redact',
    'notifications',
    'membership',
    'join_rule',
    'third_party_invite',
    'join_authorised_via_users_server',
    'public_key',
    'public_keys',
    'additional_creators',
    'm.federate',
    'creator',
  ),
  value,
  { maxKeys: 6 },
) as fc.Arbitrary<JsonObject>;

/** Checks every kind of event against a room whose state events hold `garbage`. */
function judgeAll(v: string, garbage: JsonObject[], candidate: JsonObject): void {
  const room = new Room(v, A, garbage[0]);
  room.member(A, 'join');
  room.add('m.room.power_levels', '', A, garbage[1] ?? {});
  room.add('m.room.join_rules', '', A, garbage[2] ?? {});
  room.add('m.room.third_party_invite', 'tok', A, garbage[3] ?? {});
  room.member(B, 'invite', A, garbage[4] ?? {});
  const types = ['m.room.member', 'm.room.power_levels', 'm.room.message', 'm.room.redaction', 'm.room.aliases'];
  for (const type of types) {
    const stateKey = type === 'm.room.member' ? B : type === 'm.room.message' ? undefined : '';
    const made = room.make(type, stateKey, A, { membership: 'join', ...candidate });
    const req = room.request(made.event);
    try {
      const result = checkEventAuth(made.event, req.auth_events as JsonObject[], room.rules);
      expect(typeof result.allowed).toBe('boolean');
      expect(typeof checkSoftFail(made.event, room.state, room.rules).allowed).toBe('boolean');
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidInputError);
    }
  }
}

describe('auth checks on malformed content', () => {
  it('give a verdict for any content, in every room version', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ALL), fc.array(content, { minLength: 5, maxLength: 5 }), content, (v, g, c) =>
        judgeAll(v, g, c),
      ),
      { numRuns: 400, seed: 4 },
    );
  });

  it('handle 100,000-user power levels and deeply nested content', () => {
    const users: JsonObject = { [A]: 100 };
    for (let i = 0; i < 100_000; i++) users[`@u${i}:a.org`] = String(i % 100);
    let deep: JsonValue = 1;
    for (let i = 0; i < 900; i++) deep = [deep];
    const room = new Room('9', A);
    room.member(A, 'join');
    room.add('m.room.power_levels', '', A, { users, events: { x: deep } });
    const change = room.make('m.room.power_levels', '', A, { users: { ...users, [B]: deep } });
    const result = checkEventAuth(change.event, room.request(change.event).auth_events as JsonObject[], room.rules);
    expect(result).toMatchObject({ allowed: false, rule: 'power_levels' });
  });
});
