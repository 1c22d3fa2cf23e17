/**
 * SRV ordering. RFC 2782: "A client MUST attempt to contact the target host
 * with the lowest-numbered priority it can reach"; within a priority,
 * targets are picked at random with probability proportional to weight.
 * Synapse's reading puts weight-0 records last (the RFC lets them be picked
 * first with a small chance); synapse.test.ts checks we make Synapse's exact
 * choices from the same random numbers.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { prng } from '../../../bench/corpus.ts';
import { orderSrvRecords, type SrvRecord } from '../../../src/federation/discovery/srv.js';

const rec = (name: string, priority: number, weight: number): SrvRecord => ({ name, port: 8448, priority, weight });

describe('orderSrvRecords', () => {
  it('tries lower priorities first, whatever the weights', () => {
    const records = [rec('c', 30, 100), rec('a', 10, 0), rec('b', 20, 1000)];
    expect(orderSrvRecords(records, prng(1)).map((r) => r.name)).toEqual(['a', 'b', 'c']);
  });

  it('picks by running weight: a number in 1..total, the first record whose running sum reaches it', () => {
    const records = [rec('a', 0, 1), rec('b', 0, 3)];
    // 1 + floor(r × 4): r < 0.25 → 1 → a; otherwise 2..4 → b.
    expect(orderSrvRecords(records, () => 0.2).map((r) => r.name)).toEqual(['a', 'b']);
    expect(orderSrvRecords(records, () => 0.25).map((r) => r.name)).toEqual(['b', 'a']);
    expect(orderSrvRecords(records, () => 0.99).map((r) => r.name)).toEqual(['b', 'a']);
  });

  it('puts weight-0 records after the weighted ones of their priority (Synapse)', () => {
    const records = [rec('z1', 0, 0), rec('w', 0, 5), rec('z2', 0, 0), rec('p', 1, 0)];
    for (let seed = 0; seed < 50; seed++) {
      const names = orderSrvRecords(records, prng(seed)).map((r) => r.name);
      expect(names[0]).toBe('w');
      expect(new Set(names.slice(1, 3))).toEqual(new Set(['z1', 'z2']));
      expect(names[3]).toBe('p');
    }
  });

  it('does not modify its input', () => {
    const records = [rec('a', 1, 1), rec('b', 0, 1)];
    const copy = structuredClone(records);
    orderSrvRecords(records);
    expect(records).toEqual(copy);
  });

  it('picks first in proportion to weight (RFC 2782)', () => {
    const records = [rec('light', 0, 1), rec('heavy', 0, 3), rec('zero', 0, 0)];
    const random = prng(42);
    const firsts = { light: 0, heavy: 0, zero: 0 };
    const runs = 20_000;
    for (let i = 0; i < runs; i++)
      firsts[(orderSrvRecords(records, random)[0] as SrvRecord).name as keyof typeof firsts]++;
    expect(firsts.zero).toBe(0);
    expect(firsts.light / runs).toBeGreaterThan(0.23);
    expect(firsts.light / runs).toBeLessThan(0.27);
  });

  it('always returns a permutation, priorities ascending, weighted before weight-0 in each priority', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ priority: fc.integer({ min: 0, max: 65535 }), weight: fc.integer({ min: 0, max: 65535 }) }),
          {
            maxLength: 12,
          },
        ),
        fc.integer(),
        (raw, seed) => {
          const records = raw.map((r, i) => ({ ...r, name: String(i), port: 1 }));
          const out = orderSrvRecords(records, prng(seed));
          expect(out.map((r) => r.name).sort()).toEqual(records.map((r) => r.name).sort());
          for (let i = 1; i < out.length; i++) {
            const [a, b] = [out[i - 1] as SrvRecord, out[i] as SrvRecord];
            expect(a.priority <= b.priority).toBe(true);
            if (a.priority === b.priority && a.weight === 0) expect(b.weight).toBe(0);
          }
        },
      ),
    );
  });

  it('copes with a random source at its bounds', () => {
    const records = [rec('a', 0, 1), rec('b', 0, 2), rec('c', 0, 0), rec('d', 0, 0)];
    for (const r of [0, 0.999_999_999_999, 1 - Number.EPSILON]) {
      expect(orderSrvRecords(records, () => r)).toHaveLength(4);
    }
  });
});
