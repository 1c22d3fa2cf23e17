/**
 * History visibility: named cases, one per rule. Each case says where its
 * expected value comes from:
 * - "spec": client-server API, "Room History Visibility", "Server
 *   behaviour" (steps 1–5, the default, and the two special cases for
 *   history visibility events and the user's own member events);
 * - "Synapse": synapse/visibility.py (1.163.2), where the spec is silent
 *   (servers, malformed state) or where Synapse departs from it; the last
 *   block sends every case to Synapse itself (the oracle), which must agree.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { answerLine } from '../../conformance/src/runner.js';
import { StateMap } from '../../src/auth/state.js';
import {
  historyVisibility,
  type VisibilityResult,
  type VisibilityRule,
  visibleToServer,
  visibleToUser,
} from '../../src/auth/visibility.js';
import type { JsonObject, JsonValue } from '../../src/canonicaljson/index.js';
import { InvalidInputError } from '../../src/errors.js';
import { getRoomVersion, SPEC_ROOM_VERSIONS } from '../../src/roomversions/index.js';
import { partialPdu } from '../helpers.js';
import { envelope } from '../interop/envelope.js';
import { askSynapse } from '../interop/oracle.js';

const U = '@u:hs';
const message: JsonObject = { type: 'm.room.message', content: { body: 'hi' } };
const hv = (value: JsonValue | undefined, stateKey = ''): JsonObject => ({
  type: 'm.room.history_visibility',
  state_key: stateKey,
  content: value === undefined ? {} : { history_visibility: value },
});
const member = (user: string, membership: JsonValue | undefined, extra: JsonObject = {}): JsonObject => ({
  type: 'm.room.member',
  state_key: user,
  content: membership === undefined ? {} : { membership },
  ...extra,
});

interface Case {
  readonly name: string;
  /** Where the expected value comes from. */
  readonly source: string;
  readonly event: JsonObject;
  /** The state before the event. */
  readonly state: readonly JsonObject[];
  readonly to: { readonly user: string; readonly joinedAfter: boolean } | { readonly server: string };
  readonly visible: boolean;
  readonly rule: VisibilityRule;
}

const user = (joinedAfter = false) => ({ user: U, joinedAfter });
const server = (name = 'hs') => ({ server: name });

