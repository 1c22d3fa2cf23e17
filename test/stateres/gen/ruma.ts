/**
 * Writes ../vectors/ruma-state-res.json from ruma's state resolution
 * fixtures (ruma/ruma, crates/ruma-state-res/tests/it/resolve/, MIT): the
 * PDUs and state sets of each of its snapshot tests, and the resolved state
 * its snapshot asserts.
 *
 *     node_modules/.bin/node test/stateres/gen/ruma.ts <ruma git dir> [commit]
 *
 * The git dir is a clone of ruma (a bare one will do); `commit` defaults to
 * HEAD. Nothing here runs in the tests.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

const [gitDir, rev = 'HEAD'] = process.argv.slice(2);
if (gitDir === undefined) throw new Error('usage: ruma.ts <ruma git dir> [commit]');
const git = (...args: string[]) => execFileSync('git', ['--git-dir', gitDir, ...args], { encoding: 'utf8' });
const commit = git('rev-parse', rev).trim();
const dir = 'crates/ruma-state-res/tests/it/resolve';
const show = (path: string) => git('show', `${commit}:${path}`);
const fixture = (name: string) => JSON.parse(show(`${dir}/fixtures/${name}`)) as unknown[];

/** The tests of resolve.rs: name, state map files (none: each PDU its own, "batches"), PDU files. */
const TESTS: [name: string, stateMaps: string[] | null, pdus: string[]][] = [
  ['minimal_private_chat', null, ['bootstrap-private-chat.json']],
  ['minimal_public_chat', null, ['bootstrap-public-chat.json']],
  ['origin_server_ts_tiebreak', null, ['bootstrap-private-chat.json', 'origin-server-ts-tiebreak.json']],
  [
    'msc4297_problem_a_state_res_v2_0',
    ['MSC4297-problem-A/state-bob.json', 'MSC4297-problem-A/state-charlie.json'],
    ['MSC4297-problem-A/pdus-v11.json'],
  ],
  [
    'msc4297_problem_a_state_res_v2_1',
    ['MSC4297-problem-A/state-bob.json', 'MSC4297-problem-A/state-charlie.json'],
    ['MSC4297-problem-A/pdus-v12.json'],
  ],
  [
    'msc4297_problem_b_state_res_v2_0',
    ['MSC4297-problem-B/state-eve.json', 'MSC4297-problem-B/state-zara.json'],
    ['MSC4297-problem-B/pdus-v11.json'],
  ],
  [
    'msc4297_problem_b_state_res_v2_1',
    ['MSC4297-problem-B/state-eve.json', 'MSC4297-problem-B/state-zara.json'],
    ['MSC4297-problem-B/pdus-v12.json'],
  ],
  [
    'ban_vs_power_levels',
    null,
    ['bootstrap-public-chat.json', 'ban-vs-power-levels-alice.json', 'ban-vs-power-levels-bob.json'],
  ],
  [
    'topic_vs_power_levels',
    null,
    ['bootstrap-public-chat.json', 'topic-vs-power-levels-alice.json', 'topic-vs-power-levels-bob.json'],
  ],
  [
    'power_levels_admin_vs_mod',
    null,
    ['bootstrap-public-chat.json', 'power-levels-admin-vs-mod-alice.json', 'power-levels-admin-vs-mod-bob.json'],
  ],
  [
    'topic_vs_ban',
    null,
    ['bootstrap-public-chat.json', 'topic-vs-ban-common.json', 'topic-vs-ban-alice.json', 'topic-vs-ban-bob.json'],
  ],
  [
    'join_rules_vs_join',
    null,
    [
      'bootstrap-public-chat.json',
      'join-rules-vs-join-common.json',
      'join-rules-vs-join-alice.json',
      'join-rules-vs-join-ella.json',
    ],
  ],
  [
    'concurrent_joins',
    null,
    ['bootstrap-public-chat.json', 'concurrent-joins-charlie.json', 'concurrent-joins-ella.json'],
  ],
];

/** The resolved state of a snapshot: the JSON array after its header, as {type: {state_key: event_id}}. */
function snapshot(name: string): Record<string, Record<string, string>> {
  const text = show(`${dir}/snapshots/${name}@resolved_state.snap`);
  const body = text.slice(text.indexOf('---', text.indexOf('---') + 3) + 3);
  const state: Record<string, Record<string, string>> = {};
  for (const e of JSON.parse(body) as { type: string; state_key: string; event_id: string }[]) {
    state[e.type] ??= {};
    (state[e.type] as Record<string, string>)[e.state_key] = e.event_id;
  }
  return state;
}

const cases = TESTS.map(([name, stateMaps, pdus]) => ({
  name,
  pdus: pdus.map(fixture),
  ...(stateMaps === null ? {} : { state_sets: stateMaps.map(fixture) }),
  expected: snapshot(name),
}));

const vectors = {
  source: {
    repository: 'ruma/ruma',
    path: `${dir}/ (resolve.rs, fixtures/, snapshots/)`,
    commit,
    licence: 'MIT',
    licence_text: show('LICENSE'),
  },
  expected_values_from:
    "ruma's own insta snapshots of each test: the resolved state ruma asserts. Without `state_sets`, each PDU is " +
    'its own state set, all resolved at once (ruma checks that this, batch by batch and event by event give the ' +
    'same state). PDUs are as in the fixtures: fake event IDs, no hashes or depth.',
  cases,
};
writeFileSync(new URL('../vectors/ruma-state-res.json', import.meta.url), `${JSON.stringify(vectors, null, 1)}\n`);
