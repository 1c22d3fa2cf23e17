import { request } from 'node:http';
import type { EventVerifyKey } from 'matrix-serverlib/events';
import { SigningKey } from 'matrix-serverlib/signing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Authenticated,
  type OurServer,
  outgoingRequest,
  startReceiver,
} from '../../examples/sign-verify-request.ts';

const sender: OurServer = { name: 'a.example', keyId: 'ed25519:a1', key: new SigningKey(new Uint8Array(32).fill(1)) };
const receiver: OurServer = { name: 'b.example', keyId: 'ed25519:b1', key: new SigningKey(new Uint8Array(32).fill(2)) };
const keys = async (server: string, keyIds: readonly string[]) =>
  new Map<string, EventVerifyKey>(
    server === sender.name && keyIds.includes(sender.keyId)
      ? [[sender.keyId, { key: sender.key.verifyKey, validUntilTs: Date.now() + 3_600_000 }]]
      : [],
  );

// The receiving server: answers with what `authenticate` decided.
let server: Awaited<ReturnType<typeof startReceiver>>;
let base: string;
beforeAll(async () => {
  server = await startReceiver(receiver, keys);
  base = server.base;
});
afterAll(() => server.close());

async function send(method: string, path: string, init: { headers: Record<string, string>; body?: string }) {
  const res = await fetch(`${base}${path}`, { method, ...init });
  return { status: res.status, body: (await res.json()) as Authenticated };
}

describe('the guide "sign and verify a federation request"', () => {
  const path = '/_matrix/federation/v1/query/directory?room_alias=%23room%3Aa.example';

  it('authenticates a signed GET and a signed PUT with a body, over HTTP', async () => {
    const get = outgoingRequest(sender, receiver.name, 'GET', path);
    expect(await send('GET', path, get)).toEqual({ status: 200, body: { status: 200, origin: 'a.example' } });
    const txn = '/_matrix/federation/v1/send/1700000000000';
    const put = outgoingRequest(sender, receiver.name, 'PUT', txn, { origin: 'a.example', pdus: [], edus: [] });
    expect(await send('PUT', txn, put)).toEqual({ status: 200, body: { status: 200, origin: 'a.example' } });
  });

  it('refuses a request sent elsewhere than it was signed for (401)', async () => {
    const get = outgoingRequest(sender, receiver.name, 'GET', path);
    const other = '/_matrix/federation/v1/query/directory?room_alias=%23other%3Aa.example';
    expect((await send('GET', other, get)).status).toBe(401);
    expect((await send('DELETE', path, get)).status).toBe(401);
    const forSomeoneElse = outgoingRequest(sender, 'c.example', 'GET', path);
    expect((await send('GET', path, forSomeoneElse)).status).toBe(401);
  });

  it('refuses a changed body (401), an unsigned request (401) and a malformed header (400)', async () => {
    const txn = '/_matrix/federation/v1/send/1';
    const put = outgoingRequest(sender, receiver.name, 'PUT', txn, { pdus: [] });
    expect((await send('PUT', txn, { ...put, body: '{"pdus":[1]}' })).status).toBe(401);
    expect((await send('GET', path, { headers: {} })).status).toBe(401);
    const broken = { headers: { Authorization: 'X-Matrix origin="a.example",key="ed25519:a1",sig="AAA' } };
    expect((await send('GET', path, broken)).status).toBe(400);
    expect((await send('PUT', txn, { headers: put.headers, body: '{"pdus":' })).status).toBe(400);
  });

  it('reads every Authorization header, not only the first', async () => {
    const get = outgoingRequest(sender, receiver.name, 'GET', path);
    // Two header lines (fetch would join them into one): another scheme first.
    const status = await new Promise<number>((resolve, reject) => {
      const { hostname, port } = new URL(base);
      const headers = [
        ['Host', `${hostname}:${port}`],
        ['Authorization', 'Bearer something-else'],
        ['Authorization', get.headers.Authorization as string],
      ].flat();
      request({ host: hostname, port, path, method: 'GET', headers }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
        .on('error', reject)
        .end();
    });
    expect(status).toBe(200);
  });
});