const USER_CASES: Case[] = [
  // Spec, "Server behaviour", steps 1–5.
  {
    name: 'world_readable: anyone',
    source: 'spec step 1',
    event: message,
    state: [hv('world_readable')],
    to: user(),
    visible: true,
    rule: 'world_readable',
  },
  {
    name: 'joined at the event',
    source: 'spec step 2',
    event: message,
    state: [hv('joined'), member(U, 'join')],
    to: user(),
    visible: true,
    rule: 'joined',
  },
  {
    name: 'shared, joined after the event',
    source: 'spec step 3',
    event: message,
    state: [hv('shared')],
    to: user(true),
    visible: true,
    rule: 'shared',
  },
  {
    name: 'shared, never joined',
    source: 'spec step 5',
    event: message,
    state: [hv('shared'), member(U, 'leave')],
    to: user(),
    visible: false,
    rule: 'denied',
  },
  {
    name: 'invited: invited at the event',
    source: 'spec step 4',
    event: message,
    state: [hv('invited'), member(U, 'invite')],
    to: user(),
    visible: true,
    rule: 'invited',
  },
  {
    name: 'invited: knocked at the event',
    source: 'spec step 5',
    event: message,
    state: [hv('invited'), member(U, 'knock')],
    to: user(true),
    visible: false,
    rule: 'denied',
  },
  {
    name: 'joined: invited at the event',
    source: 'spec step 5 (step 4 is for invited only)',
    event: message,
    state: [hv('joined'), member(U, 'invite')],
    to: user(true),
    visible: false,
    rule: 'denied',
  },
  {
    name: 'joined: joined after the event is not enough',
    source: 'spec step 5 (step 3 is for shared only)',
    event: message,
    state: [hv('joined')],
    to: user(true),
    visible: false,
    rule: 'denied',
  },
  // Defaults.
  {
    name: 'no history visibility event: shared',
    source: 'spec: "if no history_visibility is set ... shared"',
    event: message,
    state: [],
    to: user(true),
    visible: true,
    rule: 'shared',
  },
  {
    name: 'no history visibility event, not joined after',
    source: 'spec: default shared, then step 5',
    event: message,
    state: [],
    to: user(),
    visible: false,
    rule: 'denied',
  },
  {
    name: 'an unknown value: shared',
    source: 'spec: "if the value is not understood ... shared"',
    event: message,
    state: [hv('public')],
    to: user(true),
    visible: true,
    rule: 'shared',
  },
  {
    name: 'a value that is not a string: shared',
    source: 'spec: "not understood"; Synapse: get_effective_room_visibility_from_state',
    event: message,
    state: [hv(5), member(U, 'invite')],
    to: user(true),
    visible: true,
    rule: 'shared',
  },
  {
    name: 'a history_visibility key missing: shared',
    source: 'spec: "if no history_visibility is set"',
    event: message,
    state: [hv(undefined)],
    to: user(true),
    visible: true,
    rule: 'shared',
  },
  {
    name: 'a history visibility event with another state key is not the setting',
    source: 'Synapse: the setting is the (m.room.history_visibility, "") event',
    event: message,
    state: [hv('joined'), hv('world_readable', 'x')],
    to: user(),
    visible: false,
    rule: 'denied',
  },
  // The user's own member events.
  {
    name: 'own join, history joined',
    source: 'spec: "a user can always see m.room.member events which set their membership to join"',
    event: member(U, 'join', { sender: U }),
    state: [hv('joined')],
    to: user(),
    visible: true,
    rule: 'joined',
  },
  {
    name: 'own ban after a join, history joined',
    source: 'spec: "or which change their membership from join to any other value"',
    event: member(U, 'ban'),
    state: [hv('joined'), member(U, 'join')],
    to: user(),
    visible: true,
    rule: 'joined',
  },
  {
    name: 'own leave after a join, history joined',
    source: 'spec: "from join to any other value"; rule: Synapse _check_membership',
    event: member(U, 'leave', { sender: U }),
    state: [hv('joined'), member(U, 'join')],
    to: user(),
    visible: true,
    rule: 'own_leave',
  },
  {
    name: 'own invite, history invited',
    source: 'spec: membership after the event allows it (step 4)',
    event: member(U, 'invite'),
    state: [hv('invited')],
    to: user(),
    visible: true,
    rule: 'invited',
  },
  {
    name: 'own invite, history joined',
    source: 'spec: neither before nor after allows it',
    event: member(U, 'invite'),
    state: [hv('joined')],
    to: user(true),
    visible: false,
    rule: 'denied',
  },
  {
    name: 'own leave after an invite (a rejected invite), history joined',
    source: 'Synapse _check_membership, beyond the spec (invite before, leave after: neither allows it)',
    event: member(U, 'leave', { sender: U }),
    state: [hv('joined'), member(U, 'invite')],
    to: user(),
    visible: true,
    rule: 'own_leave',
  },
  {
    name: 'own knock after a leave, history joined',
    source: 'spec: neither before nor after allows it',
    event: member(U, 'knock', { sender: U }),
    state: [hv('joined'), member(U, 'leave')],
    to: user(),
    visible: false,
    rule: 'denied',
  },
  {
    name: "the previous membership comes from the state, not the event's unsigned.prev_content",
    source: 'protocol: state is the state before the event; Synapse fills prev_content from it',
    event: member(U, 'leave', { sender: U, unsigned: { prev_content: { membership: 'join' } } }),
    state: [hv('joined'), member(U, 'knock')],
    to: user(),
    visible: false,
    rule: 'denied',
  },
  {
    name: "another user's member event: the user's own membership decides",
    source: 'spec step 2',
    event: member('@v:hs', 'join', { sender: '@v:hs' }),
    state: [hv('joined'), member(U, 'join')],
    to: user(),
    visible: true,
    rule: 'joined',
  },
  // The history visibility event itself.
  {
    name: 'history visibility event joined -> world_readable',
    source: 'spec: "from joined to world_readable"',
    event: hv('world_readable'),
    state: [hv('joined')],
    to: user(),
    visible: true,
    rule: 'world_readable',
  },
  {
    name: 'history visibility event world_readable -> joined',
    source: 'spec: "from world_readable to joined"',
    event: hv('joined'),
    state: [hv('world_readable')],
    to: user(),
    visible: true,
    rule: 'world_readable',
  },
  {
    name: 'history visibility event shared -> joined, joined after',
    source: 'spec: before (shared) allows it',
    event: hv('joined'),
    state: [hv('shared')],
    to: user(true),
    visible: true,
    rule: 'shared',
  },
  {
    name: 'the first history visibility event: before it, shared',
    source: 'spec: the default is shared',
    event: hv('joined'),
    state: [],
    to: user(true),
    visible: true,
    rule: 'shared',
  },
  {
    name: 'history visibility event invited -> joined, invited user',
    source: 'Synapse departs from the spec (before, invited, would allow): only steps 1 and 3 look before',
    event: hv('joined'),
    state: [hv('invited'), member(U, 'invite')],
    to: user(true),
    visible: false,
    rule: 'denied',
  },
  // Malformed state: Synapse raises, the event is not shown.
  {
    name: 'the user has a member event without membership',
    source: 'Synapse: Event.membership raises KeyError',
    event: message,
    state: [hv('joined'), member(U, undefined)],
    to: user(),
    visible: false,
    rule: 'malformed',
  },
  {
    name: 'a member event without membership is not read when history is world_readable',
    source: 'Synapse: the history visibility check comes first',
    event: message,
    state: [hv('world_readable'), member(U, undefined)],
    to: user(),
    visible: true,
    rule: 'world_readable',
  },
  {
    name: 'a membership that is not a string is not join',
    source: 'Synapse: compared with == "join"',
    event: message,
    state: [hv('joined'), member(U, ['join'])],
    to: user(),
    visible: false,
    rule: 'denied',
  },
  {
    name: 'an m.room.member event without state_key, history joined',
    source: 'Synapse: Event.state_key raises AttributeError',
    event: { type: 'm.room.member', content: { membership: 'join' } },
    state: [hv('joined')],
    to: user(),
    visible: false,
    rule: 'malformed',
  },
];

