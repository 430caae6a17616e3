/**
 * Engine lifecycle end to end: NAT (calls go to the address a device registered from), flows through webhook
 * objects and not-yet-built nodes, configuration versions kept per call, registrations that survive a restart
 * and expire on time.
 */
import { describe, expect, it } from 'vitest';
import { createResponse, type SipRequest } from '../../../src/sip/index.js';
import { demoConfig, eventually } from '../../support/engine-harness.js';
import { harnessPool } from '../../support/harness-pool.js';
import { answerAfter, ended, registerDevices, ringOnly, types } from '../../support/engine-calls.js';
import { rawStack, register } from '../../support/engine-sip.js';

const harnesses = harnessPool();
const start = harnesses.start;

describe('engine lifecycle', () => {
  it('reaches every contact of a device behind NAT at the address and port its REGISTER came from, not its Contact', async () => {
    const h = await start();
    const natted = await rawStack();
    try {
      const got: SipRequest[] = [];
      natted.onRequest = (req, ctx) => {
        got.push(req);
        if (req.method === 'INVITE') ctx.transaction?.respond(createResponse(req, 486, undefined, { toTag: 'nat1' }));
      };
      const { res } = await register(natted, h.sip, {
        username: 'alice-desk', password: 'alice-desk-pw', domain: h.domain, expires: 300,
        contacts: ['<sip:alice-desk@10.99.99.99:5060>', '<sip:alice-desk@10.99.99.99:5062;transport=udp>'],
      });
      expect(res?.status).toBe(200);
      const caller = await h.phone('61400555666');
      const out = caller.call(`sip:61390000000@${h.domain}`);
      await out.waitFor('failed');
      // Every contact of the device is rung, each through the address the REGISTER came from.
      const invites = got.filter((r) => r.method === 'INVITE').map((r) => r.uri).sort();
      expect(invites).toEqual(['sip:alice-desk@10.99.99.99:5060', 'sip:alice-desk@10.99.99.99:5062;transport=udp']);
    } finally {
      await natted.close();
    }
  });

  it('a webhook node commits a webhook_component_event for the object\'s own endpoint and goes on (to the queue: no agent registered → its next, voicemail → 480 until media exists)', async () => {
    const h = await start();
    const caller = await h.phone('61400777888');
    const out = caller.call(`sip:+61390000001@${h.domain}`);
    const fail = await out.waitFor<{ status: number }>('failed');
    expect(fail.status).toBe(480);
    const ev = await eventually(async () => (await h.allEvents()).find((e) => e.type === 'webhook_component_event'), 'component event');
    expect(ev.endpoint).toEqual({ kind: 'component', url: 'http://127.0.0.1:9000/lead', secret_token: 'demo-token', headers: {} });
    expect(ev.payload).toMatchObject({ type: 'webhook_component_event', user_name: null, user_number: '61400777888', dest_number: '61390000001', component_name: 'New lead', sequence: 1 });
    expect(ev.payload['call_start_at']).toMatch(/Z$/);
    const rec = await eventually(async () => (await h.store.getCall(ev.unique_call_id!))?.ended_at ? h.store.getCall(ev.unique_call_id!) : undefined, 'record');
    expect(rec?.hangup_cause).toBe('voicemail-unavailable');
  });

  it('a call keeps the configuration version it started with; the next call uses the applied one', async () => {
    const h = await start();
    const [desk] = await registerDevices(h, ['alice-desk'], ringOnly);
    const caller = await h.phone('61400999000');
    const first = caller.call(`sip:61390000000@${h.domain}`);
    const ringing = await desk!.waitForIncoming();
    const next = demoConfig();
    next.users[0]!.name = 'Alice Renamed';
    await h.config.stage(next);
    expect(await h.config.apply()).toEqual({ ok: true, version: 2 });
    ringing.answer();
    await first.waitFor('answered');
    await first.bye();
    desk!.onIncoming = answerAfter(10);
    const second = caller.call(`sip:61390000000@${h.domain}`);
    await second.waitFor('answered');
    await second.bye();
    const records = await eventually(async () => {
      const ids = [...new Set((await h.allEvents()).map((e) => e.unique_call_id!))];
      const recs = await Promise.all(ids.map((id) => h.store.getCall(id)));
      return recs.every((r) => r?.ended_at) && recs.length === 2 ? recs : undefined;
    }, 'two ended calls');
    expect(records.map((r) => [r!.config_version, r!.user_name])).toEqual([[1, 'Alice Smith'], [2, 'Alice Renamed']]);
  });

  it('registrations survive a restart and still route calls', async () => {
    const h1 = await start();
    const [desk] = await registerDevices(h1, ['alice-desk'], answerAfter(10));
    const dbFile = h1.dbFile;
    await h1.engine.stop();
    h1.srf.disconnect();
    await h1.lite.close();
    await h1.store.close();
    harnesses.forget(h1);
    const h2 = await start({ dbFile });
    expect((await h2.engine.status()).registered_devices).toBe(1);
    const caller = await h2.phone('61400123123');
    const out = caller.call(`sip:61390000000@${h2.domain}`);
    await out.waitFor('answered');
    await out.bye();
    await ended(desk!.activeCalls[0] ?? out);
    await desk!.close();
  });

  it('registrations expire on time and the purge timer deletes them from the store', async () => {
    const h = await start({ engine: { registrar: { expires: { minS: 1 } }, purgeIntervalMs: 200 } });
    const raw = await rawStack();
    try {
      const { res } = await register(raw, h.sip, { username: 'bob-desk', password: 'bob-desk-pw', domain: h.domain, contacts: ['<sip:bob@127.0.0.1:7001>'], expires: 1 });
      expect(res?.status).toBe(200);
      expect((await h.engine.status()).registered_devices).toBe(1);
      await eventually(async () => (await h.engine.status()).registered_devices === 0, 'binding expired', 3000);
      await eventually(async () => (await h.store.listRegistrations('bob-desk')).length === 0, 'row purged', 3000);
      expect(types(await h.allEvents())).toEqual([]);
    } finally {
      await raw.close();
    }
  });
});
