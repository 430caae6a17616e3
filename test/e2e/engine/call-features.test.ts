/**
 * Early media, 100rel/PRACK, in-dialog INFO/UPDATE relay and RFC 4028 session timers, each with SIPp on both sides
 * of the PBX (a caller dialling the DID +61390000000, whose flow rings user 1001, and alice-desk as a SIPp device
 * that registers and takes the call in one process), over UDP and over TCP.
 */
import { describe, expect, it } from 'vitest';
import { eventually, type EngineHarness } from '../../support/engine-harness.js';
import { harnessPool } from '../../support/harness-pool.js';
import { sippOk as ok } from '../../support/sipp-expect.js';
import { killAllSipp, runSipp, type SippResult } from '../../support/sipp.js';
import { types } from '../../support/engine-calls.js';

const DID = '61390000000';
const harnesses = harnessPool({ removeDb: true, beforeClose: killAllSipp });


/** A harness, alice-desk registered from a SIPp `deviceScenario`, and the caller's result from `callerScenario`. */
async function call(transport: 'udp' | 'tcp', deviceScenario: string | null, callerScenario: string, timeoutS = 20): Promise<{ h: EngineHarness; device: SippResult | null; caller: SippResult }> {
  const h = await harnesses.start();
  const pbx = transport === 'udp' ? h.sip : h.sipTcp;
  const target = `${pbx.address}:${pbx.port}`;
  const t = transport === 'udp' ? 'u1' : 't1';
  let device: Promise<SippResult> | null = null;
  if (deviceScenario) {
    // engine-register.xml from the port the device then listens on (SIPp binds it for TCP connections too).
    const reg = await runSipp({
      scenario: 'engine-register.xml', target, transport: t, calls: 1,
      extra: ['-key', 'user', 'alice-desk', '-au', 'alice-desk', '-ap', 'alice-desk-pw', '-key', 'domain', h.domain, '-auth_uri', h.domain, '-key', 'expires', '600'],
    });
    ok(await reg.done, 'register');
    device = (await runSipp({ scenario: deviceScenario, port: reg.port, transport: t, calls: 1, timeoutS })).done;
  }
  const caller = await runSipp({ scenario: callerScenario, target, transport: t, calls: 1, timeoutS, extra: ['-s', DID] });
  const c = await caller.done;
  return { h, device: device ? await device : null, caller: c };
}

/** The events of the one call the harness saw, once it has ended. */
async function callEvents(h: EngineHarness): Promise<string[]> {
  const events = await eventually(async () => {
    const all = await h.allEvents();
    return all.some((e) => e.type === 'user_inbound_completed') ? all : undefined;
  }, 'the call to end');
  return types(events.sort((a, b) => a.sequence - b.sequence));
}

describe.concurrent.each(['udp', 'tcp'] as const)('call features over %s', (transport) => {
  it('MUST pass a device\'s 183 with SDP to the caller as early media, then relay INFO (DTMF) and UPDATE both ways', async () => {
    const { h, device, caller } = await call(transport, 'feat-device-early.xml', 'feat-caller-early.xml');
    ok(caller, 'caller');
    ok(device!, 'device');
    expect(await callEvents(h)).toEqual(['user_inbound', 'user_inbound_answered', 'user_inbound_completed']);
  });

  it('MUST send every provisional reliably to a caller that requires 100rel, and PRACK a device that requires it', async () => {
    const { h, device, caller } = await call(transport, 'feat-device-100rel.xml', 'feat-caller-100rel.xml');
    ok(caller, 'caller');
    ok(device!, 'device');
    expect(await callEvents(h)).toEqual(['user_inbound', 'user_inbound_answered', 'user_inbound_completed']);
  });

  it('MUST answer 422 with Min-SE to a Session-Expires below the minimum', async () => {
    const { caller } = await call(transport, null, 'feat-caller-422.xml');
    ok(caller, 'caller');
  });

  it('MUST refresh the device it refreshes and BYE both sides when the caller stops refreshing', { timeout: 120_000 }, async () => {
    const { h, device, caller } = await call(transport, 'feat-device-st.xml', 'feat-caller-st.xml', 100);
    ok(caller, 'caller');
    ok(device!, 'device');
    expect(await callEvents(h)).toEqual(['user_inbound', 'user_inbound_answered', 'user_inbound_completed']);
  });
});
