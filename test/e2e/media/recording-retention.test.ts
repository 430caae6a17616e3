/**
 * Recording retention end to end (issue 9, `recordings.retention_days`): a whole Switchboard with a temp data dir
 * records a real call (SIPp with G.711 pcaps through the embedded endpoint), then its clock moves 31 days on and
 * the retention sweeper (run every 200 ms here) removes the WAV under <data dir>/recordings and then its row; the
 * admin API answers 404 for it. Beside it, rows written into the same store: an old one whose file is already gone
 * (its row goes), an old one whose path cannot be unlinked (a directory: its row stays, so nothing is orphaned) and
 * a recent one (kept with its file).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock, type Clock } from '../../../src/common/clock.js';
import type { RecordingRecord } from '../../../src/store/index.js';
import { eventually, startIntegrationPbx, type IntegrationPbx } from '../../support/integration-pbx.js';
import { startHookReceiver, type HookReceiver } from '../../support/integration-receiver.js';
import { finishCall, recordingCaller, recordingDevice } from '../../support/recording-sipp.js';

const DAY_MS = 86_400_000;
const ADMIN = { authorization: 'Bearer demo-admin-key' };

/** The system clock moved by `shiftMs` (timers are real, so SIP and HTTP behave as usual). */
function shiftedClock(): Clock & { shiftMs: number } {
  return { shiftMs: 0, now() { return Date.now() + this.shiftMs; }, setTimeout: systemClock.setTimeout, clearTimeout: systemClock.clearTimeout };
}

describe('recording retention (recordings.retention_days) on a running Switchboard', () => {
  const clock = shiftedClock();
  let pbx: IntegrationPbx;
  let hooks: HookReceiver;

  beforeAll(async () => {
    hooks = await startHookReceiver();
    pbx = await startIntegrationPbx({
      mutate: (c) => {
        c.recordings.retention_days = 30;
        c.webhook = { ...c.webhook, url: hooks.url('/hook'), enabled: true };
        c.numbers.push({ number: '+61390000009', flow: 'bob-only' });
        c.flows.push({ id: 'bob-only', nodes: [{ id: 'ring-bob', type: 'user', user: '1002', next: null }] });
      },
      extra: { clock, retention: { firstRunMs: 200, intervalMs: 200 } },
    });
  }, 60_000);
  afterAll(async () => {
    await pbx?.close();
    await hooks?.close();
  });

  it('removes a recorded call\'s WAV and then its row once it is older than retention_days; missing files are fine, a file that stays keeps its row', async () => {
    const uas = await recordingDevice(pbx, { user: 'bob-desk', password: 'bob-desk-pw', audio: { toneHz: 1000 }, audioMs: 3000 });
    const uac = await recordingCaller(pbx, { did: '61390000009', audio: { toneHz: 400 }, audioMs: 3000, pauseMs: 1500 });
    await finishCall(uac, uas);
    const [hook] = await hooks.waitFor((h) => h.body['type'] === 'recording_inbound', 1, 'recording_inbound', 20_000);
    const real = (await pbx.sb.store.getRecording(hook!.body['recording_id'] as string))!;
    // <data dir>/recordings (the test Switchboard's temp data dir).
    const dir = dirname(real.path);
    expect(basename(dir)).toBe('recordings');
    expect(existsSync(real.path)).toBe(true);

    // Rows of other calls in the same store and directory, dated by the clock as it will be after the move.
    const later = Date.now() + 31 * DAY_MS;
    const row = (n: number, ageDays: number): RecordingRecord => ({
      ...real, recording_id: `rec_${String(n).padStart(16, '0')}`, unique_call_id: `${real.unique_call_id}${n}`,
      path: join(dir, `rec_${n}.wav`), created_at: new Date(later - ageDays * DAY_MS).toISOString(),
    });
    const missing = row(1, 40);
    const stuck = row(2, 40);
    const recent = row(3, 5);
    mkdirSync(stuck.path);
    writeFileSync(join(stuck.path, 'keep'), 'x');
    writeFileSync(recent.path, Buffer.alloc(44));
    await pbx.sb.store.commit({ recordings: [missing, stuck, recent] });

    // Nothing is old yet: sweeps run and keep everything.
    await new Promise((r) => setTimeout(r, 600));
    expect(await pbx.sb.store.getRecording(real.recording_id)).toBeDefined();
    expect(await pbx.sb.store.getRecording(missing.recording_id)).toBeDefined();

    clock.shiftMs = 31 * DAY_MS;
    await eventually(async () => (await pbx.sb.store.getRecording(real.recording_id)) === undefined, 'the real recording swept', 15_000);
    expect(existsSync(real.path)).toBe(false);
    await eventually(async () => (await pbx.sb.store.getRecording(missing.recording_id)) === undefined, 'the row whose file was gone', 5_000);
    expect(await pbx.sb.store.getRecording(stuck.recording_id)).toBeDefined();
    expect(existsSync(stuck.path)).toBe(true);
    expect(await pbx.sb.store.getRecording(recent.recording_id)).toBeDefined();
    expect(existsSync(recent.path)).toBe(true);
    expect((await fetch(`${pbx.sb.baseUrl}/api/admin/recordings/${real.recording_id}`, { headers: ADMIN })).status).toBe(404);
    const list = await (await fetch(`${pbx.sb.baseUrl}/api/admin/recordings`, { headers: ADMIN })).json() as { data: Array<{ recording_id: string }> };
    expect(list.data.map((r) => r.recording_id).sort()).toEqual([stuck.recording_id, recent.recording_id].sort());
  }, 90_000);
});
