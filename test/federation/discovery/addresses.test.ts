/**
 * The address policy (CVE-2024-52594): which addresses discovery may connect
 * to. Expected verdicts come from the IANA special-purpose registries
 * (RFC 6890 and successors) and Synapse's DEFAULT_IP_RANGE_BLOCKLIST.
 */

import { BlockList, isIP } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../src/errors.js';
import {
  AddressPolicy,
  canonicalIpAddress,
  DEFAULT_BLOCKED_RANGES,
  isAmbiguousIPv4Literal,
} from '../../../src/federation/discovery/addresses.js';

const policy = new AddressPolicy();

describe('the default policy', () => {
  it.each([
    ['127.0.0.1', 'loopback (RFC 1122)'],
    ['127.255.255.254', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', '"this network" (RFC 791; Synapse: only 0.0.0.0)'],
    ['10.0.0.1', 'private (RFC 1918)'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'shared, CGNAT (RFC 6598)'],
    ['100.127.255.255', 'CGNAT'],
    ['169.254.169.254', 'link-local (cloud metadata)'],
    ['192.0.0.8', 'IETF protocol assignments'],
    ['192.0.2.1', 'documentation TEST-NET-1'],
    ['198.51.100.1', 'documentation TEST-NET-2'],
    ['203.0.113.1', 'documentation TEST-NET-3'],
    ['198.18.0.1', 'benchmarking'],
    ['192.88.99.1', '6to4 relay anycast (deprecated)'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.255', 'multicast'],
    ['240.0.0.1', 'reserved (Synapse allows it)'],
    ['255.255.255.255', 'limited broadcast'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['fe80::1', 'link-local'],
    ['febf::1', 'link-local'],
    ['fc00::1', 'unique local (RFC 4193)'],
    ['fd12:3456::1', 'unique local'],
    ['fec0::1', 'site-local (deprecated)'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'documentation'],
    ['3fff::1', 'documentation (RFC 9637)'],
    ['2001:2::1', 'benchmarking'],
    ['100::1', 'discard-only'],
    ['64:ff9b:1::1', 'local-use NAT64'],
    ['::ffff:127.0.0.1', 'IPv4-mapped loopback'],
    ['::ffff:7f00:1', 'IPv4-mapped loopback, hex'],
    ['::FFFF:10.0.0.1', 'IPv4-mapped private, upper case'],
    ['0:0:0:0:0:ffff:a9fe:a9fe', 'IPv4-mapped link-local, uncompressed'],
    ['::127.0.0.1', 'IPv4-compatible loopback'],
    ['::ffff:0:10.0.0.1', 'SIIT IPv4-translated private'],
    ['2002:7f00:1::', '6to4 of 127.0.0.1'],
    ['2002:c0a8:101::1', '6to4 of 192.168.1.1'],
    ['64:ff9b::10.0.0.1', 'NAT64 of a private address'],
    ['64:ff9b::a9fe:a9fe', 'NAT64 of link-local'],
    ['[::1]', 'bracketed'],
  ])('refuses %s (%s)', (address) => {
    const verdict = policy.check(address);
    expect(verdict.allowed).toBe(false);
    expect(verdict.reason).toMatch(/blocked range/);
  });

  it.each([
    ['1.1.1.1'],
    ['8.8.8.8'],
    ['100.63.255.255'],
    ['100.128.0.0'],
    ['172.15.255.255'],
    ['172.32.0.0'],
    ['192.0.1.255'],
    ['192.169.0.1'],
    ['223.255.255.255'],
    ['2606:4700:4700::1111'],
    ['2a00:1450:4001::200e'],
    ['::ffff:8.8.8.8'],
    ['2002:808:808::'],
    ['64:ff9b::808:808'],
    ['2001:db9::1'],
  ])('allows %s (public)', (address) => {
    expect(policy.check(address)).toEqual({ allowed: true });
  });

  it.each([
    'localhost',
    '',
    '1.2.3',
    '1.2.3.4.5',
    '256.0.0.1',
    '01.2.3.4',
    '0x7f.0.0.1',
    '1.2.3.4 ',
    'fe80::1%eth0',
    '::ffff:1.2.3.256',
    '1::2::3',
    '[::1',
    'example.org',
  ])('refuses %j: not an IP address', (address) => {
    const verdict = policy.check(address);
    expect(verdict.allowed).toBe(false);
    expect(verdict.reason).toMatch(/not an IP address/);
  });

  it("covers Synapse's default blocklist (and 0.0.0.0 and ::, which it always adds)", () => {
    const synapse = [
      '127.0.0.0/8',
      '10.0.0.0/8',
      '172.16.0.0/12',
      '192.168.0.0/16',
      '100.64.0.0/10',
      '192.0.0.0/24',
      '169.254.0.0/16',
      '192.88.99.0/24',
      '198.18.0.0/15',
      '192.0.2.0/24',
      '198.51.100.0/24',
      '203.0.113.0/24',
      '224.0.0.0/4',
      '::1/128',
      'fe80::/10',
      'fc00::/7',
      '2001:db8::/32',
      'ff00::/8',
      'fec0::/10',
    ];
    for (const range of synapse) {
      const [ip] = range.split('/') as [string];
      expect(policy.isAllowed(ip), range).toBe(false);
    }
    expect(policy.isAllowed('0.0.0.0')).toBe(false);
    expect(policy.isAllowed('::')).toBe(false);
  });
});

describe('allowlist and extra blocks', () => {
  it('allows allowlisted ranges, in every IPv6 spelling of an IPv4 address', () => {
    const p = new AddressPolicy({ allow: ['127.0.0.0/8', '::1'] });
    for (const a of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1', '2002:7f00:1::', '64:ff9b::7f00:1']) {
      expect(p.isAllowed(a), a).toBe(true);
    }
    expect(p.isAllowed('10.0.0.1')).toBe(false);
    expect(p.isAllowed('::2')).toBe(false);
  });

  it('a single address in the allowlist allows only it', () => {
    const p = new AddressPolicy({ allow: ['127.0.0.2'] });
    expect(p.isAllowed('127.0.0.2')).toBe(true);
    expect(p.isAllowed('127.0.0.3')).toBe(false);
  });

  it('adds blocked ranges, or replaces the defaults', () => {
    const more = new AddressPolicy({ block: ['8.8.8.0/24', '2606:4700::/32'] });
    expect(more.isAllowed('8.8.8.8')).toBe(false);
    expect(more.isAllowed('::ffff:8.8.8.8')).toBe(false);
    expect(more.isAllowed('2606:4700:4700::1111')).toBe(false);
    expect(more.isAllowed('127.0.0.1')).toBe(false);
    const only = new AddressPolicy({ block: ['8.8.8.0/24'], replaceDefaults: true });
    expect(only.isAllowed('127.0.0.1')).toBe(true);
    expect(only.isAllowed('8.8.8.8')).toBe(false);
    expect(new AddressPolicy({ replaceDefaults: true }).isAllowed('::1')).toBe(true);
    expect(new AddressPolicy({ block: ['0.0.0.0/0'], replaceDefaults: true }).isAllowed('1.2.3.4')).toBe(false);
    expect(new AddressPolicy({ block: ['::/0'], replaceDefaults: true }).isAllowed('2606::1')).toBe(false);
  });

  it.each(['', '1.2.3.4/', '1.2.3.4/33', '::/129', '1.2.3.4/-1', 'example.org', '10.0.0.0/8/8', '10.0.0.0/08x'])(
    'refuses the range %j with InvalidInputError M_INVALID_PARAM',
    (range) => {
      expect(() => new AddressPolicy({ allow: [range] })).toThrow(InvalidInputError);
      expect(() => new AddressPolicy({ block: [range] })).toThrow(/not an IP address or CIDR range/);
    },
  );
});

describe('agreement with node:net', () => {
  /** The default blocklist in a node:net BlockList (which does not look inside IPv6 forms but IPv4-mapped). */
  const nodeList = new BlockList();
  for (const range of DEFAULT_BLOCKED_RANGES) {
    const [ip, len] = range.split('/') as [string, string];
    nodeList.addSubnet(ip, Number(len), isIP(ip) === 4 ? 'ipv4' : 'ipv6');
  }
  /** IPv6 forms we look inside of, which node:net's BlockList judges as IPv6 only. */
  const embeds = (v6: string) => {
    const c = canonicalIpAddress(v6) as string;
    return /^::(ffff:(0:)?)?[0-9a-f.:]*$/.test(c) || c.startsWith('2002:') || c.startsWith('64:ff9b::');
  };

  it('on IPv4 addresses', () => {
    fc.assert(
      fc.property(fc.ipV4(), (ip) => {
        expect(policy.isAllowed(ip)).toBe(!nodeList.check(ip, 'ipv4'));
      }),
      { numRuns: 5000 },
    );
  });

  it('on IPv6 addresses outside the embedding forms', () => {
    const v6 = fc.oneof(
      fc.ipV6(),
      fc
        .constantFrom('fe80', 'fc00', 'fd00', 'fec0', 'ff02', '2001:db8', '3fff', '2001:2', '100', '64:ff9b:1')
        .chain((p) =>
          fc
            .ipV6()
            .map((tail) => `${p}::${tail.split(':').slice(-2).join(':')}`)
            .filter((a) => isIP(a) === 6),
        ),
    );
    fc.assert(
      fc.property(v6, (ip) => {
        fc.pre(!embeds(ip));
        expect(policy.isAllowed(ip)).toBe(!nodeList.check(ip, 'ipv6'));
      }),
      { numRuns: 5000 },
    );
  });

  it('judges every IPv6 form of an IPv4 address like the address itself', () => {
    fc.assert(
      fc.property(fc.ipV4(), (ip) => {
        const [a, b, c, d] = ip.split('.').map(Number) as [number, number, number, number];
        const hex = (x: number, y: number) => ((x << 8) | y).toString(16);
        const forms = [
          `::ffff:${ip}`,
          `::ffff:${hex(a, b)}:${hex(c, d)}`,
          `::ffff:0:${ip}`,
          `2002:${hex(a, b)}:${hex(c, d)}::1`,
          `64:ff9b::${ip}`,
        ];
        const expected = policy.isAllowed(ip);
        for (const f of forms) expect(policy.isAllowed(f), f).toBe(expected);
      }),
      { numRuns: 3000 },
    );
  });

  it('never throws, and refuses whatever node:net does not call an IP address', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.ipV4Extended(), fc.ipV6()), (s) => {
        const verdict = policy.check(s);
        if (isIP(s) === 0 && !/^\[.*\]$/.test(s)) expect(verdict.allowed).toBe(false);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('canonicalIpAddress', () => {
  it('writes IPv6 as RFC 5952 says (as WHATWG URLs serialise it)', () => {
    fc.assert(
      fc.property(fc.ipV6(), (ip) => {
        expect(canonicalIpAddress(ip)).toBe(new URL(`http://[${ip}]/`).hostname.slice(1, -1));
        expect(canonicalIpAddress(`[${ip}]`)).toBe(canonicalIpAddress(ip));
      }),
      { numRuns: 3000 },
    );
    expect(canonicalIpAddress('2001:0db8:0000:0000:0001:0000:0000:0001')).toBe('2001:db8::1:0:0:1');
    expect(canonicalIpAddress('0:0:0:0:0:0:0:0')).toBe('::');
    expect(canonicalIpAddress('1:0:2:3:4:5:6:7')).toBe('1:0:2:3:4:5:6:7');
  });

  it('keeps strict dotted quads, and nothing else', () => {
    expect(canonicalIpAddress('1.2.3.4')).toBe('1.2.3.4');
    for (const s of ['01.2.3.4', '1.2.3', 'example.org', '', '::1%lo'])
      expect(canonicalIpAddress(s), s).toBeUndefined();
  });
});

describe('isAmbiguousIPv4Literal', () => {
  it('is true for dotted quads with a leading zero only', () => {
    for (const s of ['010.0.0.1', '1.2.3.04', '00.0.0.0']) expect(isAmbiguousIPv4Literal(s), s).toBe(true);
    for (const s of ['10.0.0.1', '0.0.0.0', '1.2.3.4', '0177.0.0.1', 'a.b.c.d', '[::1]'])
      expect(isAmbiguousIPv4Literal(s), s).toBe(false);
  });
});
