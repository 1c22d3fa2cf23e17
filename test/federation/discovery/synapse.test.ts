/**
 * Differential tests against Synapse itself (the oracle venv of
 * test/interop/oracle, set up by its setup.sh): how long a well-known
 * response is cached from its headers, and the order SRV records are tried
 * in. Where the spec is silent ("respect the cache control headers"), Synapse
 * is the standard; the one deliberate difference is asserted by name.
 */

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cachePeriodFromHeaders, type HeaderMap } from '../../../src/federation/discovery/cache.js';
import { DiscoveryError } from '../../../src/federation/discovery/errors.js';
import { ServerResolver } from '../../../src/federation/discovery/resolve.js';
import { orderSrvRecords } from '../../../src/federation/discovery/srv.js';
import { parseWellKnown } from '../../../src/federation/discovery/wellknown.js';

const python = fileURLToPath(new URL('../../interop/oracle/.venv/bin/python', import.meta.url));
const glue = fileURLToPath(new URL('./synapse_glue.py', import.meta.url));

type Answer =
  | { ok: true; period?: number | null; order?: number[]; servers?: [string, number][] }
  | { ok: false; error: string };

async function askSynapse(requests: object[]): Promise<Answer[]> {
  if (!existsSync(python)) throw new Error('The Synapse oracle is not set up: run bash test/interop/oracle/setup.sh');
  const child = spawn(python, [glue], { stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (d: Buffer) => out.push(d));
  child.stderr.on('data', (d: Buffer) => err.push(d));
  child.stdin.end(`${requests.map((r) => JSON.stringify(r)).join('\n')}\n`);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`the glue exited with ${code}: ${Buffer.concat(err).toString()}`);
  const lines = Buffer.concat(out).toString('utf8').trim().split('\n');
  expect(lines).toHaveLength(requests.length);
  return lines.map((l) => JSON.parse(l) as Answer);
}

/** Header pairs as a HeaderMap: lower-case names, repeated headers as arrays in order. */
function headerMap(pairs: readonly (readonly [string, string])[]): HeaderMap {
  const map: Record<string, string[]> = {};
  for (const [name, value] of pairs) (map[name.toLowerCase()] ??= []).push(value);
  return map;
}

const NOW = 1_700_000_000.25;

/** Hand-picked header sets: every branch of Synapse's reading, and Twisted's three date formats. */
const handPicked: (readonly [string, string])[][] = [
  [],
  [['Cache-Control', 'max-age=3600']],
  [['Cache-Control', 'public, max-age=600, must-revalidate']],
  [['Cache-Control', 'MAX-AGE = 120 ']],
  [['Cache-Control', 'max-age="60"']],
  [['Cache-Control', 'max-age=']],
  [['Cache-Control', 'max-age']],
  [['Cache-Control', 'max-age=-5']],
  [['Cache-Control', 'max-age=+5']],
  [['Cache-Control', 'max-age=1_000']],
  [['Cache-Control', 'max-age=1__0']],
  [['Cache-Control', 'max-age=0x10']],
  [['Cache-Control', 'max-age=12.5']],
  [['Cache-Control', 'max-age=99999999999999999999999']],
  [['Cache-Control', 'no-store, max-age=600']],
  [['Cache-Control', 'No-Store']],
  [['Cache-Control', 'no-cache']],
  [
    ['Cache-Control', 'max-age=10'],
    ['Cache-Control', 'max-age=20'],
  ],
  [['Cache-Control', 'max-age=10, max-age=abc']],
  [['Expires', 'Sun, 06 Nov 1994 08:49:37 GMT']],
  [['Expires', 'Wed, 15 Nov 2023 00:00:00 GMT']],
  [['Expires', 'Sunday, 06-Nov-94 08:49:37 GMT']],
  [['Expires', 'Tuesday, 14-Nov-23 22:13:20 GMT']],
  [['Expires', 'Tue Nov 14 22:13:20 2023']],
  [['Expires', 'Tue Nov 14 22:13:20 2023 extra']],
  [['Expires', '14 Nov 2023 22:13:20 GMT']],
  [['Expires', 'Nov 14 22:13:20 2023']],
  [['Expires', 'Tue, 14 Nov 2023 22:13:20 PST']],
  [['Expires', 'Tue, 14 Nov 2023 22:13:20']],
  [['Expires', 'Tue, 14 nov 2023 22:13:20 GMT']],
  [['Expires', 'Tue, 31 Feb 2024 99:99:99 GMT']],
  [['Expires', 'Tue, 14 Nov 1969 22:13:20 GMT']],
  [['Expires', 'Tue, 14 Nov 2023 22:13 GMT']],
  [['Expires', 'Tue, 14 Nov +2023 22:13:20 GMT']],
  [['Expires', 'Tue, 14-Nov-23-1 22:13:20 GMT']],
  [['Expires', 'Tue,\t14 Nov 2023\x1f22:13:20 GMT']],
  [['Expires', '0']],
  [['Expires', '-1']],
  [['Expires', 'Tue, 14 Nov 2023 22:13:20 GMT é']],
  [
    ['Expires', 'garbage'],
    ['Expires', 'Tue, 14 Nov 2023 22:13:20 GMT'],
  ],
  [
    ['Cache-Control', 'public'],
    ['Expires', 'Tue, 14 Nov 2023 23:13:20 GMT'],
  ],
  [
    ['Cache-Control', 'max-age=abc'],
    ['Expires', 'Tue, 14 Nov 2023 23:13:20 GMT'],
  ],
];

