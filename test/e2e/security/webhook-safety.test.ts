/**
 * Issue 11, webhook attacks against a running Switchboard over real HTTP (admin API in, real receivers out):
 * - SSRF: with delivery.refuse_private_targets on, apply refuses a loopback URL, and a host NAME that resolves to a
 *   non-public address (this machine's own host name) is refused at send time, after DNS: nothing reaches it.
 * - A token or URL change applies only to deliveries created after it: a pending (retrying) delivery keeps its URL
 *   and X-Pbx-Token; the next delivery uses the new ones.
 * - A hanging webhook-object receiver does not starve the global webhook: it holds at most
 *   delivery.per_endpoint_concurrency requests, and global events arrive while those requests are still hanging.
 */
import { lookup } from 'node:dns/promises';
import { hostname } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { nonPublicAddressKind } from '../../../src/common/private-address.js';
import type { PbxConfig } from '../../../src/config/index.js';
import type { HostLookup } from '../../../src/events/index.js';
import { ADMIN, apiClient, type ApiClient } from '../../support/integration-http.js';
import { startTestSwitchboard, type TestSwitchboard } from '../../support/switchboard.js';
import { Receiver } from '../webhooks/receiver.js';

let sb: TestSwitchboard | undefined;
let api: ApiClient | undefined;
const receivers: Receiver[] = [];

async function receiver(): Promise<Receiver> {
  const r = new Receiver();
  await r.up();
  receivers.push(r);
  return r;
}

async function start(mutate: (c: PbxConfig) => void, lookup?: HostLookup): Promise<{ sb: TestSwitchboard; api: ApiClient }> {
  sb = await startTestSwitchboard({ mutate, extra: { dispatcher: { pollIntervalMs: 50, jitter: 0, ...(lookup ? { lookup } : {}) } } });
  api = apiClient(sb.baseUrl);
  return { sb, api };
}

afterEach(async () => {
  await api?.close();
  // Receivers first: a hanging one drops its requests, so stopping the dispatcher need not wait out their timeout.
  for (const r of receivers.splice(0)) await r.down();
  await sb?.stop();
  sb = undefined;
  api = undefined;
});

type Delivery = { delivery_id: string; status: string; endpoint_url: string; last_error: string | null };

