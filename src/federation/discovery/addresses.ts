/**
 * Which IP addresses server discovery may connect to: a blocklist of
 * loopback, private, link-local, shared (CGNAT), multicast, reserved and
 * documentation ranges, with an allowlist on top (CVE-2024-52594: a server
 * name, or its well-known, must not make us reach into our own network).
 *
 * An IPv6 address that embeds an IPv4 address (IPv4-mapped `::ffff:a.b.c.d`,
 * IPv4-compatible `::a.b.c.d`, SIIT `::ffff:0:a.b.c.d`, 6to4 `2002:AABB:CCDD::`,
 * NAT64 `64:ff9b::a.b.c.d`) is judged by the IPv4 address too, so
 * `::ffff:127.0.0.1` is refused like `127.0.0.1`, and allowlisting
 * `127.0.0.0/8` allows both.
 *
 * @module
 */

import { isIPv6 } from 'node:net';
import { InvalidInputError } from '../../errors.js';

/**
 * The ranges refused by default: Synapse's `ip_range_blacklist` default
 * (`DEFAULT_IP_RANGE_BLOCKLIST`, plus `0.0.0.0` and `::` which it always adds),
 * widened where Synapse leaves a non-routable range open: all of `0.0.0.0/8`
 * (Synapse: `0.0.0.0` only), `240.0.0.0/4` (reserved, and broadcast),
 * `100::/64` (discard), `64:ff9b:1::/48` (local-use NAT64), `2001:2::/48`
 * (benchmarking) and `3fff::/20` (documentation, RFC 9637).
 */
export const DEFAULT_BLOCKED_RANGES: readonly string[] = Object.freeze([
  // IPv4: "this network" (unspecified), loopback, RFC 1918, CGNAT, link-local.
  '0.0.0.0/8',
  '127.0.0.0/8',
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '100.64.0.0/10',
  '169.254.0.0/16',
  // IETF protocol assignments, former 6to4 relay anycast, benchmarking, documentation.
  '192.0.0.0/24',
  '192.88.99.0/24',
  '198.18.0.0/15',
  '192.0.2.0/24',
  '198.51.100.0/24',
  '203.0.113.0/24',
  // Multicast; reserved and broadcast.
  '224.0.0.0/4',
  '240.0.0.0/4',
  // IPv6: unspecified, loopback, link-local, unique local, site-local, multicast.
  '::/128',
  '::1/128',
  'fe80::/10',
  'fc00::/7',
  'fec0::/10',
  'ff00::/8',
  // Documentation, benchmarking, discard-only, local-use NAT64.
  '2001:db8::/32',
  '3fff::/20',
  '2001:2::/48',
  '100::/64',
  '64:ff9b:1::/48',
]);

/** A parsed address: IPv4 as an unsigned 32-bit number, IPv6 as eight 16-bit groups. */
type Ip = { readonly v: 4; readonly n: number } | { readonly v: 6; readonly g: readonly number[] };

/** A parsed range: an address and a prefix length. */
interface Range {
  readonly ip: Ip;
  readonly len: number;
  readonly text: string;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** Strict dotted-quad IPv4: four decimal numbers 0–255, no leading zeros. */
function parseIPv4(s: string): number | undefined {
  const m = IPV4.exec(s);
  if (m === null) return undefined;
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const part = m[i] as string;
    if (part.length > 1 && part[0] === '0') return undefined;
    const x = Number(part);
    if (x > 255) return undefined;
    n = n * 256 + x;
  }
  return n;
}

/** IPv6 as `node:net` validates it (no zone index), expanded to eight groups. */
function parseIPv6(s: string): number[] | undefined {
  if (s.includes('%') || !isIPv6(s)) return undefined;
  const groupsOf = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    for (const piece of part.split(':')) {
      if (piece.includes('.')) {
        const v4 = IPV4.exec(piece);
        if (v4 === null) return undefined;
        const b = v4.slice(1).map(Number) as [number, number, number, number];
        if (b.some((x) => x > 255)) return undefined;
        out.push(b[0] * 256 + b[1], b[2] * 256 + b[3]);
      } else {
        out.push(Number.parseInt(piece, 16));
      }
    }
    return out;
  };
  const gap = s.indexOf('::');
  if (gap < 0) {
    const g = groupsOf(s);
    return g?.length === 8 ? g : undefined;
  }
  const head = groupsOf(s.slice(0, gap));
  const tail = groupsOf(s.slice(gap + 2));
  if (head === undefined || tail === undefined || head.length + tail.length > 7) return undefined;
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}