const SERVER_CASES: Case[] = [
  {
    name: 'no history visibility event: shared',
    source: 'Synapse filter_events_for_server (the spec says nothing of servers)',
    event: message,
    state: [],
    to: server('elsewhere'),
    visible: true,
    rule: 'shared',
  },
  {
    name: 'world_readable',
    source: 'Synapse event_visible_to_server',
    event: message,
    state: [hv('world_readable')],
    to: server('elsewhere'),
    visible: true,
    rule: 'world_readable',
  },
  {
    name: 'an unknown value is open',
    source: 'Synapse event_visible_to_server: anything but invited or joined',
    event: message,
    state: [hv('public')],
    to: server('elsewhere'),
    visible: true,
    rule: 'shared',
  },
  {
    name: 'an unknown value still reads the memberships',
    source: 'Synapse filter_events_for_server: memberships unless shared or world_readable',
    event: message,
    state: [hv('public'), member('@v:hs', undefined)],
    to: server(),
    visible: false,
    rule: 'malformed',
  },
  {
    name: 'a value that is not a string',
    source: 'Synapse _event_to_history_vis: assert isinstance(vis, str)',
    event: message,
    state: [hv(5)],
    to: server(),
    visible: false,
    rule: 'malformed',
  },
  {
    name: 'a null value',
    source: 'Synapse _event_to_history_vis: content.get gives None, the assert fails',
    event: message,
    state: [hv(null), member(U, 'join')],
    to: server(),
    visible: false,
    rule: 'malformed',
  },
  {
    name: 'joined: a user of the server joined',
    source: 'Synapse event_visible_to_server',
    event: message,
    state: [hv('joined'), member('@v:other', 'join'), member(U, 'join')],
    to: server(),
    visible: true,
    rule: 'joined',
  },
  {
    name: 'joined: a user of the server invited',
    source: 'Synapse event_visible_to_server',
    event: message,
    state: [hv('joined'), member(U, 'invite')],
    to: server(),
    visible: false,
    rule: 'denied',
  },
  {
    name: 'invited: a user of the server invited',
    source: 'Synapse event_visible_to_server',
    event: message,
    state: [hv('invited'), member(U, 'invite')],
    to: server(),
    visible: true,
    rule: 'invited',
  },
  {
    name: 'joined: only users of other servers joined',
    source: "Synapse _event_to_memberships keeps the server's own",
    event: message,
    state: [hv('joined'), member('@v:other', 'join'), member('@w:hs.example', 'join')],
    to: server(),
    visible: false,
    rule: 'denied',
  },
  {
    name: 'the server is everything after the first colon',
    source: 'Synapse _event_to_memberships include()',
    event: message,
    state: [hv('joined'), member('@v:hs:8448', 'join')],
    to: server('hs:8448'),
    visible: true,
    rule: 'joined',
  },
  {
    name: 'a state key without a colon is nobody',
    source: 'Synapse _event_to_memberships include()',
    event: message,
    state: [hv('joined'), member('hs', 'join')],
    to: server(),
    visible: false,
    rule: 'denied',
  },
  {
    name: 'a state key without @ on the server, whatever else',
    source: 'Synapse event_visible_to_server: UserID parse error (order: fail closed)',
    event: message,
    state: [hv('joined'), member(U, 'join'), member('u:hs', 'leave')],
    to: server(),
    visible: false,
    rule: 'malformed',
  },
  {
    name: 'a membership of the server that is not a string',
    source: 'Synapse: event_visible_to_server takes (str, str) pairs',
    event: message,
    state: [hv('joined'), member(U, 'join'), member('@v:hs', 5)],
    to: server(),
    visible: false,
    rule: 'malformed',
  },
  {
    name: "another server's malformed membership is not read",
    source: 'Synapse _event_to_memberships include()',
    event: message,
    state: [hv('joined'), member(U, 'join'), member('@v:other', undefined)],
    to: server(),
    visible: true,
    rule: 'joined',
  },
  {
    name: 'memberships are not read when history is shared',
    source: 'Synapse filter_events_for_server',
    event: message,
    state: [hv('shared'), member('@v:hs', 5)],
    to: server(),
    visible: true,
    rule: 'shared',
  },
  {
    name: 'history visibility event shared -> joined: the new setting, no boundary',
    source: 'Synapse: the state after the event',
    event: hv('joined'),
    state: [hv('shared')],
    to: server(),
    visible: false,
    rule: 'denied',
  },
  {
    name: 'history visibility event joined -> shared',
    source: 'Synapse: the state after the event',
    event: hv('shared'),
    state: [hv('joined')],
    to: server(),
    visible: true,
    rule: 'shared',
  },
  {
    name: "the server's user joins, history joined",
    source: 'Synapse: the membership after the event',
    event: member(U, 'join', { sender: U }),
    state: [hv('joined')],
    to: server(),
    visible: true,
    rule: 'joined',
  },
  {
    name: "the server's last user leaves, history joined",
    source: 'Synapse: the membership after the event',
    event: member(U, 'leave', { sender: U }),
    state: [hv('joined'), member(U, 'join')],
    to: server(),
    visible: false,
    rule: 'denied',
  },
];

