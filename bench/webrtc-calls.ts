/**
 * bench/webrtc-calls — calls per second from real browser phones (issue 13): Debian's chromium (playwright-core,
 * fake microphone) opens `--pages` softphone pages (/phone/), each signed in as its own device over ws://…/sip, and
 * each places `--calls` calls one after another to 1002, whose device is a registered SIPp answering with a G.711
 * pcap. Every call is anchored in rtpengine (media.driver rtpengine): ICE + DTLS-SRTP toward the browser, plain RTP
 * toward SIPp. A call counts when the page is connected AND its peer connection has received RTP (DTLS done, SIPp's
 * audio decrypted in the browser); then the page hangs up and waits for the end before the next call.
 *
 * Prints completed calls/s, the setup time (call() → 200 OK) and the time to first audio (call() → first inbound
 * RTP packet), p50/p95, and the CPU Switchboard (this process) and rtpengine used. Not a test: no assertions.
 *
 *   npx tsx bench/webrtc-calls.ts [--pages 4] [--calls 25]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { defaultVoicemailConfig } from '../src/config/index.js';
import { startTestSwitchboard } from '../test/support/switchboard.js';
import { freePort, killAllSipp, runSipp } from '../test/support/sipp.js';
import { startRtpengine } from '../test/support/rtpengine.js';
import { g711Pcap } from '../test/support/pcap-writer.js';
import { percentile, tonePcm } from '../test/support/rtp-peer.js';
import { buildConsole, CHROMIUM, webrtcChromiumArgs } from '../test/e2e/console/browser.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : dflt;
}

const pages = Number(arg('pages', '4'));
const callsPerPage = Number(arg('calls', '25'));
const DOMAIN = 'switchboard.local';

/** CPU seconds (user + system) of a process so far, from /proc/<pid>/stat. */
function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

const distDir = await buildConsole();
const daemon = await startRtpengine({ ports: 40 * pages + 100 });
const sb = await startTestSwitchboard({
  extra: { consoleDir: distDir },
  mutate: (c) => {
    c.media.driver = 'rtpengine';
    c.media.rtpengine = { ...c.media.rtpengine, ng_host: daemon.ng.host, ng_port: daemon.ng.port, recording_dir: daemon.recordingDir };
    c.sip.ws = { ...c.sip.ws, http_path: '/sip' };
    // Not recorded: the figure is the WebRTC anchoring, not rtpengine's pcap writing.
    for (const u of c.users) u.record = 'none';
    for (let i = 0; i < pages; i++) {
      c.users.push({
        name: `Web ${i}`, number: String(3000 + i), devices: [{ username: `web${i}`, password: `web${i}-pw` }],
        voicemail: defaultVoicemailConfig(), record: 'none', ring_timeout_s: 30, caller_id: null, dnd: false, forward: { always: null, busy: null, no_answer: null },
      });
    }
  },
});
const profile = mkdtempSync(join(tmpdir(), 'sb-bench-chromium-'));
const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: webrtcChromiumArgs() });
// tsx compiles the function handed to page.evaluate with esbuild's keepNames, which calls a __name helper the page lacks.
await context.addInitScript('window.__name = (f) => f;');

