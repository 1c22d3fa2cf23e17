import type { JsonObject } from 'matrix-serverlib/canonicaljson';
import { buildEvent } from 'matrix-serverlib/events';
import { getRoomVersion } from 'matrix-serverlib/roomversions';
import { SigningKey } from 'matrix-serverlib/signing';
import { describe, expect, it } from 'vitest';
import {
  checkEvent,
  type Identity,
  makeKeyring,
  Network,
  notaryConfig,
  notaryEndpoint,
} from '../../examples/trust-server-keys.ts';

const NOW = 1_700_000_000_000;
const now = () => NOW;
const origin: Identity = {
  serverName: 'origin.example',
  keyId: 'ed25519:o1',
  key: new SigningKey(new Uint8Array(32).fill(1)),
};
const notaryId: Identity = {
  serverName: 'notary.example',
  keyId: 'ed25519:n1',
  key: new SigningKey(new Uint8Array(32).fill(2)),
};
const config = notaryConfig(notaryId);
const network = () => new Network(origin, notaryId, NOW);

const pdu = buildEvent(
  {
    type: 'm.room.message',
    room_id: '!room:origin.example',
    sender: '@alice:origin.example',
    content: { body: 'hello' },
    depth: 2,
    prev_events: [`$${'P'.repeat(43)}`],
    auth_events: [`$${'A'.repeat(43)}`],
  },
  getRoomVersion('11'),
  { serverName: 'origin.example', keyId: 'ed25519:o1', key: origin.key, now },
).event;

describe('the guide "Find and trust a server\'s keys"', () => {
  it("verifies an event with the origin's own keys", async () => {
    const net = network();
    expect(await checkEvent(makeKeyring(net, config, now), pdu, '11')).toEqual({ result: 'valid' });
  });

  it('falls back to the notary when the origin is down, once the notary has its keys', async () => {
    const net = network();
    // The notary fetches and caches the origin's keys while it is up.
    const first = makeKeyring(net, config, now);
    const status = await net.fetchJson('notary.example', {
      method: 'GET',
      path: '/_matrix/key/v2/query/origin.example',
    });
    expect((status as JsonObject).server_keys).toHaveLength(1);
    net.up.delete('origin.example');
    expect(await checkEvent(first, pdu, '11')).toEqual({ result: 'valid' });
  });

  it("refuses keys from a notary that changed the origin's response", async () => {
    const net = network();
    await net.fetchJson('notary.example', { method: 'GET', path: '/_matrix/key/v2/query/origin.example' });
    net.up.delete('origin.example');
    net.tamper = true;
    const check = await checkEvent(makeKeyring(net, config, now), pdu, '11');
    expect(check.result).toBe('invalid');
  });

  it('answers malformed notary queries with 400', async () => {
    const endpoint = notaryEndpoint(makeKeyring(network(), config, now), notaryId);
    expect((await endpoint('POST', '/_matrix/key/v2/query', { server_keys: [] })).status).toBe(400);
    expect((await endpoint('GET', '/_matrix/key/v2/other', undefined)).status).toBe(404);
  });
});
