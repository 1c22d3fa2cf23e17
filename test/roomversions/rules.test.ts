import { describe, expect, it } from 'vitest';
import {
  getRoomVersion,
  InvalidInputError,
  isKnownRoomVersion,
  registerRoomVersion,
  SPEC_ROOM_VERSIONS,
} from '../../src/roomversions/index.js';

/**
 * Expected flags per version, written out from the spec's room version pages
 * (rooms/v1.md … v12.md) independently of the table's derivation chain.
 */
const expected: Record<string, Record<string, unknown>> = {
  eventIdFormat: {
    1: 'opaque',
    2: 'opaque',
    3: 'base64',
    4: 'url-safe-base64',
    5: 'url-safe-base64',
    6: 'url-safe-base64',
    7: 'url-safe-base64',
    8: 'url-safe-base64',
    9: 'url-safe-base64',
    10: 'url-safe-base64',
    11: 'url-safe-base64',
    12: 'url-safe-base64',
  },
  stateResolution: {
    1: 'v1',
    2: 'v2',
    3: 'v2',
    4: 'v2',
    5: 'v2',
    6: 'v2',
    7: 'v2',
    8: 'v2',
    9: 'v2',
    10: 'v2',
    11: 'v2',
    12: 'v2.1',
  },
  numbers: {
    1: 'legacy',
    2: 'legacy',
    3: 'legacy',
    4: 'legacy',
    5: 'legacy',
    6: 'strict',
    7: 'strict',
    8: 'strict',
    9: 'strict',
    10: 'strict',
    11: 'strict',
    12: 'strict',
  },
};
const since = (v: number) => Object.fromEntries(SPEC_ROOM_VERSIONS.map((id) => [id, Number(id) >= v]));
const until = (v: number) => Object.fromEntries(SPEC_ROOM_VERSIONS.map((id) => [id, Number(id) <= v]));

describe('the room versions table', () => {
  it('has exactly the spec versions 1 to 12, all stable', () => {
    expect(SPEC_ROOM_VERSIONS).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12']);
    for (const id of SPEC_ROOM_VERSIONS) expect(getRoomVersion(id).stability).toBe('stable');
  });

  it.each(SPEC_ROOM_VERSIONS)('v%s has the rules its spec page gives', (id) => {
    const r = getRoomVersion(id);
    expect(r.id).toBe(id);
    expect(r.eventFormat.eventIdFormat).toBe(expected.eventIdFormat?.[id]);
    expect(r.stateResolution).toBe(expected.stateResolution?.[id]);
    expect(r.json.numbers).toBe(expected.numbers?.[id]);
    expect(r.signatures.eventIdServerSigns).toBe(until(2)[id]);
    expect(r.auth.redactionDomainCheck).toBe(until(2)[id]);
    expect(r.signatures.enforceKeyValidity).toBe(since(5)[id]);
    expect(r.auth.specialCaseAliases).toBe(until(5)[id]);
    expect(r.redaction.keepAliases).toBe(until(5)[id]);
    expect(r.auth.limitNotificationsPowerLevels).toBe(since(6)[id]);
    expect(r.auth.knocking).toBe(since(7)[id]);
    expect(r.auth.restrictedJoins).toBe(since(8)[id]);
    expect(r.redaction.keepJoinRulesAllow).toBe(since(8)[id]);
    expect(r.redaction.keepJoinAuthorisedVia).toBe(since(9)[id]);
    expect(r.auth.knockRestrictedJoins).toBe(since(10)[id]);
    expect(r.auth.integerPowerLevels).toBe(since(10)[id]);
    expect(r.redaction.v11).toBe(since(11)[id]);
    expect(r.auth.implicitRoomCreator).toBe(since(11)[id]);
    expect(r.auth.privilegedCreators).toBe(since(12)[id]);
    expect(r.eventFormat.roomIdIsCreateEventHash).toBe(since(12)[id]);
  });

  it('refuses unknown versions with M_UNSUPPORTED_ROOM_VERSION', () => {
    for (const id of ['0', '13', '', ' 1', '1 ', '01', 'v1', '1.0', 'org.matrix.msc9999']) {
      expect(isKnownRoomVersion(id)).toBe(false);
      try {
        getRoomVersion(id);
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(InvalidInputError);
        expect((e as InvalidInputError).errcode).toBe('M_UNSUPPORTED_ROOM_VERSION');
      }
    }
  });

  it('is frozen', () => {
    const v = getRoomVersion('10');
    expect(Object.isFrozen(v)).toBe(true);
    expect(Object.isFrozen(v.auth)).toBe(true);
  });

  it('registers experimental versions derived from a known one', () => {
    const r = registerRoomVersion('org.example.test-1', '11', { auth: { knocking: false }, stateResolution: 'v2.1' });
    expect(r.stability).toBe('unstable');
    expect(r.auth.knocking).toBe(false);
    expect(r.auth.restrictedJoins).toBe(true);
    expect(r.stateResolution).toBe('v2.1');
    expect(getRoomVersion('org.example.test-1')).toBe(r);
    expect(getRoomVersion('11').auth.knocking).toBe(true);
    expect(() => registerRoomVersion('org.example.test-1', '11')).toThrow(InvalidInputError);
    expect(() => registerRoomVersion('5', '11')).toThrow(InvalidInputError);
    expect(() => registerRoomVersion('Bad Id', '11')).toThrow(InvalidInputError);
    expect(() => registerRoomVersion('org.example.x', '99')).toThrow(InvalidInputError);
  });
});
