/**
 * The browser softphone page (issue 13) in Debian's chromium (playwright-core, fake microphone), against the whole
 * Switchboard with media.driver rtpengine on a real rtpengine-daemon: the page at http://127.0.0.1:<http>/phone/
 * signs in as a device over ws://…/sip (sip.ws.http_path, the page's own origin) and
 *  - calls a SIPp device that answers with a G.711 pcap: audio flows both ways (the browser's inbound-rtp counts
 *    packets and audio energy; SIPp's media socket has received RTP), DTMF goes as RFC 4733 in RTP, hold and
 *    resume re-INVITE the device (sendonly, then sendrecv), and the page hangs up (SIPp gets the BYE);
 *  - is called from a DID by SIPp with a pcap, answers in the page, audio flows both ways, and the caller hangs up;
 *  - is refused with the reason on a wrong password.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestSwitchboard, type TestSwitchboard } from '../../support/switchboard.js';
import { freePort, killAllSipp, runSipp } from '../../support/sipp.js';
import { requireRtpengine, startRtpengine, type RtpengineDaemon } from '../../support/rtpengine.js';
import { runTracedSipp, sippOk, tracedRequests } from '../../support/integration-pbx.js';
import { g711Pcap } from '../../support/pcap-writer.js';
import { tonePcm } from '../../support/rtp-peer.js';
import { eventually } from '../../support/eventually.js';
import { udpQueue } from '../../support/udp-queue.js';
import { buildConsole, CHROMIUM, webrtcChromiumArgs } from '../console/browser.js';

const run = requireRtpengine();
const DOMAIN = 'switchboard.local';
/** A whole call through a browser, rtpengine and SIPp: some 12 s, more on a loaded box (each wait has its own limit). */
const CALL_TEST_MS = 90_000;

/** What the page's peer connection says about its media (RTCPeerConnection.getStats()). */
interface MediaStats { packetsReceived: number; audioEnergy: number; packetsSent: number; dtls: string; ice: string; pair: string }

async function mediaStats(page: Page): Promise<MediaStats | null> {
  return page.evaluate(async () => {
    const pc = (window as unknown as { softphone?: { peerConnection?: RTCPeerConnection } }).softphone?.peerConnection;
    if (!pc) return null;
    const out = { packetsReceived: 0, audioEnergy: 0, packetsSent: 0, dtls: '', ice: pc.iceConnectionState as string, pair: '' };
    const stats = await pc.getStats();
    stats.forEach((s: Record<string, unknown>) => {
      if (s['type'] === 'inbound-rtp' && s['kind'] === 'audio') { out.packetsReceived += Number(s['packetsReceived'] ?? 0); out.audioEnergy += Number(s['totalAudioEnergy'] ?? 0); }
      if (s['type'] === 'outbound-rtp' && s['kind'] === 'audio') out.packetsSent += Number(s['packetsSent'] ?? 0);
      if (s['type'] === 'transport') {
        out.dtls = String(s['dtlsState']);
        const pair = s['selectedCandidatePairId'] ? stats.get(String(s['selectedCandidatePairId'])) : undefined;
        const local = pair ? stats.get(pair.localCandidateId) : undefined;
        const remote = pair ? stats.get(pair.remoteCandidateId) : undefined;
        if (local && remote) out.pair = `${local.address}:${local.port} -> ${remote.address}:${remote.port}`;
      }
    });
    return out;
  });
}

