import { describe, expect, it } from 'vitest';
import { createEventIdOfRoom, domainOf, roomIdOfCreateEventId } from '../../src/identifiers/identifiers.js';
import {
  InvalidInputError,
  isValidEventId,
  isValidRoomAlias,
  isValidRoomId,
  isValidServerName,
  isValidUserId,
  parseEventId,
  parseRoomAlias,
  parseRoomId,
  parseServerName,
  parseUserId,
  serverNameOf,
} from '../../src/identifiers/index.js';
import { getRoomVersion } from '../../src/roomversions/index.js';
import { errcode } from '../helpers.js';

describe('server names (spec appendix grammar and examples)', () => {
  it('accepts the spec examples', () => {
    expect(parseServerName('matrix.org')).toEqual({ host: 'matrix.org', kind: 'dns' });
    expect(parseServerName('matrix.org:8888')).toEqual({ host: 'matrix.org', kind: 'dns', port: 8888 });
    expect(parseServerName('1.2.3.4')).toEqual({ host: '1.2.3.4', kind: 'ipv4' });
    expect(parseServerName('1.2.3.4:1234')).toEqual({ host: '1.2.3.4', kind: 'ipv4', port: 1234 });
    expect(parseServerName('[1234:5678::abcd]')).toEqual({ host: '[1234:5678::abcd]', kind: 'ipv6' });
    expect(parseServerName('[1234:5678::abcd]:5678')).toEqual({ host: '[1234:5678::abcd]', kind: 'ipv6', port: 5678 });
  });
  it.each([
    '',
    ':80',
    'matrix.org:',
    'matrix.org:123456',
    'matrix.org:65536',
    'matrix.org:-1',
    'matrix.org:8a',
    'exa mple.org',
    'ex_ample.org',
    'é.org',
    '[1234:5678::abcd',
    '1234:5678::abcd]',
    '[::1]x',
    '[not:ipv6:zz]',
    '[]',
    `${'a'.repeat(256)}`,
    'a.org:80:80',
  ])('refuses %j', (name) => {
    expect(isValidServerName(name)).toBe(false);
    expect(() => parseServerName(name)).toThrow(InvalidInputError);
  });
  it('reads a dotted quad with a number over 255 as a dns-name, which the grammar allows', () => {
    // dns-name = 1*255dns-char, dns-char = DIGIT / ALPHA / "-" / "."
    expect(parseServerName('256.1.1.1')).toEqual({ host: '256.1.1.1', kind: 'dns' });
    expect(parseServerName('999.1.1.1:80')).toEqual({ host: '999.1.1.1', kind: 'dns', port: 80 });
  });
  it('accepts names at the limits', () => {
    expect(isValidServerName('a'.repeat(255))).toBe(true);
    expect(isValidServerName('localhost:65535')).toBe(true);
    expect(isValidServerName('[::ffff:1.2.3.4]:1')).toBe(true);
  });
});

describe('user IDs', () => {
  it('accepts current and historical localparts, and says which is which', () => {
    expect(parseUserId('@alice:example.org')).toEqual({
      localpart: 'alice',
      serverName: 'example.org',
      compliant: true,
    });
    expect(parseUserId('@a.b_c=d-e/f+g:example.org').compliant).toBe(true);
    expect(parseUserId('@Alice:example.org').compliant).toBe(false);
    expect(parseUserId('@日本:example.org').compliant).toBe(false);
    expect(parseUserId('@:example.org').compliant).toBe(false);
    // The localpart ends at the first colon; the rest is the server name.
    expect(parseUserId('@a:b:8448')).toMatchObject({ localpart: 'a', serverName: 'b:8448' });
    expect(isValidUserId('@a:b:example.org')).toBe(false);
  });
  it.each([
    'alice:example.org',
    '@alice',
    '@alice:',
    '@al\u0000ice:example.org',
    '@\ud800:example.org',
    '@a:exa mple.org',
  ])('refuses %j', (id) => expect(isValidUserId(id)).toBe(false));
  it('limits user IDs to 255 bytes', () => {
    const id = (n: number) => `@${'a'.repeat(n)}:example.org`;
    expect(isValidUserId(id(255 - '@:example.org'.length))).toBe(true);
    expect(isValidUserId(id(256 - '@:example.org'.length))).toBe(false);
  });
});

