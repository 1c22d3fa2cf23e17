/**
 * Explain mode: why a resolution came out as it did. For each conflicted
 * type and state key, the events that competed for it, each one's place in
 * the ordering that brought it to the auth checks (the sender's power
 * level for power events, the mainline position for the others), what the
 * auth rules said of it, and the winner. For a server operator after a
 * state reset, and for a test that disagrees with another implementation.
 *
 * @module
 */

import type { RoomVersionRules } from '../roomversions/rules.js';
import type { EventGraph } from './graph.js';
import type { EventLoader } from './loader.js';
import { runLoading } from './loader.js';
import { graphFor, type ResolveOptions, resolution } from './resolve.js';
import type { StateIds } from './state.js';
import { separate, type TracedCheck } from './v2.js';

/** One event through the iterative auth checks (state resolution v2 and v2.1). */
export interface ExplainedCheck {
  /** The event. */
  readonly eventId: string;
  /** Its type. */
  readonly type: string;
  /** Its state key (none for a message, which the checks skip). */
  readonly stateKey: string | undefined;
  /**
   * The ordering that brought it to the checks: `power` (the reverse
   * topological power ordering of the power events) or `mainline` (the
   * other events, by the resolved power levels' mainline).
   */
  readonly phase: 'power' | 'mainline';
  /** Its sender's power level (`power`), or its mainline position (`mainline`; 0: it reaches no mainline event). */
  readonly orderedBy: number | bigint;
  /**
   * `allowed`: it passed the auth rules and entered the state (a later
   * event of the same type and state key may replace it); `rejected` by
   * the auth rules (`rule` and `reason` say which and why); `skipped`: not
   * a state event, rejected before (the caller said), or content the auth
   * event selection cannot read.
   */
  readonly outcome: 'allowed' | 'rejected' | 'skipped';
  /** The auth rule that rejected it (an `AuthRule` of matrix-serverlib/auth). */
  readonly rule?: string;
  /** Why. */
  readonly reason?: string;
}

/** One conflicted type and state key. */
export interface ExplainedConflict {
  /** The event type. */
  readonly type: string;
  /** The state key. */
  readonly stateKey: string;
  /** The events the state sets map it to, in the order first met across the sets. */
  readonly candidates: readonly string[];
  /**
   * The auth checks of the events of this type and state key, in the order
   * they ran (v2 and v2.1; empty for v1, whose checks are not traced).
   */
  readonly checks: readonly ExplainedCheck[];
  /** The event the resolved state holds for it, if any. */
  readonly winner: string | undefined;
}

/** What {@link explainResolution} gives. */
export interface ResolutionExplanation {
  /** The algorithm of the room version. */
  readonly algorithm: RoomVersionRules['stateResolution'];
  /** The resolved state, as {@link resolveState} gives it. */
  readonly state: Map<string, Map<string, string>>;
  /** Each conflicted type and state key. */
  readonly conflicts: readonly ExplainedConflict[];
  /** Every iterative auth check in the order it ran, events of unconflicted keys (auth difference) included. */
  readonly checks: readonly ExplainedCheck[];
}

function explained(graph: EventGraph, traced: TracedCheck): ExplainedCheck {
  const event = graph.eventOf(traced.node);
  return {
    eventId: graph.idOf(traced.node),
    type: event.type,
    stateKey: event.state_key,
    phase: traced.phase,
    orderedBy: traced.key,
    outcome: traced.outcome,
    ...(traced.rule === undefined ? {} : { rule: traced.rule }),
    ...(traced.reason === undefined ? {} : { reason: traced.reason }),
  };
}

/**
 * Resolves state sets as {@link resolveState} does, and explains the
 * outcome: for each conflicted type and state key, the candidates, the
 * auth checks of the events of that key in the order they ran (with the
 * ordering's key and the rule that rejected each refused one), and the
 * winner. The resolved state is the same as `resolveState`'s.
 *
 * @example
 * ```ts
 * import { explainResolution, memoryLoader } from 'matrix-serverlib/stateres';
 *
 * declare const stateSets: StateIds[];
 * declare const roomEvents: Pdu[];
 * const { conflicts } = await explainResolution(rules, stateSets, memoryLoader(roomEvents, rules));
 * for (const c of conflicts) console.log(c.type, c.stateKey, c.candidates, '→', c.winner, c.checks);
 * ```
 *
 * @param rules - the room version's rules.
 * @param stateSets - the states to resolve, by event ID.
 * @param loader - where events are loaded from.
 * @param options - as {@link resolveState}'s.
 * @returns the resolved state and its explanation.
 * @throws {@link StateResolutionError} as {@link resolveState} does.
 */
export async function explainResolution(
  rules: RoomVersionRules,
  stateSets: readonly StateIds[],
  loader: EventLoader,
  options: ResolveOptions = {},
): Promise<ResolutionExplanation> {
  // The graph is needed afterwards to name the traced events.
  const graph = graphFor(rules, options);
  const trace: TracedCheck[] = [];
  const state = await runLoading(resolution(rules, stateSets, { ...options, cache: graph }, trace), loader);
  const checks = trace.map((t) => explained(graph, t));
  const conflicts = separate(stateSets).conflicted.map(([type, stateKey, candidates]) => ({
    type,
    stateKey,
    candidates,
    checks: checks.filter((c) => c.type === type && c.stateKey === stateKey),
    winner: state.get(type)?.get(stateKey),
  }));
  return { algorithm: rules.stateResolution, state, conflicts, checks };
}
