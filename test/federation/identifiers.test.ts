import { describe, expect, it } from 'vitest';
import {
  InvalidInputError,
  isValidEventId,
  isValidRoomAlias,
  isValidRoomId,
  isValidServerName,
  isValidUserId,
  parseServerName,
  parseUserId,
} from '../../src/federation/index.js';
import { getRoomVersion } from '../../src/roomversions/index.js';

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
