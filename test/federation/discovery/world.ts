/**
 * The test world of the server-discovery scenarios: one DNS zone (served by
 * dnsmasq, and in memory), HTTPS well-known servers on 127.0.0.x, and the
 * addresses the resolver may connect to.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { json, type Route, raw, redirect, type Zone } from './harness.js';

/** The main well-known server. */
export const WK = '127.0.0.2';
/** A second well-known server (cross-host redirects). */
export const WK2 = '127.0.0.3';
/** Federation targets (nothing listens there: discovery does not connect to them). */
export const TARGET = '127.0.0.5';
export const TARGET2 = '127.0.0.4';
/** Nothing listens here: a well-known request is refused. */
export const DEAD = '127.0.0.6';
/** A well-known server outside the allowlist, answering valid delegations: reaching it would show. */
export const PRIVATE = '127.0.0.9';
/** The allowlist of the scenarios: 127.0.0.0–127.0.0.7 and ::1; 127.0.0.9 stays refused. */
export const ALLOW = ['127.0.0.0/29', '::1'];

/** Hosts answered by the well-known servers, by Host header. */
export function routes(port: number): Record<string, Route> {
  const wk = (host: string) => `https://${host}:${port}/.well-known/matrix/server`;
  const chain = (n: number): Route => {
    return (path: string, req: IncomingMessage, res: ServerResponse) => {
      const m = /^\/r\/(\d+)$/.exec(path);
      const i = path === '/.well-known/matrix/server' ? 0 : m === null ? -1 : Number(m[1]);
      if (i < 0) return raw('', {}, 404)(path, req, res);
      if (i < n) return redirect(`/r/${i + 1}`)(path, req, res);
      return json({ 'm.server': 'target.test:9004' })(path, req, res);
    };
  };
  return {
    // Delegations (step 3.x).
    'delegated-port.test': json({ 'm.server': 'target.test:8443' }),
    'delegated-srv.test': json({ 'm.server': 'deleg-srv-host.test' }),
    'delegated-legacy.test': json({ 'm.server': 'deleg-legacy-host.test' }),
    'delegated-plain.test': json({ 'm.server': 'deleg-plain-host.test' }),
    'delegated-ip.test': json({ 'm.server': '127.0.0.5:8449' }),
    'delegated-ip-noport.test': json({ 'm.server': '127.0.0.5' }),
    'delegated-ip6.test': json({ 'm.server': '[::1]:8450' }),
    'delegated-private.test': json({ 'm.server': 'private.test:8448' }),
    'delegated-private-ip.test': json({ 'm.server': '127.0.0.9' }),
    'textplain.test': raw('{"m.server":"target.test:8443"}', { 'content-type': 'text/plain' }),
    'nocontenttype.test': raw('{"m.server":"target.test:8443"}'),
    'extra-fields.test': json({ 'm.server': 'target.test:8443', other: [1, { x: null }] }),
    'cached.test': json({ 'm.server': 'target.test:9100' }, { 'cache-control': 'public, max-age=600' }),
    // Redirects.
    'redirect.test': redirect(wk('wk2.test')),
    'wk2.test': json({ 'm.server': 'target.test:9001' }),
    'redirect-relative.test': (path, req, res) =>
      path === '/elsewhere'
        ? json({ 'm.server': 'target.test:9002' })(path, req, res)
        : redirect('/elsewhere', 301)(path, req, res),
    'redirect-307.test': redirect(wk('wk2.test'), 307),
    'redirect-308.test': redirect(wk('wk2.test'), 308),
    'redirect-303.test': redirect(wk('wk2.test'), 303),
    'redirect-chain20.test': chain(20),
    'redirect-chain21.test': chain(21),
    'redirect-loop.test': (path, req, res) => redirect(path === '/a' ? '/b' : '/a')(path, req, res),
    'redirect-self.test': redirect(wk('redirect-self.test')),
    'redirect-private-ip.test': redirect(wk(PRIVATE)),
    'redirect-private-name.test': redirect(wk('private.test')),
    'redirect-http.test': redirect(`http://wk2.test:${port}/.well-known/matrix/server`),
    'redirect-nolocation.test': raw('', {}, 302),
    // Bodies over and at the limit.
    'big.test': raw(`{"m.server":"target.test:8443","pad":"${'x'.repeat(60 * 1024)}"}`, {
      'content-type': 'application/json',
    }),
    'big-chunked.test': (_path, _req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"m.server":"target.test:8443","pad":"');
      for (let i = 0; i < 60; i++) res.write('x'.repeat(1024));
      res.end('"}');
    },
    'limit.test': raw(`{"m.server":"target.test:9003"}`.padEnd(50 * 1024, ' '), { 'content-type': 'application/json' }),
    // Invalid content.
    'badjson.test': raw('not json', { 'content-type': 'application/json' }),
    'bom.test': raw('\ufeff{"m.server":"target.test:8443"}', { 'content-type': 'application/json' }),
    'badutf8.test': raw(new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])),
    'array.test': json([{ 'm.server': 'target.test:8443' }]),
    'nomserver.test': json({ server: 'target.test:8443' }),
    'numserver.test': json({ 'm.server': 8443 }),
    'badmserver.test': json({ 'm.server': 'bad name!' }),
    'emptymserver.test': json({ 'm.server': '' }),
    'portmserver.test': json({ 'm.server': 'target.test:99999' }),
    'port0mserver.test': json({ 'm.server': 'target.test:0' }),
    'error500.test': json({ errcode: 'M_UNKNOWN' }, {}, 500),
    'status204.test': raw('', {}, 204),
    // Reached only if a refusal failed.
    'private.test': json({ 'm.server': 'target.test:6660' }),
    [PRIVATE]: json({ 'm.server': 'target.test:6661' }),
  };
}