/** Parses an IP address (IPv6 optionally in brackets); undefined if it is not one. */
function parseIp(s: string): Ip | undefined {
  const v4 = parseIPv4(s);
  if (v4 !== undefined) return { v: 4, n: v4 };
  const inner = s.startsWith('[') && s.endsWith(']') ? s.slice(1, -1) : s;
  const g = parseIPv6(inner);
  return g === undefined ? undefined : { v: 6, g };
}

/**
 * The canonical text of an IP address (dotted quad; IPv6 lower case in
 * RFC 5952 form, without brackets), or undefined if `address` is not an IPv4
 * address in strict dotted-quad form or an IPv6 address.
 *
 * @param address - the address, IPv6 with or without brackets.
 */
export function canonicalIpAddress(address: string): string | undefined {
  const ip = parseIp(address);
  if (ip === undefined) return undefined;
  if (ip.v === 4) return v4Text(ip.n);
  // RFC 5952: the longest run (first if tied) of two or more zero groups becomes "::".
  const g = ip.g;
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

function v4Text(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/**
 * Whether `host` is an IPv4 literal of the server-name grammar (1–3 digits
 * per number) that has a leading zero, like `010.0.0.1`: the grammar reads it
 * as decimal, `inet_aton` and WHATWG URLs as octal, so it is refused rather
 * than guessed.
 *
 * @param host - the host part of a server name.
 */
export function isAmbiguousIPv4Literal(host: string): boolean {
  const m = IPV4.exec(host);
  return m?.slice(1).some((part) => part.length > 1 && part[0] === '0') === true;
}

/** The IPv4 address embedded in an IPv6 address, for the forms that route to it. */
function embeddedIPv4(g: readonly number[]): number | undefined {
  const [a, b, c, d, e, f, h, l] = g as [number, number, number, number, number, number, number, number];
  const low = h * 65536 + l;
  if (a === 0 && b === 0 && c === 0 && d === 0) {
    if (e === 0 && (f === 0xffff || f === 0)) return low; // IPv4-mapped, IPv4-compatible
    if (e === 0xffff && f === 0) return low; // SIIT IPv4-translated
    return undefined;
  }
  if (a === 0x2002) return b * 65536 + c; // 6to4
  if (a === 0x64 && b === 0xff9b && c === 0 && d === 0 && e === 0 && f === 0) return low; // NAT64
  return undefined;
}

function parseRange(text: string): Range {
  const slash = text.indexOf('/');
  const ip = parseIp(slash < 0 ? text : text.slice(0, slash));
  const max = ip?.v === 4 ? 32 : 128;
  const lenText = slash < 0 ? String(max) : text.slice(slash + 1);
  const len = Number(lenText);
  if (ip === undefined || !/^\d{1,3}$/.test(lenText) || len > max) {
    throw new InvalidInputError('M_INVALID_PARAM', `${JSON.stringify(text)} is not an IP address or CIDR range`);
  }
  return { ip, len, text };
}

/** Ranges compiled for matching: IPv4 as masked numbers, IPv6 as masked groups. */
class RangeSet {
  readonly #v4: { readonly net: number; readonly mask: number; readonly text: string }[] = [];
  readonly #v6: { readonly net: readonly number[]; readonly mask: readonly number[]; readonly text: string }[] = [];

  constructor(ranges: readonly Range[]) {
    for (const r of ranges) {
      if (r.ip.v === 4) {
        const mask = r.len === 0 ? 0 : (0xffffffff << (32 - r.len)) >>> 0;
        this.#v4.push({ net: (r.ip.n & mask) >>> 0, mask, text: r.text });
      } else {
        const mask = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => {
          const bits = Math.min(16, Math.max(0, r.len - 16 * i));
          return (0xffff << (16 - bits)) & 0xffff;
        });
        const g = r.ip.g;
        this.#v6.push({ net: mask.map((m, i) => (g[i] as number) & m), mask, text: r.text });
      }
    }
  }

  /** The first range holding `ip`, as written. */
  find(ip: Ip): string | undefined {
    if (ip.v === 4) {
      for (const r of this.#v4) if ((ip.n & r.mask) >>> 0 === r.net) return r.text;
      return undefined;
    }
    const g = ip.g;
    outer: for (const r of this.#v6) {
      for (let i = 0; i < 8; i++) {
        if (((g[i] as number) & (r.mask[i] as number)) !== r.net[i]) continue outer;
      }
      return r.text;
    }
    return undefined;
  }
}

/** Options of an {@link AddressPolicy}. */
export interface AddressPolicyOptions {
  /**
   * Addresses or CIDR ranges allowed even though a blocked range covers them
   * (Synapse's `ip_range_whitelist`), e.g. `['127.0.0.0/8', '::1']` for tests
   * against servers on loopback.
   */
  readonly allow?: readonly string[];
  /** More addresses or CIDR ranges to refuse, on top of the defaults. */
  readonly block?: readonly string[];
  /**
   * Replace {@link DEFAULT_BLOCKED_RANGES} by `block` instead of adding to
   * it (default false).
   */
  readonly replaceDefaults?: boolean;
}

/** The verdict of {@link AddressPolicy.check}. */
export interface AddressVerdict {
  /** Whether the address may be connected to. */
  readonly allowed: boolean;
  /** Why not: the blocked range it is in, or that it is not an IP address. */
  readonly reason?: string;
}

/**
 * Which addresses may be connected to: an address is refused when it, or the
 * IPv4 address it embeds, is in a blocked range, unless it or its embedded
 * IPv4 address is in an allowed range. Anything that is not an IP address is
 * refused.
 *
 * @example
 * ```ts
 * const policy = new AddressPolicy({ allow: ['127.0.0.0/8'] });
 * policy.isAllowed('127.0.0.2'); // true
 * policy.isAllowed('::ffff:10.0.0.1'); // false
 * ```
 */
export class AddressPolicy {
  readonly #block: RangeSet;
  readonly #allow: RangeSet;

  /**
   * @param options - allowlist and extra blocked ranges.
   * @throws {@link InvalidInputError} `M_INVALID_PARAM` if a range is not an
   * IP address or CIDR range.
   */
  constructor(options: AddressPolicyOptions = {}) {
    const block = [...(options.replaceDefaults === true ? [] : DEFAULT_BLOCKED_RANGES), ...(options.block ?? [])];
    this.#block = new RangeSet(block.map(parseRange));
    this.#allow = new RangeSet((options.allow ?? []).map(parseRange));
  }

  /**
   * Judges one address.
   *
   * @param address - an IPv4 address in strict dotted-quad form, or an IPv6
   * address with or without brackets.
   * @returns allowed, or refused with the reason (anything that is not an
   *   IP address is refused). Never throws.
   */
  check(address: string): AddressVerdict {
    const ip = parseIp(address);
    if (ip === undefined) return { allowed: false, reason: `${JSON.stringify(address)} is not an IP address` };
    const v4 = ip.v === 6 ? embeddedIPv4(ip.g) : undefined;
    const embedded: Ip | undefined = v4 === undefined ? undefined : { v: 4, n: v4 };
    const blocked = this.#block.find(ip) ?? (embedded === undefined ? undefined : this.#block.find(embedded));
    if (blocked === undefined) return ALLOWED;
    if (this.#allow.find(ip) !== undefined || (embedded !== undefined && this.#allow.find(embedded) !== undefined)) {
      return ALLOWED;
    }
    return { allowed: false, reason: `${address} is in the blocked range ${blocked}` };
  }

  /**
   * Whether `address` may be connected to (see {@link AddressPolicy.check}).
   *
   * @param address - an IP address.
   * @returns whether it is allowed. Never throws.
   */
  isAllowed(address: string): boolean {
    return this.check(address).allowed;
  }
}

const ALLOWED: AddressVerdict = Object.freeze({ allowed: true });
