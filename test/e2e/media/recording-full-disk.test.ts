/**
 * A full disk during a recorded call (issue 9: "a full disk — the call goes on, the recording is closed with what it
 * has and the event says so; nothing crashes"), end to end: `recordings.dir` is a real 48 KiB tmpfs mounted for this
 * file (we run as root; unmounted in afterAll) — about 1.5 s of stereo 8 kHz 16-bit audio. A SIPp caller and device
 * (Bob, `record: all`) talk for 3 s through the embedded endpoint: both finish their call normally (BYE answered),
 * `recording_inbound` still comes after `user_inbound_completed` with `recording_problems: ['disk-full']`, and its link
 * downloads a valid WAV of what fit, with the caller's tone in it. A second call while the disk is still full goes on
 * the same way, and Switchboard keeps answering its API.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startIntegrationPbx, type IntegrationPbx } from '../../support/integration-pbx.js';
import { startHookReceiver, type HookReceiver } from '../../support/integration-receiver.js';
import { downloadRecording, finishCall, recordingCaller, recordingDevice } from '../../support/recording-sipp.js';
import { dominantFrequency } from '../../support/rtp-peer.js';

const TMPFS_KIB = 48;
const TALK_MS = 3000;

describe('a full disk during a recorded call (recordings.dir on a 48 KiB tmpfs)', () => {
  let mountDir: string;
  let mounted = false;
  let tmp: string;
  let pbx: IntegrationPbx;
  let hooks: HookReceiver;

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'sb-fulldisk-'));
    mountDir = mkdtempSync(join(tmpdir(), 'sb-tmpfs-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${TMPFS_KIB}k,mode=0755`, 'tmpfs', mountDir], { stdio: 'pipe' });
    } catch (err) {
      throw new Error(`this test mounts a small tmpfs and needs root (mount -t tmpfs): ${(err as Error).message}`);
    }
    mounted = true;
    hooks = await startHookReceiver();
    pbx = await startIntegrationPbx({
      mutate: (c) => {
        c.recordings.dir = mountDir;
        c.webhook = { ...c.webhook, url: hooks.url('/hook'), enabled: true };
        c.numbers.push({ number: '+61390000009', flow: 'bob-only' });
        c.flows.push({ id: 'bob-only', nodes: [{ id: 'ring-bob', type: 'user', user: '1002', next: null }] });
      },
    });
  }, 60_000);
  afterAll(async () => {
    await pbx?.close();
    await hooks?.close();
    if (mounted) execFileSync('umount', [mountDir]);
    rmSync(mountDir, { recursive: true, force: true });
    rmSync(tmp, { recursive: true, force: true });
  }, 60_000);

  async function recordedCall() {
    const seen = new Set(hooks.hooks.map((h) => h.body['recording_id']).filter(Boolean));
    const uas = await recordingDevice(pbx, { user: 'bob-desk', password: 'bob-desk-pw', audio: { toneHz: 1000 }, audioMs: TALK_MS + 1500 });
    const uac = await recordingCaller(pbx, { did: '61390000009', audio: { toneHz: 400 }, audioMs: TALK_MS + 1500, pauseMs: TALK_MS });
    // Both SIPp scenarios end normally: the call was not cut when the disk filled (BYE sent and answered).
    await finishCall(uac, uas);
    const [rec] = await hooks.waitFor((h) => h.body['type'] === 'recording_inbound' && !seen.has(h.body['recording_id']), 1, 'recording_inbound', 20_000);
    const body = rec!.body;
    const ofCall = hooks.hooks.filter((h) => h.body['unique_call_id'] === body['unique_call_id']).map((h) => h.body['type']);
    expect(ofCall.indexOf('recording_inbound')).toBeGreaterThan(ofCall.indexOf('user_inbound_completed'));
    expect(ofCall).toContain('user_inbound_answered');
    return body;
  }

  it('the call goes on; the recording closes with what fit, and its event says disk-full', async () => {
    const body = await recordedCall();
    expect(body['recording_problems']).toContain('disk-full');
    const { wav } = await downloadRecording(pbx, body, tmp);
    expect(wav.channels).toBe(2);
    // What fit: less than the talk time, no more than the tmpfs holds, and it is audio, not garbage.
    expect(wav.durationMs).toBeLessThan(TALK_MS - 500);
    expect(wav.durationMs * 32).toBeLessThanOrEqual(TMPFS_KIB * 1024);
    expect(wav.durationMs).toBeGreaterThan(200);
    const left = dominantFrequency(wav.samples[0]!.subarray(Math.min(1600, wav.samples[0]!.length / 2)), [400, 1000]);
    expect(left.freqHz).toBe(400);
    const row = (await pbx.sb.store.getRecording(body['recording_id'] as string))!;
    expect(row.problems).toContain('disk-full');
    const fs = statfsSync(mountDir);
    expect(fs.bavail).toBeLessThanOrEqual(1);
  }, 90_000);

  it('a second call while the disk is still full also goes on and says so; Switchboard keeps answering', async () => {
    const body = await recordedCall();
    const problems = body['recording_problems'] as string[];
    expect(problems.some((p) => p === 'disk-full' || p === 'write-failed'), `problems ${JSON.stringify(problems)}`).toBe(true);
    const status = await fetch(`${pbx.sb.baseUrl}/api/integration/v2/get-system-status`, { headers: { token: 'demo-api-key' } });
    expect(status.status).toBe(200);
  }, 90_000);
});