const CASES = [...USER_CASES, ...SERVER_CASES];

function check(c: Case, v = '10'): VisibilityResult {
  const rules = getRoomVersion(v);
  const state = new StateMap(c.state.map((e) => partialPdu(envelope(v, e))));
  const event = partialPdu(envelope(v, c.event));
  return 'server' in c.to
    ? visibleToServer(event, state, c.to.server, rules)
    : visibleToUser(event, state, c.to.user, c.to.joinedAfter, rules);
}

function requestLine(c: Case, v: string): string {
  const base = { room_version: v, event: envelope(v, c.event), state: c.state.map((e) => envelope(v, e)) };
  const req =
    'server' in c.to
      ? { op: 'visible_to_server', ...base, server_name: c.to.server }
      : { op: 'visible_to_user', ...base, user_id: c.to.user, joined_after: c.to.joinedAfter };
  return JSON.stringify(req);
}

describe('visibleToUser (spec: "Room History Visibility")', () => {
  it.each(USER_CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const r = check(c);
    expect({ visible: r.visible, rule: r.rule }, `${c.source}: ${r.reason}`).toEqual({
      visible: c.visible,
      rule: c.rule,
    });
    expect(r.reason).not.toBe('');
  });
});

describe('visibleToServer (Synapse: filter_events_for_server)', () => {
  it.each(SERVER_CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const r = check(c);
    expect({ visible: r.visible, rule: r.rule }, `${c.source}: ${r.reason}`).toEqual({
      visible: c.visible,
      rule: c.rule,
    });
  });
});

describe('room versions', () => {
  it.each(SPEC_ROOM_VERSIONS)('v%s: no version changes an answer', (v) => {
    for (const c of CASES) expect(check(c, v).rule, c.name).toBe(c.rule);
  });
});