describe.runIf(run)('browser softphone page in Chromium, media through rtpengine', () => {
  let daemon: RtpengineDaemon;
  let sb: TestSwitchboard;
  let context: BrowserContext;
  let profile: string;
  let distDir: string;
  const pages: Page[] = [];
  const consoleLines = new Map<Page, string[]>();

  beforeAll(async () => {
    distDir = await buildConsole();
    daemon = await startRtpengine({ ports: 100, logLevel: 6 });
    sb = await startTestSwitchboard({
      extra: { consoleDir: distDir },
      mutate: (c) => {
        c.media.driver = 'rtpengine';
        c.media.rtpengine = { ...c.media.rtpengine, ng_host: daemon.ng.host, ng_port: daemon.ng.port, recording_dir: daemon.recordingDir };
        c.sip.ws = { ...c.sip.ws, http_path: '/sip' };
      },
    });
    profile = mkdtempSync(join(tmpdir(), 'sb-chromium-'));
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: webrtcChromiumArgs() });
  }, 120_000);

  afterEach(async ({ task }) => {
    if (task.result?.state === 'fail') {
      console.error(`rtpengine log (tail):\n${daemon.log().slice(-6000)}`);
      for (const p of pages) console.error(`page ${p.url()}:\n${await p.locator('body').innerText().catch(() => '?')}\nconsole:\n${(consoleLines.get(p) ?? []).join('\n')}`);
    }
    for (const p of pages.splice(0)) {
      await p.evaluate(() => (window as unknown as { softphone?: { signOut(): Promise<void> } }).softphone?.signOut()).catch(() => undefined);
      await p.close();
    }
    killAllSipp();
  });

  afterAll(async () => {
    killAllSipp();
    await context?.close();
    await sb?.stop();
    await daemon?.stop();
    if (profile) rmSync(profile, { recursive: true, force: true });
    if (distDir) rmSync(distDir, { recursive: true, force: true });
  });

  /** Opens /phone/ and signs in as `username` with its demo password; resolves once the page says Registered. */
  async function signedIn(username: string, password = `${username}-pw`): Promise<Page> {
    const page = await context.newPage();
    pages.push(page);
    const lines: string[] = [];
    consoleLines.set(page, lines);
    page.on('console', (m) => { lines.push(`${m.type()}: ${m.text()}`); });
    page.setDefaultTimeout(15_000);
    await page.goto(`${sb.baseUrl}/phone/`);
    // The page fills the server from /phone/config.json: the page's own origin at sip.ws.http_path.
    await expect.poll(() => page.getByLabel('WebSocket server').inputValue()).toBe(`ws://127.0.0.1:${sb.http.port}/sip`);
    expect(await page.getByLabel('SIP domain').inputValue()).toBe(DOMAIN);
    await page.getByLabel('Device username').fill(username);
    await page.getByLabel('Device password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    if (password === `${username}-pw`) await page.getByRole('status', { name: 'Registration' }).filter({ hasText: /^Registered$/ }).waitFor();
    // The password went into the digest answer only: not into the URL, not into storage.
    expect(page.url()).toBe(`${sb.baseUrl}/phone/`);
    expect(await page.evaluate(() => JSON.stringify(localStorage) + JSON.stringify(sessionStorage))).not.toContain(password);
    return page;
  }

  const callState = (page: Page) => page.getByRole('status', { name: 'Call state' });

  /** Waits until the browser has received `n` RTP packets with sound in them (the fake microphone is a beep). */
  async function browserHears(page: Page, n = 25): Promise<MediaStats> {
    return eventually(async () => {
      const s = await mediaStats(page);
      return s && s.packetsReceived >= n && s.audioEnergy > 0 ? s : null;
    }, `${n} RTP packets with audio in the browser (last: ${JSON.stringify(await mediaStats(page))})`, 20_000, 100);
  }

  /** Waits until SIPp's media socket has received RTP from the PBX. */
  async function sippHears(mediaPort: number): Promise<void> {
    await eventually(() => {
      const q = udpQueue(mediaPort);
      return q && q.queuedBytes + q.drops > 0;
    }, `RTP on SIPp's media port ${mediaPort} (queue ${JSON.stringify(udpQueue(mediaPort))})`, 20_000, 100);
  }

  it('calls a SIPp device: audio both ways, RFC 4733 DTMF, hold and resume, the page hangs up', async () => {
    const port = await freePort();
    const mediaPort = await freePort();
    const reg = await runSipp({
      scenario: 'engine-register.xml', target: sb.sipTarget, port, calls: 1,
      extra: ['-key', 'user', 'bob-desk', '-au', 'bob-desk', '-ap', 'bob-desk-pw', '-key', 'domain', DOMAIN, '-auth_uri', DOMAIN, '-key', 'expires', '600'],
    });
    sippOk(await reg.done, 'bob-desk register');
    const device = await runTracedSipp({
      scenario: 'phone-uas-pcap.xml', port, calls: 1, timeoutS: 60, extra: ['-mp', String(mediaPort), '-mi', '127.0.0.1'],
      files: { 'callee.pcap': g711Pcap(tonePcm(1000, 30_000)) },
    });
    try {
      const page = await signedIn('alice-desk');
      await page.getByLabel('Number or extension').fill('1002');
      await page.getByRole('button', { name: 'Call' }).click();
      await callState(page).filter({ hasText: 'Connected: 1002' }).waitFor();

      const heard = await browserHears(page);
      expect(heard.dtls).toBe('connected');
      // rtpengine's side of the selected pair is its one interface, 127.0.0.1 (Chromium pairs it with each of its
      // own host candidates, loopback included; every packet stays on this host).
      expect(heard.pair).toMatch(/ -> 127\.0\.0\.1:\d+$/);
      await sippHears(mediaPort);
      // The device offered the browser plain RTP/AVP G.711; the PBX gave it WebRTC (rtpengine's DTLS, ICE).
      const invite = tracedRequests(device.messages(), 'INVITE')[0]!;
      expect(invite).toMatch(/^m=audio \d+ RTP\/AVP .*\b0\b/m);
      expect(invite).not.toMatch(/^a=(ice-ufrag|fingerprint|crypto):/m);

      // The device answered telephone-event, so keys go as RFC 4733 events in the RTP stream.
      await page.getByRole('button', { name: 'Key 5' }).click();
      await page.getByRole('button', { name: 'Key #' }).click();
      await expect.poll(() => page.getByLabel('Digits sent').textContent()).toBe('5#');
      await expect.poll(() => page.getByRole('group', { name: 'Keypad' }).textContent()).toContain('RFC 4733 in RTP');

      await page.getByRole('button', { name: 'Hold' }).click();
      await callState(page).filter({ hasText: 'On hold: 1002' }).waitFor();
      await page.getByRole('button', { name: 'Resume' }).click();
      await callState(page).filter({ hasText: 'Connected: 1002' }).waitFor();
      const reinvites = tracedRequests(device.messages(), 'INVITE').slice(1).filter((m) => !/^CSeq: 1 INVITE/m.test(m));
      expect(reinvites.map((m) => /^a=(sendonly|inactive|sendrecv|recvonly)/m.exec(m)?.[1] ?? 'sendrecv')).toEqual(['sendonly', 'sendrecv']);
      // Audio still flows after the resume.
      const before = (await mediaStats(page))!.packetsReceived;
      await browserHears(page, before + 25);

      await page.getByRole('button', { name: 'Hang up' }).click();
      await callState(page).filter({ hasText: 'Call ended: hung up' }).waitFor();
      sippOk(await device.done, 'bob-desk device');
    } finally {
      device.cleanup();
    }
  }, CALL_TEST_MS);

  it('is called from a DID: answered in the page, audio both ways, the caller hangs up', async () => {
    const page = await signedIn('alice-desk');
    const mediaPort = await freePort();
    const caller = await runTracedSipp({
      scenario: 'rec-uac-pcap.xml', target: sb.sipTarget, calls: 1, timeoutS: 60,
      extra: ['-s', '61390000000', '-d', '6000', '-mp', String(mediaPort), '-mi', '127.0.0.1'],
      files: { 'caller.pcap': g711Pcap(tonePcm(700, 20_000)) },
    });
    try {
      await callState(page).filter({ hasText: 'Incoming call from' }).waitFor();
      await page.getByRole('button', { name: 'Answer' }).click();
      await callState(page).filter({ hasText: 'Connected:' }).waitFor();
      const heard = await browserHears(page);
      expect(heard.dtls).toBe('connected');
      await sippHears(mediaPort);
      // The caller hangs up after its 6 s: the page shows the call ended by the other side.
      await callState(page).filter({ hasText: 'Call ended: hung up by the other side' }).waitFor({ timeout: 30_000 });
      sippOk(await caller.done, 'DID caller');
    } finally {
      caller.cleanup();
    }
  }, CALL_TEST_MS);

  it('shows why a wrong password is refused', async () => {
    const page = await signedIn('alice-desk', 'not-the-password');
    await page.getByRole('status', { name: 'Registration' }).filter({ hasText: /Registration refused: 40[13]/ }).waitFor();
  });
});
