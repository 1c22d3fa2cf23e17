/**
 * Which step of the third-party invite rule rejected a member event (spec:
 * room versions, authorization rules, "If membership is invite: if content
 * has a third_party_invite property", steps 1–7). The verdicts are the
 * spec's; the named cases in rules.test.ts put the same shapes to Synapse.
 * Here the point is the sentence: it must name the step that failed.
 */
import { describe, expect, it } from 'vitest';
import { checkAuthRules, checkEventAuth } from '../../src/auth/index.js';
import type { JsonObject } from '../../src/canonicaljson/index.js';
import type { Pdu } from '../../src/events/index.js';
import { encodeBase64, SigningKey, signJson } from '../../src/signing/index.js';
import { Room } from './room.js';

const A = '@alice:a.org';
const B = '@bob:b.org';
const C = '@carol:c.org';
const key = new SigningKey(new Uint8Array(32).fill(7));
const otherKey = new SigningKey(new Uint8Array(32).fill(8));

function room(v: string): Room {
  const r = new Room(v, A);
  r.member(A, 'join');
  r.add('m.room.power_levels', '', A, { users: v === '12' ? {} : { [A]: 100 } });
  r.add('m.room.join_rules', '', A, { join_rule: 'invite' });
  r.add('m.room.third_party_invite', 'tok', A, { display_name: 'b...', public_key: encodeBase64(key.publicKey) });
  return r;
}

function invite(r: Room, thirdPartyInvite: JsonObject, sender = A): Pdu {
  return r.make('m.room.member', B, sender, { membership: 'invite', third_party_invite: thirdPartyInvite }).event;
}

const signed = (o: JsonObject = {}, signer = key) =>
  signJson({ mxid: B, token: 'tok', sender: A, ...o }, 'id.org', 'ed25519:0', signer);

describe.each(['1', '8', '12'])('room version %s: the third-party invite step that failed is named', (v) => {
  const judge = (r: Room, event: Pdu) => checkEventAuth(event, r.events, r.rules);

  it('allows a valid one', () => {
    const r = room(v);
    expect(judge(r, invite(r, { display_name: 'b...', signed: signed() }))).toEqual({ allowed: true });
  });

  // Without signed.token the auth event selection cannot name the invite
  // event: Synapse's auth_types_for_event raises, so the event is rejected
  // before the rule; checkAuthRules, given the state, still says which step.
  it.each([
    ['no signed', () => ({ display_name: 'b...' }), /has no signed object/],
    ['signed not an object', () => ({ signed: 'x' }), /signed is not an object/],
    ['no token', () => ({ signed: { mxid: B, signatures: {} } }), /signed has no token/],
  ])('%s', (_, make, why) => {
    const r = room(v);
    const event = invite(r, make());
    expect(judge(r, event)).toMatchObject({ allowed: false, rule: 'malformed_content', roomVersion: v });
    const result = checkAuthRules(event, r.state, r.rules);
    expect(result).toMatchObject({ allowed: false, rule: 'third_party_invite', roomVersion: v });
    expect(result.allowed === false && result.reason).toMatch(why);
  });

  it.each([
    ['no mxid nor signatures', () => ({ signed: { token: 'tok' } }), /signed has no mxid, signatures/],
    [
      'a token no invite has',
      () => ({ signed: signed({ token: 'other' }) }),
      /no m\.room\.third_party_invite has the token "other"/,
    ],
    [
      'mxid not the state key',
      () => ({ signed: signed({ mxid: C }) }),
      /signed\.mxid "@carol:c\.org" is not the state key/,
    ],
    ['a signature by another key', () => ({ signed: signed({}, otherKey) }), /no valid ed25519 signature/],
  ])('%s', (_, make, why) => {
    const r = room(v);
    const result = judge(r, invite(r, make()));
    expect(result).toMatchObject({ allowed: false, rule: 'third_party_invite', roomVersion: v });
    expect(result.allowed === false && result.reason).toMatch(why);
  });

  it('a sender other than the one who made the third-party invite', () => {
    const r = room(v);
    r.member(C, 'join', C);
    const result = judge(r, invite(r, { signed: signed() }, C));
    expect(result).toMatchObject({ allowed: false, rule: 'third_party_invite' });
    expect(result.allowed === false && result.reason).toMatch(/was sent by "@alice:a\.org", not by the sender/);
  });
});