describe('historyVisibility', () => {
  it('reads the setting, shared when absent or not understood (spec: "Server behaviour")', () => {
    const state = (e?: JsonObject) => new StateMap(e === undefined ? [] : [partialPdu(envelope('10', e))]);
    expect(historyVisibility(state())).toBe('shared');
    expect(historyVisibility(state(hv('invited')))).toBe('invited');
    expect(historyVisibility(state(hv('Joined')))).toBe('shared');
    expect(historyVisibility(state(hv(null)))).toBe('shared');
  });
});

describe('the guide (docs/history-visibility.md)', () => {
  it('runs its example', () => {
    // The guide's example, as written there.
    const rules = getRoomVersion('11');
    const state = new StateMap([
      partialPdu(
        envelope('11', { type: 'm.room.history_visibility', state_key: '', content: { history_visibility: 'joined' } }),
      ),
      partialPdu(
        envelope('11', { type: 'm.room.member', state_key: '@alice:example.org', content: { membership: 'join' } }),
      ),
      partialPdu(
        envelope('11', { type: 'm.room.member', state_key: '@bob:example.org', content: { membership: 'invite' } }),
      ),
    ]);
    const event = partialPdu(envelope('11', { type: 'm.room.message', content: { body: 'hello' } }));
    expect(visibleToUser(event, state, '@alice:example.org', false, rules)).toEqual({
      visible: true,
      rule: 'joined',
      reason: 'The user was joined at the event',
    });
    expect(visibleToUser(event, state, '@bob:example.org', true, rules)).toEqual({
      visible: false,
      rule: 'denied',
      reason: 'History is joined and the user\'s membership at the event was "invite", not join',
    });
    expect(visibleToServer(event, state, 'example.org', rules)).toEqual({
      visible: true,
      rule: 'joined',
      reason: 'History is joined and @alice:example.org was joined at the event',
    });
    expect(visibleToServer(event, state, 'elsewhere.example', rules)).toMatchObject({ visible: false, rule: 'denied' });
    expect(historyVisibility(state)).toBe('joined');
  });
});

describe('malformed input', () => {
  const rules = getRoomVersion('10');
  const ok = partialPdu(envelope('10', message));

  it('refuses an event that is not an event of the room version (M_BAD_JSON)', () => {
    for (const bad of [{}, { ...ok, content: 5 }, { ...ok, type: 7 }, { ...ok, state_key: 1 }]) {
      expect(() => visibleToUser(partialPdu(bad as JsonObject), new StateMap(), U, true, rules)).toThrow(
        InvalidInputError,
      );
      expect(() => visibleToServer(partialPdu(bad as JsonObject), new StateMap(), 'hs', rules)).toThrow(
        InvalidInputError,
      );
    }
  });

  it('refuses state it must read whose content is not an object (M_BAD_JSON)', () => {
    const state = new StateMap([partialPdu({ type: 'm.room.history_visibility', state_key: '', content: 'joined' })]);
    expect(() => visibleToUser(ok, state, U, true, rules)).toThrow(InvalidInputError);
    expect(() => visibleToServer(ok, state, 'hs', rules)).toThrow(InvalidInputError);
  });

  it('never throws anything but InvalidInputError on garbage state and events', () => {
    const value = fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<JsonValue>;
    const content = fc.oneof(
      value,
      fc.record(
        { membership: fc.oneof(fc.constantFrom('join', 'invite', 'leave', 'ban', 'knock'), value) },
        { requiredKeys: [] },
      ),
      fc.record({ history_visibility: fc.oneof(fc.constantFrom('shared', 'invited', 'joined'), value) }),
    );
    const key = fc.constantFrom('', U, '@v:hs', 'u:hs', 'hs', '@u:hs:1');
    const type = fc.constantFrom('m.room.member', 'm.room.history_visibility', 'm.room.message');
    const stateEvent = fc.record({ type, state_key: key, content });
    const event = fc.oneof(
      fc.record({ type, state_key: fc.oneof(key, value), content }, { requiredKeys: [] }).map((e) => ({ ...ok, ...e })),
      fc.dictionary(fc.string(), value),
    );
    fc.assert(
      fc.property(
        event,
        fc.uniqueArray(stateEvent, { selector: (e) => `${e.type}\u0000${e.state_key}`, maxLength: 6 }),
        key,
        fc.boolean(),
        fc.constantFrom(...SPEC_ROOM_VERSIONS),
        (e, s, who, joinedAfter, v) => {
          const state = new StateMap((s as JsonObject[]).map(partialPdu));
          for (const run of [
            () => visibleToUser(partialPdu(e as JsonObject), state, who, joinedAfter, getRoomVersion(v)),
            () =>
              visibleToServer(partialPdu(e as JsonObject), state, who.slice(who.indexOf(':') + 1), getRoomVersion(v)),
          ]) {
            try {
              const r = run();
              expect(typeof r.visible).toBe('boolean');
            } catch (err) {
              expect(err).toBeInstanceOf(InvalidInputError);
            }
          }
        },
      ),
      { numRuns: 3000, seed: 4242 },
    );
  });
});

