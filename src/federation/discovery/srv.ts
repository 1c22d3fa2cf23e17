/**
 * SRV records (RFC 2782): the order in which a service's targets are tried.
 *
 * @module
 */

/** One SRV record, as `node:dns` `resolveSrv` returns it. */
export interface SrvRecord {
  /** The target host name; empty (or `.`) for "the service is not available here". */
  readonly name: string;
  /** The port on the target. */
  readonly port: number;
  /** Lower values are tried first. */
  readonly priority: number;
  /** Within a priority, the relative chance of being tried first. */
  readonly weight: number;
  /** The record's time to live in seconds, when the resolver gives it. */
  readonly ttl?: number;
}

/**
 * Orders SRV records for trying, as RFC 2782 describes and as Synapse does
 * it: priorities in ascending order; within a priority, repeatedly pick a
 * record at random with probability proportional to its weight. Records of
 * weight 0 come last in a priority, shuffled: Synapse's reading of the RFC
 * ("changed to remove an off-by-one error"), where the RFC lets a weight-0
 * record be picked first with a small chance.
 *
 * @param records - the records (not modified).
 * @param random - a source of numbers in [0, 1), `Math.random` by default.
 * @returns a new array. Never throws.
 */
export function orderSrvRecords<T extends SrvRecord>(records: readonly T[], random: () => number = Math.random): T[] {
  // A stable sort keeps each priority's records in the order given, as Synapse's grouping does.
  const sorted = records.length < 2 ? [...records] : [...records].sort((a, b) => a.priority - b.priority);
  const out: T[] = [];
  for (let start = 0; start < sorted.length; ) {
    let end = start + 1;
    while (end < sorted.length && (sorted[end] as T).priority === (sorted[start] as T).priority) end++;
    const servers = sorted.slice(start, end);
    start = end;
    let total = 0;
    for (const s of servers) total += s.weight;
    while (servers.length > 0 && total > 0) {
      // A number in 1..total, then the first record whose running weight reaches it.
      let target = 1 + Math.min(total - 1, Math.floor(random() * total));
      let i = 0;
      for (; i < servers.length - 1; i++) {
        target -= (servers[i] as T).weight;
        if (target <= 0) break;
      }
      const [picked] = servers.splice(i, 1) as [T];
      out.push(picked);
      total -= picked.weight;
    }
    // Fisher–Yates over what is left (only weight-0 records).
    for (let i = servers.length - 1; i > 0; i--) {
      const j = Math.min(i, Math.floor(random() * (i + 1)));
      [servers[i], servers[j]] = [servers[j] as T, servers[i] as T];
    }
    for (const s of servers) out.push(s);
  }
  return out;
}