describe('room and event IDs by room version', () => {
  const hash = 'A'.repeat(42);
  it('room IDs: !opaque:server before v12, ! + 43 URL-safe Base64 from v12', () => {
    expect(isValidRoomId('!abc:example.org', getRoomVersion('11'))).toBe(true);
    expect(isValidRoomId(`!${hash}-`, getRoomVersion('11'))).toBe(false);
    expect(isValidRoomId(`!${hash}-`, getRoomVersion('12'))).toBe(true);
    expect(isValidRoomId(`!${hash}+`, getRoomVersion('12'))).toBe(false);
    expect(isValidRoomId('!abc:example.org', getRoomVersion('12'))).toBe(false);
    expect(isValidRoomId('abc:example.org', getRoomVersion('1'))).toBe(false);
  });
  it('event IDs: $opaque:server in v1–v2, standard Base64 in v3, URL-safe from v4', () => {
    expect(isValidEventId('$abc:example.org', getRoomVersion('2'))).toBe(true);
    expect(isValidEventId(`$${hash}+`, getRoomVersion('2'))).toBe(false);
    expect(isValidEventId(`$${hash}+`, getRoomVersion('3'))).toBe(true);
    expect(isValidEventId(`$${hash}-`, getRoomVersion('3'))).toBe(false);
    expect(isValidEventId(`$${hash}-`, getRoomVersion('4'))).toBe(true);
    expect(isValidEventId(`$${hash}+`, getRoomVersion('4'))).toBe(false);
    expect(isValidEventId(`$${hash}`, getRoomVersion('10'))).toBe(false);
  });
  it('room aliases', () => {
    expect(isValidRoomAlias('#room:example.org')).toBe(true);
    expect(isValidRoomAlias('#:example.org')).toBe(false);
    expect(isValidRoomAlias('room:example.org')).toBe(false);
  });
});