/** Random Cache-Control values: directives with well-formed and malformed values. */
const directive = fc
  .tuple(
    fc.constantFrom('max-age', 'MAX-AGE', 'Max-Age', 'no-store', 'NO-STORE', 'public', 's-maxage', 'no-cache', ''),
    fc.option(
      fc.oneof(
        fc.nat({ max: 400_000 }).map(String),
        fc.nat({ max: 400_000 }).map((n) => `-${n}`),
        fc.nat({ max: 999 }).map((n) => `+${n}`),
        fc.constantFrom('1_000', '1__0', '_1', '"60"', '', 'abc', ' 30 ', '\t42', '0x10', '12.5', '\u00b2', '60é'),
      ),
    ),
    fc.constantFrom('', ' ', '\t'),
  )
  .map(([name, value, space]) => (value === null ? `${space}${name}` : `${space}${name}${space}=${space}${value}`));
const cacheControl = fc
  .array(directive, { minLength: 1, maxLength: 4 })
  .chain((ds) => fc.constantFrom(',', ', ', ' ,').map((sep) => ds.join(sep)));

/** Random Expires values: Twisted's three formats with their fields varied, and some noise. */
const field = <T>(good: T[], bad: T[]) =>
  fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...good) }, fc.constantFrom(...bad));
const weekday = field(['Sun,', 'Tue,', 'Mon', 'sat,', 'Tuesday,', 'Sunday,', ''], ['Xyz,', 'Tu,', '1,']);
const day = field(['01', '6', '14', '29', '31'], ['0', '-1', '99', '+5', '1_4', 'x']);
const month = field(['Nov', 'nov', 'JAN', 'Feb', 'Dec', 'mar'], ['Novem', 'N', '13', 'None']);
const year4 = field(
  ['1970', '1994', '2023', '2024', '2025', '2038', '2100'],
  ['1969', '+2023', '20_24', '-2023', '99999'],
);
const year2 = field(['94', '23', '68', '69', '70', '00'], ['-5', '123', 'x']);
const hms = field(
  ['08:49:37', '22:13:20', '00:00:00', '23:59:59', '1:2:3'],
  ['22:13', '24:00:00', '99:99:99', 'x:1:2', '-1:0:0', '1:2:3:4'],
);
const zone = field(['GMT', '', 'UTC', 'PST'], ['GMT extra', '+0000']);
const expires = fc.oneof(
  fc.tuple(weekday, day, month, year4, hms, zone).map((p) => p.filter((x) => x !== '').join(' ')),
  fc
    .tuple(weekday, day, month, year2, hms, zone)
    .map(([w, d, m, y, t, z]) => [w, `${d}-${m}-${y}`, t, z].filter((x) => x !== '').join(' ')),
  fc.tuple(weekday, month, day, hms, year4).map((p) => p.filter((x) => x !== '').join(' ')),
  fc.constantFrom(
    '0',
    '-1',
    '',
    ' ',
    'garbage',
    'Tue,\t14 Nov 2023\x1f22:13:20 GMT',
    'Tue, 14 Nov 2023 22:13:20 GMT é',
  ),
);
const headerSet = fc.array(
  fc.oneof(
    fc.tuple(fc.constantFrom('Cache-Control', 'cache-control'), cacheControl),
    fc.tuple(fc.constantFrom('Expires', 'EXPIRES'), expires),
  ),
  { maxLength: 3 },
);