try {
  // The SIPp device: registered as bob-desk, answers every call with a 2 s G.711 tone, hangs up on the BYE.
  const port = await freePort();
  const reg = await runSipp({
    scenario: 'engine-register.xml', target: sb.sipTarget, port, calls: 1,
    extra: ['-key', 'user', 'bob-desk', '-au', 'bob-desk', '-ap', 'bob-desk-pw', '-key', 'domain', DOMAIN, '-auth_uri', DOMAIN, '-key', 'expires', '3600'],
  });
  if ((await reg.done).code !== 0) throw new Error('bob-desk did not register');
  const device = await runSipp({
    scenario: 'phone-uas-pcap.xml', port, calls: pages * callsPerPage, timeoutS: 600,
    extra: ['-mp', String(await freePort()), '-mi', '127.0.0.1', '-l', String(pages * 2)],
    files: { 'callee.pcap': g711Pcap(tonePcm(1000, 2000)) },
  });

  const opened: Page[] = [];
  for (let i = 0; i < pages; i++) {
    const page = await context.newPage();
    opened.push(page);
    await page.goto(`${sb.baseUrl}/phone/`);
    await page.waitForFunction(() => (document.getElementById('phone-server') as HTMLInputElement | null)?.value);
    await page.getByLabel('Device username').fill(`web${i}`);
    await page.getByLabel('Device password').fill(`web${i}-pw`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('status', { name: 'Registration' }).filter({ hasText: /^Registered$/ }).waitFor({ timeout: 30_000 });
  }
  console.log(`${pages} pages registered; ${callsPerPage} calls each to 1002 (SIPp)`);

  const cpu0 = { sb: process.cpuUsage(), rtpengine: cpuSeconds(daemon.pid) };
  const t0 = Date.now();
  // Each page runs its calls inside the page, through the page's own Phone (window.softphone).
  const results = await Promise.all(opened.map((page) => page.evaluate(async (n: number) => {
    type P = { state: { call: { state: string } | null }; call(t: string): Promise<void>; hangUp(): Promise<void>; peerConnection?: RTCPeerConnection };
    const phone = (window as unknown as { softphone: P }).softphone;
    const until = async (ok: () => boolean | Promise<boolean>, ms: number): Promise<boolean> => {
      const end = performance.now() + ms;
      while (performance.now() < end) { if (await ok()) return true; await new Promise((r) => setTimeout(r, 5)); }
      return false;
    };
    const received = async (): Promise<number> => {
      let n = 0;
      (await phone.peerConnection?.getStats())?.forEach((s: Record<string, unknown>) => { if (s['type'] === 'inbound-rtp') n += Number(s['packetsReceived'] ?? 0); });
      return n;
    };
    const out: { setupMs: number[]; audioMs: number[]; failed: number } = { setupMs: [], audioMs: [], failed: 0 };
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      try {
        await phone.call('1002');
        if (!(await until(() => phone.state.call?.state === 'connected', 10_000))) throw new Error('not connected');
        out.setupMs.push(performance.now() - t);
        if (!(await until(async () => (await received()) > 0, 10_000))) throw new Error('no audio');
        out.audioMs.push(performance.now() - t);
      } catch {
        out.failed++;
      }
      await phone.hangUp().catch(() => undefined);
      await until(() => !phone.state.call || phone.state.call.state === 'ended', 10_000);
    }
    return out;
  }, callsPerPage)));
  const seconds = (Date.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0.sb);
  const rtpCpu = cpuSeconds(daemon.pid) - cpu0.rtpengine;
  const setup = results.flatMap((r) => r.setupMs);
  const audio = results.flatMap((r) => r.audioMs);
  const failed = results.reduce((a, r) => a + r.failed, 0);
  const ms = (v: number): string => `${Math.round(v)} ms`;
  console.log(`calls with audio: ${audio.length} of ${pages * callsPerPage} (${failed} failed) in ${seconds.toFixed(1)} s = ${(audio.length / seconds).toFixed(2)} calls/s with ${pages} in flight`);
  console.log(`setup (call() → connected): p50 ${ms(percentile(setup, 50))}, p95 ${ms(percentile(setup, 95))}`);
  console.log(`first audio (call() → first inbound RTP in the browser): p50 ${ms(percentile(audio, 50))}, p95 ${ms(percentile(audio, 95))}`);
  console.log(`CPU per call: Switchboard ${((cpu.user + cpu.system) / 1000 / Math.max(1, audio.length)).toFixed(1)} ms, rtpengine ${(rtpCpu * 1000 / Math.max(1, audio.length)).toFixed(1)} ms`);
  device.kill();
  await device.done;
} finally {
  killAllSipp();
  await context.close();
  await sb.stop();
  await daemon.stop();
  rmSync(profile, { recursive: true, force: true });
  rmSync(distDir, { recursive: true, force: true });
}