describe('conformance ops: request validation', () => {
  const base = { room_version: '10', event: envelope('10', message), state: [] as JsonObject[] };
  const userReq = { op: 'visible_to_user', ...base, user_id: U, joined_after: true };
  const serverReq = { op: 'visible_to_server', ...base, server_name: 'hs' };
  const code = (req: object) => {
    const a = JSON.parse(answerLine(JSON.stringify(req))) as {
      ok: boolean;
      visible?: boolean;
      error?: { code: string };
    };
    return a.ok ? a.visible : a.error?.code;
  };
  const without = (req: Record<string, unknown>, k: string) =>
    Object.fromEntries(Object.entries(req).filter(([x]) => x !== k));

  it.each([
    ['a well-formed request', userReq, true],
    ['no state', without(userReq, 'state'), 'M_MISSING_PARAM'],
    ['no user_id', without(userReq, 'user_id'), 'M_MISSING_PARAM'],
    ['no joined_after', without(userReq, 'joined_after'), 'M_MISSING_PARAM'],
    ['no server_name', without(serverReq, 'server_name'), 'M_MISSING_PARAM'],
    ['state not a list', { ...userReq, state: {} }, 'M_INVALID_PARAM'],
    ['a state element not an object', { ...userReq, state: [5] }, 'M_INVALID_PARAM'],
    ['a state element not a state event', { ...userReq, state: [envelope('10', message)] }, 'M_INVALID_PARAM'],
    [
      'two state events for one key',
      { ...userReq, state: [envelope('10', hv('joined')), envelope('10', hv('shared'))] },
      'M_INVALID_PARAM',
    ],
    ['a state element not an event', { ...userReq, state: [{ type: 'm.room.member', state_key: U }] }, 'M_BAD_JSON'],
    ['joined_after not a boolean', { ...userReq, joined_after: 'yes' }, 'M_INVALID_PARAM'],
    ['user_id not a string', { ...userReq, user_id: 1 }, 'M_INVALID_PARAM'],
    ['server_name not a string', { ...serverReq, server_name: null }, 'M_INVALID_PARAM'],
    ['server_name with an unpaired surrogate', { ...serverReq, server_name: '\ud800' }, 'M_INVALID_PARAM'],
    ['an unknown room version', { ...serverReq, room_version: '99' }, 'M_UNSUPPORTED_ROOM_VERSION'],
    ['an event that is not an event', { ...serverReq, event: { type: 'm.room.message' } }, 'M_BAD_JSON'],
  ] as const)('%s', (_name, req, expected) => {
    expect(code(req)).toBe(expected);
  });

  it('holds state events to the JSON rules of strict versions (M_BAD_JSON)', () => {
    const line = JSON.stringify(userReq).replace(
      '"state":[]',
      `"state":[${JSON.stringify(envelope('10', hv('joined'))).replace('"depth":5', '"depth":5.5')}]`,
    );
    expect(JSON.parse(answerLine(line)).error.code).toBe('M_BAD_JSON');
  });
});

describe('Synapse agrees on every named case', () => {
  it('in every room version', async () => {
    const lines = SPEC_ROOM_VERSIONS.flatMap((v) => CASES.map((c) => requestLine(c, v)));
    const answers = await askSynapse(lines);
    const wrong: string[] = [];
    answers.forEach((a, i) => {
      const c = CASES[i % CASES.length] as Case;
      const got = JSON.parse(a) as { ok: boolean; visible?: boolean; reason?: string };
      if (got.visible !== c.visible) wrong.push(`${c.name}: Synapse says ${a}`);
    });
    expect(wrong).toEqual([]);
  });
});