async function delivery(a: ApiClient, id: string): Promise<Delivery> {
  return (await a.get<{ delivery: Delivery }>(`${ADMIN}/webhooks/deliveries/${id}`)).json.data!.delivery;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function sendTest(a: ApiClient, body: Record<string, string>): Promise<string> {
  const r = await a.post<{ delivery_id: string }>(`${ADMIN}/webhooks/test`, body);
  expect(r.status, r.text).toBe(202);
  return r.json.data!.delivery_id;
}

describe('SSRF: delivery.refuse_private_targets', () => {
  it('refuses a loopback URL at apply, and a host name resolving to a non-public address at send time', async () => {
    const rx = await receiver();
    // This machine's own name resolves through /etc/hosts (or DNS) to a loopback or private address.
    const host = hostname();
    const resolved = await lookup(host);
    expect(nonPublicAddressKind(resolved.address), `${host} → ${resolved.address}`).not.toBeNull();
    const byName = `http://${host}:${rx.port}/hook`;
    const { api: a } = await start((c) => {
      c.delivery.refuse_private_targets = true;
      c.webhook = { ...c.webhook, url: byName };
      for (const f of c.flows) for (const n of f.nodes) if (n.type === 'webhook') n.url = `http://${host}:${rx.port}/lead`;
    });

    expect((await a.send('PATCH', `${ADMIN}/webhook`, { url: `http://127.0.0.1:${rx.port}/hook` })).status).toBe(200);
    const refused = await a.post<{ errors: string[] }>(`${ADMIN}/apply`);
    expect(refused.status).toBe(400);
    expect(refused.json.data!.errors.join('\n')).toContain(`webhook.url: 'http://127.0.0.1:${rx.port}/hook' names a loopback address, which delivery.refuse_private_targets refuses`);
    expect((await a.send('DELETE', `${ADMIN}/config/staged`)).status).toBe(200);

    const id = await sendTest(a, { type: 'user_inbound' });
    const failed = await until('the delivery to fail', async () => {
      const d = await delivery(a, id);
      return d.status === 'failed' ? d : undefined;
    });
    expect(failed.endpoint_url).toBe(byName);
    expect(failed.last_error).toContain(`refused by delivery.refuse_private_targets: ${host} resolves to`);
    expect(failed.last_error).toContain(`(${resolved.address})`);
    expect(rx.received).toHaveLength(0);
  });
});

describe('SSRF at send time through the resolver seam (no /etc/hosts edit): a name that resolves to 127.0.0.1', () => {
  const NAME = 'crm.example.test';
  /** Resolves NAME with `answers` in turn (the last one repeats), and counts the queries. */
  const resolver = (answers: string[]): HostLookup & { queries: number } => {
    const f = Object.assign(async (host: string) => {
      if (host !== NAME) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
      const address = answers[Math.min(f.queries++, answers.length - 1)]!;
      return [{ address, family: 4 }];
    }, { queries: 0 });
    return f;
  };
  const hookOn = (port: number) => (refuse: boolean) => (c: PbxConfig): void => {
    c.delivery.refuse_private_targets = refuse;
    c.delivery.retry_schedule_s = [1];
    c.webhook = { ...c.webhook, url: `http://${NAME}:${port}/hook` };
  };

  it('is refused with refuse_private_targets on: the delivery fails naming the address, nothing reaches the receiver', async () => {
    const rx = await receiver();
    const lookup = resolver(['127.0.0.1']);
    const { api: a } = await start(hookOn(rx.port)(true), lookup);
    const id = await sendTest(a, { type: 'user_inbound' });
    const failed = await until('the delivery to fail', async () => {
      const d = await delivery(a, id);
      return d.status === 'failed' ? d : undefined;
    });
    expect(failed.last_error).toBe(`refused by delivery.refuse_private_targets: ${NAME} resolves to a loopback address (127.0.0.1)`);
    expect(lookup.queries).toBeGreaterThanOrEqual(1);
    expect(rx.received).toHaveLength(0);
  });

  it('is delivered with refuse_private_targets off (the seam is what the connection resolves with)', async () => {
    const rx = await receiver();
    const lookup = resolver(['127.0.0.1']);
    const { api: a } = await start(hookOn(rx.port)(false), lookup);
    const id = await sendTest(a, { type: 'user_inbound' });
    await until('the delivery to succeed', async () => ((await delivery(a, id)).status === 'succeeded' ? true : undefined));
    expect(rx.received).toHaveLength(1);
    expect(lookup.queries).toBeGreaterThanOrEqual(1);
  });

  it('is refused when the name answers a public address to the check and 127.0.0.1 to the connection (DNS rebinding)', async () => {
    const rx = await receiver();
    const lookup = resolver(['93.184.216.34', '127.0.0.1']);
    const { api: a } = await start(hookOn(rx.port)(true), lookup);
    const id = await sendTest(a, { type: 'user_inbound' });
    const failed = await until('the delivery to fail', async () => {
      const d = await delivery(a, id);
      return d.status === 'failed' ? d : undefined;
    });
    expect(failed.last_error).toContain(`${NAME} resolves to a loopback address (127.0.0.1)`);
    expect(lookup.queries).toBeGreaterThanOrEqual(2);
    expect(rx.received).toHaveLength(0);
  });
});

describe('a webhook URL or token change applies only to deliveries created after it', () => {
  it('a pending delivery is retried to its old URL with its old token; the next one goes to the new URL with the new token', async () => {
    const oldRx = await receiver();
    const newRx = await receiver();
    // The old receiver fails the first attempt, so the delivery is pending (retrying) across the change.
    oldRx.script = (_r, i) => (i === 0 ? { status: 503 } : { status: 200 });
    const { api: a } = await start((c) => {
      c.webhook = { ...c.webhook, url: oldRx.url('/hook'), secret_token: 'old-token', enabled: true };
      c.delivery.retry_schedule_s = [2];
    });
    const pending = await sendTest(a, { type: 'user_inbound' });
    await oldRx.waitFor(() => oldRx.received.length === 1, 10_000, 'the first attempt');
    expect((await delivery(a, pending)).status).toBe('pending');

    expect((await a.send('PATCH', `${ADMIN}/webhook`, { url: newRx.url('/hook'), secret_token: 'new-token' })).status).toBe(200);
    expect((await a.post(`${ADMIN}/apply`)).status).toBe(200);
    const fresh = await sendTest(a, { type: 'user_inbound' });

    await oldRx.waitFor(() => oldRx.received.length === 2, 10_000, 'the retry');
    await newRx.waitFor(() => newRx.received.length === 1, 10_000, 'the new delivery');
    expect(oldRx.received.map((r) => r.headers['x-pbx-token'])).toEqual(['old-token', 'old-token']);
    expect(oldRx.received[1]!.headers['webhook-id']).toBe(pending);
    expect(newRx.received[0]!.headers['x-pbx-token']).toBe('new-token');
    expect(newRx.received[0]!.headers['webhook-id']).toBe(fresh);
    await until('both delivered', async () => ((await delivery(a, pending)).status === 'succeeded' && (await delivery(a, fresh)).status === 'succeeded' ? true : undefined));
  });
});

describe('one slow endpoint does not starve the global webhook', () => {
  it('a hanging webhook-object receiver holds at most per_endpoint_concurrency requests; global events arrive meanwhile', async () => {
    const slow = await receiver();
    const fast = await receiver();
    slow.script = () => 'hang';
    const { sb: s, api: a } = await start((c) => {
      c.webhook = { ...c.webhook, url: fast.url('/hook'), enabled: true };
      for (const f of c.flows) for (const n of f.nodes) if (n.type === 'webhook') n.url = slow.url('/lead');
      c.delivery.timeout_ms = 15_000;
      c.delivery.concurrency = 16;
      c.delivery.per_endpoint_concurrency = 4;
    });
    // More hanging deliveries than the whole dispatcher has slots.
    for (let i = 0; i < 24; i++) await sendTest(a, { type: 'webhook_component_event', component_name: 'New lead' });
    await slow.waitFor(() => slow.received.length === 4, 10_000, 'the slow endpoint to hold its share');
    for (let i = 0; i < 10; i++) await sendTest(a, { type: 'user_inbound' });
    await fast.waitFor(() => fast.received.length === 10, 10_000, 'the global events');
    // All ten arrived while the slow receiver still holds its four requests unanswered (none timed out yet).
    expect(slow.received).toHaveLength(4);
    expect(slow.received.every((r) => r.answeredAt === null)).toBe(true);
    expect(s.dispatcher.stats().inflight).toBeGreaterThanOrEqual(4);
  });
});