describe('well-known cache period from headers: ours and Synapse agree', () => {
  it('on hand-picked and generated header sets', async () => {
    const generated = fc.sample(headerSet, { numRuns: 3000, seed: 5 });
    const cases = [...handPicked, ...generated];
    const answers = await askSynapse(cases.map((headers) => ({ op: 'cache_period', headers, now: NOW })));
    const disagreements: string[] = [];
    let departures = 0;
    cases.forEach((headers, i) => {
      const ours = cachePeriodFromHeaders(headerMap(headers), NOW);
      const theirs = answers[i] as Answer;
      if (!theirs.ok) {
        // Deliberate difference: an Expires of only whitespace makes Twisted's stringToDatetime
        // raise IndexError, which escapes Synapse's well-known lookup and fails the request; we
        // read it as an invalid date (RFC 9111: already expired), 0.
        if (theirs.error === 'IndexError' && ours === 0) {
          departures++;
          return;
        }
        disagreements.push(`${JSON.stringify(headers)}: Synapse raised ${theirs.error}, we said ${ours}`);
        return;
      }
      const period = theirs.period ?? undefined;
      const same = period === undefined ? ours === undefined : ours !== undefined && Math.abs(ours - period) < 1e-6;
      if (!same) disagreements.push(`${JSON.stringify(headers)}: Synapse ${period}, we ${ours}`);
    });
    expect(disagreements).toEqual([]);
    expect(departures).toBeLessThan(cases.length / 20);
    // The generated sets reach every outcome: no headers, 0, and periods from max-age and Expires.
    const outcomes = cases.map((h) => cachePeriodFromHeaders(headerMap(h), NOW));
    expect(outcomes.filter((p) => p === undefined).length).toBeGreaterThan(100);
    expect(outcomes.filter((p) => p === 0).length).toBeGreaterThan(100);
    expect(outcomes.filter((p) => p !== undefined && p > 0).length).toBeGreaterThan(300);
    expect(outcomes.filter((p) => p !== undefined && p < 0).length).toBeGreaterThan(100);
  });
});

describe('SRV ordering: ours and Synapse make the same choices from the same random numbers', () => {
  it('on generated record sets', async () => {
    const recordSets = fc.sample(
      fc.array(
        fc.record({ priority: fc.integer({ min: 0, max: 3 }), weight: fc.constantFrom(0, 0, 1, 2, 5, 10, 100) }),
        {
          minLength: 1,
          maxLength: 8,
        },
      ),
      { numRuns: 1500, seed: 7 },
    );
    const randoms = fc.sample(
      fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { minLength: 40, maxLength: 40 }),
      {
        numRuns: 1500,
        seed: 8,
      },
    );
    const answers = await askSynapse(recordSets.map((records, i) => ({ op: 'sort_srv', records, random: randoms[i] })));
    recordSets.forEach((records, i) => {
      const floats = [...(randoms[i] as number[])];
      const named = records.map((r, j) => ({ ...r, name: String(j), port: 1 }));
      const ours = orderSrvRecords(named, () => floats.shift() as number).map((r) => Number(r.name));
      const theirs = answers[i] as Answer;
      expect(theirs.ok && theirs.order, JSON.stringify(records)).toEqual(ours);
    });
  });
});

describe('port 0: Synapse reads it as no port; we refuse it (a deliberate difference)', () => {
  it('where Synapse connects for a server name (or a delegation) with port 0, and what we do', async () => {
    const names = ['fed.test:0', 'fed.test:00', '1.2.3.4:0', 'fed.test:8080', '1.2.3.4'];
    const answers = await askSynapse(names.map((server_name) => ({ op: 'resolve_server', server_name })));
    // Python reads port 0 as false: SRV records (none here), then 8448, while the Host header
    // it sends keeps ":0". Nothing can be connected to on port 0 (RFC 6335), so the name
    // cannot have meant that port, nor, with ":0" written, no port at all: we refuse it.
    expect(answers.map((a) => a.ok && a.servers)).toEqual([
      [['fed.test', 8448]],
      [['fed.test', 8448]],
      [['1.2.3.4', 8448]],
      [['fed.test', 8080]],
      [['1.2.3.4', 8448]],
    ]);
    const resolver = new ServerResolver({
      dns: {
        resolveSrv: async () => [],
        resolve4: async () => [],
        resolve6: async () => [],
      },
    });
    for (const name of names.slice(0, 3)) {
      await expect(resolver.resolve(name)).rejects.toMatchObject({ code: 'invalid-port' });
      expect(() => parseWellKnown(new TextEncoder().encode(JSON.stringify({ 'm.server': name })))).toThrow(
        DiscoveryError,
      );
    }
    await resolver.close();
  });
});