describe('typed parsing of room IDs, event IDs and aliases (spec: Appendices)', () => {
  const v = getRoomVersion;
  const hash = `${'A'.repeat(42)}-`;
  const refused = (f: () => unknown, why: RegExp) => {
    expect(errcode(f)).toBe('M_INVALID_PARAM');
    expect(f).toThrow(why);
  };

  it('returns the parts: the spec examples', () => {
    // "Room IDs": !opaque_id:domain; "Event IDs" in v1–v2: $opaque_id:domain.
    expect(parseRoomId('!636q39766251:example.com', v('1'))).toEqual({
      opaqueId: '636q39766251',
      serverName: 'example.com',
    });
    expect(parseRoomId(`!${hash}`, v('12'))).toEqual({ opaqueId: hash });
    expect(parseEventId('$a4ecee13e2accdadf56c1025:example.com', v('1'))).toEqual({
      opaqueId: 'a4ecee13e2accdadf56c1025',
      serverName: 'example.com',
    });
    // The room versions' own examples: v3 standard Base64, v4 URL-safe.
    expect(parseEventId('$acR1l0raoZnm60CBwAVgqbZqoO/mYU81xysh1u7XcJk', v('3'))).toEqual({
      opaqueId: 'acR1l0raoZnm60CBwAVgqbZqoO/mYU81xysh1u7XcJk',
    });
    expect(parseEventId('$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg', v('4'))).toEqual({
      opaqueId: 'Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg',
    });
    // "Room Aliases": #room_alias:domain; the localpart may hold any code points but : and NUL.
    expect(parseRoomAlias('#somewhere:example.org')).toEqual({ localpart: 'somewhere', serverName: 'example.org' });
    expect(parseRoomAlias('#café 🎉:example.org:8448')).toEqual({
      localpart: 'café 🎉',
      serverName: 'example.org:8448',
    });
  });

  it('limits opaque room IDs, v1–v2 event IDs and aliases to 255 bytes, sigil and domain included', () => {
    const domain = ':example.org';
    const of = (sigil: string, bytes: number) => `${sigil}${'a'.repeat(bytes - 1 - domain.length)}${domain}`;
    expect(of('!', 255)).toHaveLength(255);
    for (const version of ['1', '2']) {
      expect(parseEventId(of('$', 255), v(version)).serverName).toBe('example.org');
      refused(() => parseEventId(of('$', 256), v(version)), /256 bytes, more than 255/);
    }
    for (const version of ['1', '11']) {
      expect(isValidRoomId(of('!', 255), v(version))).toBe(true);
      expect(isValidRoomId(of('!', 256), v(version))).toBe(false);
      refused(() => parseRoomId(of('!', 256), v(version)), /256 bytes/);
    }
    expect(isValidRoomAlias(of('#', 255))).toBe(true);
    refused(() => parseRoomAlias(of('#', 256)), /256 bytes/);
    // Bytes, not characters: é is two bytes in UTF-8.
    const twoByte = `!${'é'.repeat(121)}${'a'.repeat(1)}${domain}`;
    expect(Buffer.byteLength(twoByte)).toBe(256);
    expect(twoByte.length).toBeLessThan(255);
    expect(isValidRoomId(twoByte, v('10'))).toBe(false);
  });

  it.each([
    ['a room ID without its sigil', () => parseRoomId('636q39766251:example.com', v('1')), /does not start with !/],
    ['a room ID without a domain before v12', () => parseRoomId('!636q39766251', v('11')), /no ":"/],
    ['a room ID with a bad domain', () => parseRoomId('!a:exa mple.com', v('11')), /not a valid server name/],
    ['a room ID with an empty localpart', () => parseRoomId('!:example.com', v('11')), /localpart/],
    ['a room ID with NUL', () => parseRoomId('!a\u0000b:example.com', v('11')), /localpart/],
    ['a room ID with a domain in v12', () => parseRoomId('!abc:example.org', v('12')), /43 URL-safe/],
    ['a v12 room ID in standard Base64', () => parseRoomId(`!${'A'.repeat(42)}+`, v('12')), /43 URL-safe/],
    ['an unpaired surrogate', () => parseRoomId('!a\ud800:example.com', v('11')), /unpaired surrogate/],
    ['a URL-safe event ID in v3', () => parseEventId(`$${hash}`, v('3')), /43 Base64/],
    ['a standard Base64 event ID in v4', () => parseEventId(`$${'A'.repeat(42)}+`, v('4')), /43 URL-safe/],
    ['an event ID with a domain in v3', () => parseEventId('$abc:example.org', v('3')), /43 Base64/],
    ['a hash event ID in v2', () => parseEventId(`$${hash}`, v('2')), /no ":"/],
    ['an event ID of 42 characters', () => parseEventId(`$${'A'.repeat(42)}`, v('10')), /43 URL-safe/],
    ['an alias without a localpart', () => parseRoomAlias('#:example.org'), /localpart/],
    ['an alias without its sigil', () => parseRoomAlias('room:example.org'), /does not start with #/],
  ])('refuses %s, saying why', (_, f, why) => refused(f, why));

  it('does not repeat a huge identifier in the message', () => {
    const huge = `!${'a'.repeat(100_000)}:example.org`;
    const e = (() => {
      try {
        parseRoomId(huge, v('10'));
      } catch (x) {
        return x as Error;
      }
    })();
    expect(e).toBeInstanceOf(InvalidInputError);
    expect(e?.message.length).toBeLessThan(300);
  });
});

describe('the server part of an ID, unchecked (as Synapse reads it)', () => {
  // Synapse's get_domain_from_id: string[string.find(":") + 1:], raising
  // when there is no colon; DomainSpecificString.from_string splits at the
  // first colon too.
  it('is everything after the first colon, whatever it holds', () => {
    expect(serverNameOf('@alice:example.org')).toBe('example.org');
    expect(serverNameOf('@alice:example.org:8448')).toBe('example.org:8448');
    expect(serverNameOf('$abc:[::1]:8448')).toBe('[::1]:8448');
    expect(serverNameOf('@:')).toBe('');
    expect(serverNameOf('not an id:x')).toBe('x');
  });

  it('is undefined without a colon', () => {
    expect(serverNameOf('@alice')).toBeUndefined();
    expect(serverNameOf(`$${'A'.repeat(43)}`)).toBeUndefined();
  });

  it('refuses, for an identifier an event carries, a non-string or an ID without a colon', () => {
    expect(domainOf('@alice:example.org', 'sender')).toBe('example.org');
    expect(errcode(() => domainOf('@alice', 'sender'))).toBe('M_BAD_JSON');
    expect(errcode(() => domainOf(5, 'sender'))).toBe('M_BAD_JSON');
    expect(errcode(() => domainOf(undefined, 'event_id'))).toBe('M_BAD_JSON');
  });

  it('turns a v12 room ID into its create event ID and back (MSC4291: the same hash)', () => {
    const hash = 'M7yxy5XdM1Hd0XjhEIHvCn-sGTAR1rlqvs3z8ccVhAU';
    expect(createEventIdOfRoom(`!${hash}`)).toBe(`$${hash}`);
    expect(roomIdOfCreateEventId(`$${hash}`)).toBe(`!${hash}`);
  });
});
