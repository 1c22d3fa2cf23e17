import type { JsonObject, JsonValue } from 'matrix-serverlib/canonicaljson';
import { buildEvent } from 'matrix-serverlib/events';
import type { KeyTransport } from 'matrix-serverlib/keys';
import { getRoomVersion } from 'matrix-serverlib/roomversions';
import { encodeBase64, SigningKey } from 'matrix-serverlib/signing';
import { describe, expect, it } from 'vitest';
import { checkEvent, type Identity, makeKeyring, notaryEndpoint, ourKeys } from '../../examples/trust-server-keys.ts';

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
const notaryConfig = {
  serverName: 'notary.example',
  keyId: 'ed25519:n1',
  publicKey: encodeBase64(notaryId.key.publicKey),
};

/** An in-process federation: the servers that are up, by name. */
class Network implements KeyTransport {
  readonly up = new Set(['origin.example', 'notary.example']);
  tamper = false;
  readonly #notary = notaryEndpoint(makeKeyring(this, notaryConfig, now), notaryId);

  async fetchJson(
    server: string,
    req: { method: 'GET' | 'POST'; path: string; body?: JsonObject },
  ): Promise<JsonValue> {
    if (!this.up.has(server)) throw new Error(`${server} is down`);
    if (server === 'origin.example' && req.path === '/_matrix/key/v2/server') return ourKeys(origin, NOW);
    if (server === 'notary.example') {
      const { status, body } = await this.#notary(req.method, req.path, req.body);
      if (status !== 200) throw new Error(`status ${status}`);
      if (this.tamper) {
        for (const entry of body.server_keys as JsonObject[]) entry.valid_until_ts = NOW + 365 * 86_400_000;
      }
      return body;
    }
    throw new Error('not found');
  }
}

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
    const net = new Network();
    expect(await checkEvent(makeKeyring(net, notaryConfig, now), pdu, '11')).toEqual({ result: 'valid' });
  });

  it('falls back to the notary when the origin is down, once the notary has its keys', async () => {
    const net = new Network();
    // The notary fetches and caches the origin's keys while it is up.
    const first = makeKeyring(net, notaryConfig, now);
    const status = await net.fetchJson('notary.example', {
      method: 'GET',
      path: '/_matrix/key/v2/query/origin.example',
    });
    expect((status as JsonObject).server_keys).toHaveLength(1);
    net.up.delete('origin.example');
    expect(await checkEvent(first, pdu, '11')).toEqual({ result: 'valid' });
  });

  it("refuses keys from a notary that changed the origin's response", async () => {
    const net = new Network();
    await net.fetchJson('notary.example', { method: 'GET', path: '/_matrix/key/v2/query/origin.example' });
    net.up.delete('origin.example');
    net.tamper = true;
    const check = await checkEvent(makeKeyring(net, notaryConfig, now), pdu, '11');
    expect(check.result).toBe('invalid');
  });

  it('answers malformed notary queries with 400', async () => {
    const endpoint = notaryEndpoint(makeKeyring(new Network(), notaryConfig, now), notaryId);
    expect((await endpoint('POST', '/_matrix/key/v2/query', { server_keys: [] })).status).toBe(400);
    expect((await endpoint('GET', '/_matrix/key/v2/other', undefined)).status).toBe(404);
  });
});
