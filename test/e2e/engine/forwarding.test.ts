/**
 * Per-user call forwarding (always / busy / no answer, to an extension or through the trunk) and do-not-disturb,
 * with SIPp as the caller (DID +61390000000 → user 1001), as alice-desk and bob-desk, and as the trunk; over UDP
 * and TCP. The exact event sequence of each call is asserted: the forwarding user's `user_inbound` and
 * `user_inbound_completed`, then the target's own events in the same call.
 */
import { describe, expect, it } from 'vitest';
import type { PbxConfig, UserConfig } from '../../../src/config/index.js';
import { demoConfig, eventually } from '../../support/engine-harness.js';
import { harnessPool } from '../../support/harness-pool.js';
import { sippOk as ok } from '../../support/sipp-expect.js';
import { freePort, killAllSipp, runSipp, type SippResult } from '../../support/sipp.js';

const DID = '61390000000';
const PASSWORDS: Record<string, string> = { 'alice-desk': 'alice-desk-pw', 'bob-desk': 'bob-desk-pw' };
const harnesses = harnessPool({ removeDb: true, beforeClose: killAllSipp });


interface Case {
  alice: Partial<Pick<UserConfig, 'dnd'>> & { forward?: Partial<UserConfig['forward']> };
  /** SIPp scenario alice-desk runs (null: not registered); `never-rung`: an answering device that must not be rung. */
  aliceDevice: string | null;
  bobAnswers: boolean;
  trunkAnswers: boolean;
  caller: 'engine-uac-did.xml' | 'int-uac-unanswered.xml';
}

async function run(transport: 'udp' | 'tcp', c: Case): Promise<Array<[string, unknown]>> {
  const trunkPort = await freePort();
  const config: PbxConfig = demoConfig();
  const alice = config.users.find((u) => u.number === '1001')!;
  Object.assign(alice, { dnd: c.alice.dnd ?? false, forward: { ...alice.forward, ...c.alice.forward } });
  const node = config.flows.find((f) => f.id === 'alice-direct')!.nodes[0]! as { ring_timeout_s?: number; next: unknown };
  node.ring_timeout_s = 2;
  node.next = null;
  config.trunks[0] = { ...config.trunks[0]!, host: '127.0.0.1', port: trunkPort, transport };
  const h = await harnesses.start({ config, t1: 500 });
  const pbx = transport === 'udp' ? h.sip : h.sipTcp;
  const target = `${pbx.address}:${pbx.port}`;
  const t = transport === 'udp' ? 'u1' : 't1';
  const waits: Array<Promise<[string, SippResult]>> = [];
  const device = async (user: string, scenario: string, wait = true): Promise<void> => {
    const reg = await runSipp({ scenario: 'engine-register.xml', target, transport: t, calls: 1, extra: ['-key', 'user', user, '-au', user, '-ap', PASSWORDS[user]!, '-key', 'domain', h.domain, '-auth_uri', h.domain, '-key', 'expires', '600'] });
    ok(await reg.done, `${user} register`);
    const r = await runSipp({ scenario, port: reg.port, transport: t, calls: 1 });
    if (wait) waits.push(r.done.then((x) => [user, x]));
  };
  if (c.aliceDevice === 'never-rung') await device('alice-desk', 'engine-uas-device.xml', false);
  else if (c.aliceDevice) await device('alice-desk', c.aliceDevice);
  if (c.bobAnswers) await device('bob-desk', 'engine-uas-device.xml');
  if (c.trunkAnswers) {
    const r = await runSipp({ scenario: 'uas-answer.xml', port: trunkPort, transport: t, calls: 1, extra: ['-d', '100'] });
    waits.push(r.done.then((x) => ['trunk', x]));
  }
  const caller = await runSipp({ scenario: c.caller, target, transport: t, calls: 1, extra: ['-s', DID, '-d', '300'] });
  ok(await caller.done, 'caller');
  for (const [who, r] of await Promise.all(waits)) ok(r, who);
  const events = await eventually(async () => {
    const all = await h.allEvents();
    const last = all.filter((e) => e.type.endsWith('_completed')).length;
    return last >= (c.bobAnswers ? 2 : 1) ? all : undefined;
  }, 'the call to end');
  return events.sort((a, b) => a.sequence - b.sequence).map((e) => [e.type, e.payload['user_number']]);
}

const forwardedToBob: Array<[string, unknown]> = [
  ['user_inbound', '1001'], ['user_inbound_completed', '1001'],
  ['user_inbound', '1002'], ['user_inbound_answered', '1002'], ['user_inbound_completed', '1002'],
];

describe.concurrent.each(['udp', 'tcp'] as const)('forwarding and DND over %s', (transport) => {
  it('forward.always to an extension rings only the target; the forwarding user has a missed call', async () => {
    expect(await run(transport, { alice: { forward: { always: '1002' } }, aliceDevice: null, bobAnswers: true, trunkAnswers: false, caller: 'engine-uac-did.xml' }))
      .toEqual(forwardedToBob);
  });

  it('forward.always to an external number goes out through the trunk', async () => {
    expect(await run(transport, { alice: { forward: { always: '+61400000000' } }, aliceDevice: null, bobAnswers: false, trunkAnswers: true, caller: 'engine-uac-did.xml' }))
      .toEqual([['user_inbound', '1001'], ['user_inbound_completed', '1001']]);
  });

  it('forward.busy applies when every device answers 486', async () => {
    expect(await run(transport, { alice: { forward: { busy: '1002' } }, aliceDevice: 'uas-busy.xml', bobAnswers: true, trunkAnswers: false, caller: 'engine-uac-did.xml' }))
      .toEqual(forwardedToBob);
  });

  it('forward.no_answer applies when the devices ring out', async () => {
    expect(await run(transport, { alice: { forward: { no_answer: '1002' } }, aliceDevice: 'uas-ring-cancel.xml', bobAnswers: true, trunkAnswers: false, caller: 'engine-uac-did.xml' }))
      .toEqual(forwardedToBob);
  });

  it('dnd does not ring the devices: busy without forward.busy, forwarded with it', async () => {
    expect(await run(transport, { alice: { dnd: true }, aliceDevice: 'never-rung', bobAnswers: false, trunkAnswers: false, caller: 'int-uac-unanswered.xml' }))
      .toEqual([['user_inbound', '1001'], ['user_inbound_completed', '1001']]);
    expect(await run(transport, { alice: { dnd: true, forward: { busy: '1002' } }, aliceDevice: 'never-rung', bobAnswers: true, trunkAnswers: false, caller: 'engine-uac-did.xml' }))
      .toEqual(forwardedToBob);
  });
});