/** Every host name the well-known servers answer (for the certificate). */
export const WELL_KNOWN_HOSTS = Object.keys(routes(0)).filter((h) => h.endsWith('.test'));

/** Names served by {@link WK}; the rest of the zone is below. */
const onWk = WELL_KNOWN_HOSTS.filter((h) => h !== 'wk2.test' && h !== 'private.test').concat([
  'notfound.test',
  'error500.test',
]);

const srv = (target: string, port: number, priority = 10, weight = 0) => ({ target, port, priority, weight });

/** The zone of the scenarios. */
export const ZONE: Zone = {
  a: {
    ...Object.fromEntries(onWk.map((h) => [h, [WK]])),
    'wk2.test': [WK2],
    'target.test': [TARGET],
    'target2.test': [TARGET2],
    'dual.test': [TARGET],
    'deleg-plain-host.test': [TARGET2],
    'deleg-srv-host.test': [TARGET2],
    'deleg-legacy-host.test': [TARGET2],
    'dead.test': [DEAD],
    'srv-only.test': [DEAD],
    'legacy-only.test': [DEAD],
    'both-srv.test': [DEAD],
    'srv-private.test': [DEAD],
    'srv-allprivate.test': [DEAD],
    'srv-none.test': [DEAD],
    'srv-nxtarget.test': [DEAD],
    'srv-weights.test': [DEAD],
    'srvfail.test': [DEAD],
    'private.test': [PRIVATE],
    'mixed.test': [TARGET, PRIVATE],
    'ten.test': ['10.1.2.3'],
    'mapped.test': [TARGET],
  },
  aaaa: {
    'dual.test': ['::1'],
    'mapped.test': ['::ffff:10.0.0.1'],
  },
  cname: { 'alias.test': 'target.test' },
  srv: {
    '_matrix-fed._tcp.deleg-srv-host.test': [srv('target2.test', 7777)],
    '_matrix._tcp.deleg-srv-host.test': [srv('target.test', 1)],
    '_matrix._tcp.deleg-legacy-host.test': [srv('target.test', 6666)],
    '_matrix-fed._tcp.notfound.test': [srv('target.test', 8448)],
    '_matrix._tcp.error500.test': [srv('target2.test', 8446)],
    '_matrix-fed._tcp.srv-only.test': [srv('target2.test', 8444, 20, 0), srv('target.test', 8443, 10, 5)],
    '_matrix._tcp.legacy-only.test': [srv('target2.test', 8445)],
    '_matrix-fed._tcp.both-srv.test': [srv('target.test', 1111)],
    '_matrix._tcp.both-srv.test': [srv('target2.test', 2222)],
    '_matrix-fed._tcp.srv-private.test': [srv('private.test', 8448, 0), srv('target.test', 8448, 10)],
    '_matrix-fed._tcp.srv-allprivate.test': [srv('private.test', 8448)],
    '_matrix-fed._tcp.srv-none.test': [srv('.', 0)],
    '_matrix._tcp.srv-none.test': [srv('target.test', 8448)],
    '_matrix-fed._tcp.srv-nxtarget.test': [srv('nx-target.test', 8448)],
  },
  failing: ['_matrix-fed._tcp.srvfail.test'],
};
