/**
 * Apply configuration while calls are in progress (SPEC.md §1 "apply configuration", issue 6): edits made through
 * the admin API are staged and take effect only at `POST /api/admin/apply`, atomically, as a new version; a call in
 * progress keeps the version it started with and ends normally; the next call uses the new version; a broken
 * staged configuration is refused with every error listed and the live version untouched.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { IncomingCall, PhoneCall } from '../../../src/sip/phone/index.js';
import { ADMIN, V2 } from '../../support/integration-http.js';
import { eventually, startIntegrationPbx, type IntegrationPbx } from '../../support/integration-pbx.js';
import { startHookReceiver, type HookReceiver } from '../../support/integration-receiver.js';

interface Row { unique_call_id: string; type: string; user_name: string; call_duration: number | null; conversation_duration: number | null }

function ended(call: PhoneCall, timeoutMs = 8000): Promise<unknown> {
  return call.state === 'ended' ? Promise.resolve(call.endInfo) : call.waitFor('ended', timeoutMs);
}

describe('apply configuration with calls in progress', () => {
  let pbx: IntegrationPbx;
  let rx: HookReceiver;
  const status = async () => (await pbx.api.get<{ config_version: number; active_calls: number }>(`${V2}/get-system-status`)).json.data!;
  const liveVersion = async () => (await pbx.api.get<{ version: number }>(`${ADMIN}/config/live`)).json.data!.version;
  const finishedRow = (id: string) => eventually(async () => {
    const r = await pbx.api.get<Row[]>(`${V2}/get-user-calls`, { unique_call_id: id });
    const row = r.json.data?.[0];
    return row && row.call_duration !== null ? row : undefined;
  }, `history row of ${id}`);
  const apply = async (): Promise<number> => {
    const r = await pbx.api.post<{ version: number }>(`${ADMIN}/apply`);
    expect(r.status, r.text).toBe(200);
    expect(r.json).toMatchObject({ code: 200, status: 'success' });
    return r.json.data!.version;
  };
  /** The unique_call_id of the newest call (the history API is the black-box way to learn it). */
  const newestCallId = () => eventually(async () => {
    const r = await pbx.api.get<Row[]>(`${V2}/get-user-calls`, { limit: 1 });
    return r.json.data?.[0]?.unique_call_id;
  }, 'newest call');

  beforeAll(async () => {
    rx = await startHookReceiver();
    pbx = await startIntegrationPbx({
      mutate: (c) => {
        c.webhook = { ...c.webhook, url: rx.url('/webhook'), enabled: true };
        const alice = c.users.find((u) => u.number === '1001')!;
        alice.ring_timeout_s = 4;
        // The demo trunk (127.0.0.1:5090) is never dialled here: click-to-call legs are left unanswered.
      },
    });
  });
  afterEach(async () => {
    await pbx.reset();
  });
  afterAll(async () => {
    await pbx?.close();
    await rx?.close();
  });

  it('a connected call survives an apply (rename + ring timeout + new user), ends normally on its version; the next call uses the new one', async () => {
    await pbx.phone('alice-desk', { onIncoming: (c: IncomingCall) => c.answer({ afterMs: 100 }) });
    const caller = await pbx.phone('61400999000', { register: false });
    const v0 = await liveVersion();

    const first = caller.call(`sip:+61390000000@${pbx.domain}`);
    await first.waitFor('answered', 8000);
    expect((await status()).active_calls).toBe(1);

    // A new device cannot register before its user is applied.
    const carolEarly = await pbx.phone('carol-desk', { password: 'carol-desk-pw', register: false });
    expect((await carolEarly.register()).ok).toBe(false);

    const patched = await pbx.api.send('PATCH', `${ADMIN}/users/1001`, { name: 'Alice Renamed', ring_timeout_s: 1 });
    expect(patched.status, patched.text).toBe(200);
    const added = await pbx.api.post(`${ADMIN}/users`, { name: 'Carol White', number: '1003', devices: [{ username: 'carol-desk', password: 'carol-desk-pw' }] });
    expect(added.status, added.text).toBeLessThan(300);
    const diff = await pbx.api.get<{ live_version: number; changes: Array<{ path: string }> }>(`${ADMIN}/config/diff`);
    expect(diff.json.data!.live_version).toBe(v0);
    expect(diff.json.data!.changes.length).toBeGreaterThanOrEqual(2);
    // Staged only: nothing changed for calls yet.
    expect(await liveVersion()).toBe(v0);

    const v1 = await apply();
    expect(v1).toBe(v0 + 1);
    expect(await status()).toMatchObject({ config_version: v1, active_calls: 1 });

    // The call in progress is untouched: still confirmed after the apply, and it ends normally with BYE.
    await new Promise((r) => setTimeout(r, 300));
    expect(first.state).toBe('confirmed');
    const byeRes = await first.bye();
    expect(byeRes?.status).toBe(200);
    // History rows appear when a call ends, so the call's id is learnt now.
    const firstId = await newestCallId();
    const firstRow = await finishedRow(firstId);
    expect(firstRow).toMatchObject({ type: 'user_inbound_answered', user_name: 'Alice Smith' });
    expect((await pbx.sb.store.getCall(firstId))?.config_version).toBe(v0);

    // The next call runs on the new version.
    const second = caller.call(`sip:+61390000000@${pbx.domain}`);
    await second.waitFor('answered', 8000);
    await second.bye();
    const secondId = await eventually(async () => {
      const id = await newestCallId();
      return id !== firstId ? id : undefined;
    }, 'second call id');
    expect(await finishedRow(secondId)).toMatchObject({ type: 'user_inbound_answered', user_name: 'Alice Renamed' });
    expect((await pbx.sb.store.getCall(secondId))?.config_version).toBe(v1);

    // And the user added by the apply exists now.
    const carol = await pbx.phone('carol-desk', { password: 'carol-desk-pw', register: false });
    expect((await carol.register()).ok).toBe(true);
  });

  it('a ringing click-to-call keeps its ring timeout across an apply that shortens it; the next one uses the shorter timeout', async () => {
    // Restore a known state: Alice rings for 4 s on the live version.
    expect((await pbx.api.send('PATCH', `${ADMIN}/users/1001`, { ring_timeout_s: 4 })).status).toBe(200);
    await apply();
    await pbx.phone('alice-desk', { onIncoming: (c: IncomingCall) => c.ring() });
    const r1 = await pbx.api.post<{ unique_call_id: string }>(`${V2}/call-to-number`, { user_number: '1001', number_to_call: '+61288887777' });
    expect(r1.status, r1.text).toBe(200);
    expect((await pbx.api.send('PATCH', `${ADMIN}/users/1001`, { ring_timeout_s: 1 })).status).toBe(200);
    await apply();
    const firstRow = await finishedRow(r1.json.data!.unique_call_id);
    expect(firstRow.type).toBe('user_outbound_missed');
    // It rang for its own version's 4 s, not the 1 s applied meanwhile.
    expect(firstRow.call_duration).toBeGreaterThanOrEqual(3);

    const r2 = await pbx.api.post<{ unique_call_id: string }>(`${V2}/call-to-number`, { user_number: '1001', number_to_call: '+61288887777' });
    expect(r2.status, r2.text).toBe(200);
    const secondRow = await finishedRow(r2.json.data!.unique_call_id);
    expect(secondRow.type).toBe('user_outbound_missed');
    expect(secondRow.call_duration).toBeLessThanOrEqual(2);
  });

  it('removing a device that is in a call: the call goes on and ends normally; later calls no longer ring that device', async () => {
    const desk = await pbx.phone('alice-desk', { onIncoming: (c: IncomingCall) => c.answer({ afterMs: 100 }) });
    const mobile = await pbx.phone('alice-mobile', { onIncoming: (c: IncomingCall) => c.ring() });
    const caller = await pbx.phone('61400999111', { register: false });
    const deskIn = desk.waitForIncoming();
    const first = caller.call(`sip:+61390000000@${pbx.domain}`);
    await first.waitFor('answered', 8000);
    const deskCall = await deskIn;
    await eventually(() => deskCall.state === 'confirmed', 'desk confirmed');

    const del = await pbx.api.send('DELETE', `${ADMIN}/devices/alice-desk`);
    expect(del.status, del.text).toBe(200);
    await apply();
    // Its binding lingers until it expires, but it is no longer counted as a registered device.
    const status = await pbx.api.get<{ registered_devices: number }>(`${V2}/get-system-status`);
    expect(status.json.data!.registered_devices).toBe(1);
    await new Promise((r) => setTimeout(r, 300));
    expect(first.state).toBe('confirmed');
    expect(deskCall.state).toBe('confirmed');
    expect((await first.bye())?.status).toBe(200);
    await ended(deskCall);
    expect(deskCall.endInfo).toMatchObject({ by: 'remote' });

    // The next call rings only the remaining device.
    let deskRang = false;
    desk.on('incoming', () => { deskRang = true; });
    mobile.onIncoming = (c: IncomingCall) => c.answer({ afterMs: 100 });
    const second = caller.call(`sip:+61390000000@${pbx.domain}`);
    await second.waitFor('answered', 8000);
    await second.bye();
    expect(deskRang).toBe(false);
    // And the removed device can no longer register.
    expect((await desk.register()).ok).toBe(false);
  });

  it('refuses a broken staged configuration with 400 listing every error, and leaves the live version untouched', async () => {
    const before = await liveVersion();
    const liveBefore = (await pbx.api.get<{ config: unknown }>(`${ADMIN}/config/live`)).json.data!.config;
    const n = await pbx.api.post(`${ADMIN}/numbers`, { number: '+61390000009', flow: 'no-such-flow' });
    expect(n.status, n.text).toBeLessThan(300);
    const g = await pbx.api.send('PATCH', `${ADMIN}/ring-groups/Sales`, { members: ['1001', '7777'] });
    expect(g.status, g.text).toBe(200);
    // A device username must be unique across the PBX (SPEC §1): refused now (409) or at apply.
    const dup = await pbx.api.post(`${ADMIN}/users`, { name: 'Dup', number: '1004', devices: [{ username: 'bob-desk', password: 'dup-pw-1' }] });
    expect([201, 200, 409]).toContain(dup.status);
    const dupStaged = dup.status < 300;

    const r = await pbx.api.post<{ errors: unknown[] }>(`${ADMIN}/apply`);
    expect(r.status, r.text).toBe(400);
    expect(r.json).toMatchObject({ code: 400, status: 'error' });
    const errors = r.json.data!.errors;
    expect(errors.length).toBeGreaterThanOrEqual(2);
    const text = JSON.stringify(errors);
    expect(text).toContain('no-such-flow');
    expect(text).toContain('7777');
    if (dupStaged) expect(text).toContain('bob-desk');

    expect(await liveVersion()).toBe(before);
    expect((await status()).config_version).toBe(before);
    expect((await pbx.api.get<{ config: unknown }>(`${ADMIN}/config/live`)).json.data!.config).toEqual(liveBefore);
    // The refused number is not routed: a call to it is refused, not sent into a flow.
    const caller = await pbx.phone('61400111222', { register: false });
    const out = caller.call(`sip:+61390000009@${pbx.domain}`);
    const fail = await out.waitFor<{ status: number }>('failed', 8000);
    expect(fail.status).toBeGreaterThanOrEqual(400);
    expect(await ended(out)).toMatchObject({ by: 'remote', status: fail.status });

    // Discarding the staged edits makes apply possible again.
    expect((await pbx.api.send('DELETE', `${ADMIN}/config/staged`)).status).toBe(200);
    const diff = await pbx.api.get<{ changes: unknown[] }>(`${ADMIN}/config/diff`);
    expect(diff.json.data!.changes).toEqual([]);
  });

  it('every event and the history row of a call keep its version\'s user name when an apply renames the user mid-call', async () => {
    const live = (await pbx.api.get<{ config: { users: Array<{ number: string; name: string }> } }>(`${ADMIN}/config/live`)).json.data!.config;
    const nameAtStart = live.users.find((u) => u.number === '1001')!.name;
    let ringing: IncomingCall | undefined;
    // alice-mobile: alice-desk was removed by an earlier test.
    await pbx.phone('alice-mobile', { onIncoming: (c: IncomingCall) => { c.ring(); ringing = c; } });
    const caller = await pbx.phone('61400444555', { register: false });
    const out = caller.call(`sip:+61390000000@${pbx.domain}`);
    await eventually(() => ringing, 'the desk rings');
    expect((await pbx.api.send('PATCH', `${ADMIN}/users/1001`, { name: 'Alice Mid-call' })).status).toBe(200);
    await apply();
    ringing!.answer();
    await out.waitFor('answered', 8000);
    await out.bye();
    const [done] = await rx.waitFor((h) => h.body['type'] === 'user_inbound_completed' && h.body['caller_id'] === '61400444555', 1, 'completed event');
    const id = String(done!.body['unique_call_id']);
    const hooks = rx.hooks.filter((h) => h.body['unique_call_id'] === id);
    expect(hooks.map((h) => h.body['type'])).toEqual(['user_inbound', 'user_inbound_answered', 'user_inbound_completed']);
    expect(hooks.map((h) => h.body['user_name'])).toEqual([nameAtStart, nameAtStart, nameAtStart]);
    expect((await finishedRow(id)).user_name).toBe(nameAtStart);
  });
});
