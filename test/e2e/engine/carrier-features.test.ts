/**
 * Early media and session timers with the other side in charge, each with SIPp on both sides of the PBX, over UDP and
 * TCP: a carrier's 183 with its SDP reaches a device dialling out through the trunk (carrier ringback and
 * announcements), and a callee whose Min-SE is above our interval answers 422, which the PBX retries once with the
 * larger interval (RFC 4028 §7.4).
 */
import { describe, expect, it } from 'vitest';
import { demoConfig, eventually, type EngineHarness } from '../../support/engine-harness.js';
import { harnessPool } from '../../support/harness-pool.js';
import { sippOk as ok } from '../../support/sipp-expect.js';
import { freePort, killAllSipp, runSipp, type SippResult } from '../../support/sipp.js';
import { types } from '../../support/engine-calls.js';

const DID = '61390000000';
const harnesses = harnessPool({ removeDb: true, beforeClose: killAllSipp });


/** Event types of the harness's one call, once `last` arrived. */
async function callEvents(h: EngineHarness, last: string): Promise<string[]> {
  const events = await eventually(async () => {
    const all = await h.allEvents();
    return all.some((e) => e.type === last) ? all : undefined;
  }, 'the call to end');
  return types(events.sort((a, b) => a.sequence - b.sequence));
}

describe.concurrent.each(['udp', 'tcp'] as const)('carrier-side features over %s', (transport) => {
  const t = transport === 'udp' ? 'u1' : 't1';

  it('MUST pass the trunk\'s 183 with the carrier\'s SDP to a device dialling out, then the answer', async () => {
    const trunkPort = await freePort();
    const config = demoConfig();
    config.trunks[0] = { ...config.trunks[0]!, host: '127.0.0.1', port: trunkPort, transport };
    const h = await harnesses.start({ config });
    const pbx = transport === 'udp' ? h.sip : h.sipTcp;
    const trunk = await runSipp({ scenario: 'feat-trunk-early.xml', port: trunkPort, transport: t, calls: 1 });
    const caller = await runSipp({
      scenario: 'feat-caller-outbound-early.xml', target: `${pbx.address}:${pbx.port}`, transport: t, calls: 1,
      extra: ['-s', '+61299998888', '-key', 'domain', h.domain, '-au', 'alice-desk', '-ap', 'alice-desk-pw', '-auth_uri', `+61299998888@${h.domain}`],
    });
    ok(await caller.done, 'caller');
    ok(await trunk.done, 'trunk');
    expect(await callEvents(h, 'user_outbound_completed')).toEqual(['user_outbound', 'user_outbound_answered', 'user_outbound_completed']);
  });

  it('MUST retry a callee\'s 422 once with its Min-SE as the session interval, and connect the call', async () => {
    const h = await harnesses.start();
    const pbx = transport === 'udp' ? h.sip : h.sipTcp;
    const target = `${pbx.address}:${pbx.port}`;
    const reg = await runSipp({
      scenario: 'engine-register.xml', target, transport: t, calls: 1,
      extra: ['-key', 'user', 'alice-desk', '-au', 'alice-desk', '-ap', 'alice-desk-pw', '-key', 'domain', h.domain, '-auth_uri', h.domain, '-key', 'expires', '600'],
    });
    ok(await reg.done, 'register');
    const device = await runSipp({ scenario: 'feat-device-422.xml', port: reg.port, transport: t, calls: 2 });
    const caller = await runSipp({ scenario: 'uac-invite-bye.xml', target, transport: t, calls: 1, extra: ['-s', DID, '-d', '300'] });
    ok(await caller.done, 'caller');
    ok(await device.done, 'device');
    expect(await callEvents(h, 'user_inbound_completed')).toEqual(['user_inbound', 'user_inbound_answered', 'user_inbound_completed']);
  });
});
