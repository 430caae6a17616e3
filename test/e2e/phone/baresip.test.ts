/**
 * A real softphone: two baresip 1.0.0 instances (Debian baresip-core; libre < 3.12, which fails a whole
 * authentication on any non-MD5 challenge) register with Switchboard over UDP and over TCP, alice-desk (1001)
 * calls extension 1002 and bob-desk answers automatically. Audio is checked end to end: each phone sends a sine of
 * its own frequency (ausine) and the WAV of what the other received (sndfile) carries it. Media is passed through,
 * so the RTP flows phone to phone.
 */
import { describe, expect, it } from 'vitest';
import { eventually } from '../../support/engine-harness.js';
import { harnessPool } from '../../support/harness-pool.js';
import { killAllBaresip, readWavPcm16, startBaresip, toneShare, type Baresip } from '../../support/baresip.js';
import { types } from '../../support/engine-calls.js';

const ALICE_HZ = 1000;
const BOB_HZ = 600;
const harnesses = harnessPool({ removeDb: true, beforeClose: killAllBaresip });

function heard(phone: Baresip, hz: number, otherHz: number): { share: number; other: number; seconds: number } {
  const files = phone.receivedWavs();
  expect(files, `no received-audio WAV in ${phone.dir}\n${phone.output().slice(-2000)}`).toHaveLength(1);
  const { rate, samples } = readWavPcm16(files[0]!);
  // Skip the first 200 ms (jitter buffer filling, codec start).
  const tail = samples.subarray(Math.min(samples.length, Math.round(rate * 0.2)));
  return { share: toneShare(tail, rate, hz), other: toneShare(tail, rate, otherHz), seconds: tail.length / rate };
}

describe.each(['udp', 'tcp'] as const)('baresip over %s', (transport) => {
  it('MUST register two baresip phones (one MD5 challenge), connect a call between them and carry each one\'s audio to the other', { timeout: 60_000 }, async () => {
    const h = await harnesses.start();
    const pbx = transport === 'udp' ? h.sip : h.sipTcp;
    const common = { domain: h.domain, pbx, transport };
    const alice = await startBaresip({ ...common, username: 'alice-desk', password: 'alice-desk-pw', toneHz: ALICE_HZ });
    const bob = await startBaresip({ ...common, username: 'bob-desk', password: 'bob-desk-pw', toneHz: BOB_HZ, autoAnswer: true });
    await eventually(() => {
      const users = h.engine.registrations().map((r) => r.username);
      return users.includes('alice-desk') && users.includes('bob-desk') ? true : undefined;
    }, 'both baresip phones registered', 15_000);
    expect(h.engine.registrations().find((r) => r.username === 'bob-desk')!.contact).toContain(`:${bob.sipPort}`);

    const dial = await alice.command('dial', `sip:1002@${h.domain}`);
    expect(dial.ok, dial.data).toBe(true);
    await bob.waitForEvent('CALL_ESTABLISHED', 15_000);
    await alice.waitForEvent('CALL_ESTABLISHED', 15_000);
    // Two seconds of audio both ways.
    await new Promise((r) => setTimeout(r, 2000));
    const hangup = await alice.command('hangup');
    expect(hangup.ok, hangup.data).toBe(true);
    await bob.waitForEvent('CALL_CLOSED', 20_000);

    const events = await eventually(async () => {
      const all = await h.allEvents();
      return all.filter((e) => e.type.endsWith('_completed')).length === 2 ? all : undefined;
    }, 'the call to end', 20_000);
    expect(types(events.sort((a, b) => a.sequence - b.sequence)))
      .toEqual(['user_outbound', 'user_inbound', 'user_inbound_answered', 'user_outbound_answered', 'user_outbound_completed', 'user_inbound_completed']);

    const atBob = heard(bob, ALICE_HZ, BOB_HZ);
    const atAlice = heard(alice, BOB_HZ, ALICE_HZ);
    expect(atBob.seconds, 'seconds of audio bob received').toBeGreaterThan(1);
    expect(atAlice.seconds, 'seconds of audio alice received').toBeGreaterThan(1);
    // G.711 keeps a sine nearly pure: most of the power is at the sender's frequency, little at the receiver's own.
    expect(atBob.share, `share of ${ALICE_HZ} Hz in what bob heard`).toBeGreaterThan(0.5);
    expect(atBob.other).toBeLessThan(0.05);
    expect(atAlice.share, `share of ${BOB_HZ} Hz in what alice heard`).toBeGreaterThan(0.5);
    expect(atAlice.other).toBeLessThan(0.05);
    alice.kill();
    bob.kill();
  });
});
