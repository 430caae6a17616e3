/**
 * The webhook object in a flow (SPEC.md §1/§3, issue #4), end to end on the demo flow `new-lead`
 * (webhook object "New lead" → queue Support): the call passes the object and its agents ring at once while a
 * deliberately slow receiver gets the `webhook_component_event` at the object's own URL, with the object's custom
 * headers and X-Pbx-Token, through the real dispatcher.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDispatcher, type Dispatcher } from '../../../src/events/index.js';
import type { TestPhone } from '../../../src/sip/phone/index.js';
import { demoConfig, eventually, startEngineHarness, type EngineHarness } from '../../support/engine-harness.js';
import { answerAfter } from '../../support/engine-calls.js';
import { Receiver } from '../webhooks/receiver.js';
import { compat, registerAgents } from './queue-support.js';

const DID = '+61390000001';

describe('webhook object in a call flow', () => {
  let h: EngineHarness;
  let receiver: Receiver;
  let dispatcher: Dispatcher;
  let phones: Record<string, TestPhone>;
  let caller: TestPhone;

  beforeAll(async () => {
    receiver = new Receiver();
    await receiver.up();
    receiver.script = () => ({ status: 200, delayMs: 1500 });
    const config = demoConfig();
    const node = config.flows.find((f) => f.id === 'new-lead')!.nodes[0] as { url: string; headers: Record<string, string> };
    node.url = receiver.url('/lead');
    node.headers = { 'X-Tenant': 'acme', 'X-Source': 'switchboard-test' };
    let wake = (): void => undefined;
    h = await startEngineHarness({ config, engine: { onCommitted: () => wake() } });
    dispatcher = createDispatcher({ store: h.store, getConfig: () => h.config.live().config, log: h.log, version: 'test', pollIntervalMs: 50 });
    dispatcher.start();
    wake = () => dispatcher.wake();
    phones = await registerAgents(h, ['alice-desk', 'bob-desk']);
    caller = await h.phone('61400999000');
  }, 30_000);
  afterAll(async () => {
    await caller?.close();
    await dispatcher?.stop();
    await h?.close({ removeDb: true });
    await receiver?.down();
  });

  it('queues webhook_component_event for the object\'s URL with its headers and token; the call goes on at once', async () => {
    phones['alice-desk']!.onIncoming = answerAfter(100);
    phones['bob-desk']!.onIncoming = () => undefined;
    const t0 = Date.now();
    const out = caller.call(`sip:${DID}@${h.domain}`);
    const agentRang = await phones['alice-desk']!.waitForIncoming(3000);
    void agentRang;
    // The agent rings before the (1.5 s slow) receiver has even answered: delivery never delays the call.
    expect(Date.now() - t0).toBeLessThan(1000);
    await out.waitFor('answered', 3000);
    await receiver.waitFor(() => receiver.received.some((r) => r.path === '/lead'), 8000, 'the component delivery');
    const got = receiver.received.find((r) => r.path === '/lead')!;
    expect(got.headers['x-pbx-token']).toBe('demo-token');
    expect(got.headers['x-tenant']).toBe('acme');
    expect(got.headers['x-source']).toBe('switchboard-test');
    expect(got.headers['content-type']).toMatch(/^application\/json/);
    await out.bye();
    // With the dispatcher running, events leave the undispatched outbox: read them back by delivery and event id.
    const body = JSON.parse(got.body) as Record<string, unknown>;
    const id = body['unique_call_id'] as string;
    const deliveries = await h.store.listDeliveries({ unique_call_id: id, offset: 0, limit: 100 });
    expect(deliveries.map((d) => d.endpoint_url)).toEqual([receiver.url('/lead')]);
    const wce = (await h.store.getEvent(deliveries[0]!.event_id))!;
    expect(wce.sequence).toBe(1);
    expect(wce.endpoint).toEqual({ kind: 'component', url: receiver.url('/lead'), secret_token: 'demo-token', headers: { 'X-Tenant': 'acme', 'X-Source': 'switchboard-test' } });
    expect(compat(wce)).toEqual({
      type: 'webhook_component_event', unique_call_id: id, user_name: null, user_number: '61400999000', dest_number: '61390000001',
      call_start_at: wce.payload['call_start_at'], component_name: 'New lead',
    });
    expect(body).toEqual(wce.payload);
    await eventually(async () => (await h.store.queryQueueCalls({ from: null, to: null, sort: 'newest_first', offset: 0, limit: 10, unique_call_id: id })).length === 1, 'queue row');
    const [row] = await h.store.queryQueueCalls({ from: null, to: null, sort: 'newest_first', offset: 0, limit: 10, unique_call_id: id });
    expect(row).toMatchObject({ group_name: 'Support', status: 'answered', user_number: '1001', call_start_at: wce.payload['call_start_at'] });
    // Only the component event goes to the object's URL; the global webhook is disabled in the demo.
    expect(receiver.received.filter((r) => r.path === '/lead')).toHaveLength(1);
  });
});
