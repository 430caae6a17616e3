/**
 * Blind transfer (RFC 3515 REFER + RFC 5589), SIPp on every side, over UDP and TCP: the callee (alice-desk, 1001)
 * transfers the DID caller to extension 1002 (bob-desk), and the DID caller transfers alice-desk to an external number
 * through the trunk. Each scenario checks the SIP itself (202, NOTIFY message/sipfrag up to 200 OK, the target offered
 * the transferee's SDP, the transferee re-INVITEd with the target's SDP); the test checks the call's events.
 * Attended transfer: alice consults bob, takes a DID call and REFERs it with Replaces naming the consultation dialog
 * (SIPp writes that dialog to a file for the test); and an INVITE with Replaces taking over a bridged dialog. The
 * exact event sequences of both calls are asserted (docs/engine.md, "Attended transfer").
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { demoConfig, eventually, startEngineHarness, type EngineHarness } from '../../support/engine-harness.js';
import { sippOk as ok } from '../../support/sipp-expect.js';
import { freePort, killAllSipp, runSipp, type SippResult } from '../../support/sipp.js';

const DID = '61390000000';
const PASSWORDS: Record<string, string> = { 'alice-desk': 'alice-desk-pw', 'bob-desk': 'bob-desk-pw', 'bob-soft': 'bob-soft-pw' };
const harnesses: EngineHarness[] = [];

const tmp = mkdtempSync(join(tmpdir(), 'sb-transfer-'));

afterAll(async () => {
  killAllSipp();
  rmSync(tmp, { recursive: true, force: true });
  for (const h of harnesses) await h.close({ removeDb: true }).catch(() => undefined);
});


async function setup(transport: 'udp' | 'tcp'): Promise<{ h: EngineHarness; target: string; t: 'u1' | 't1'; trunkPort: number }> {
  const trunkPort = await freePort();
  const config = demoConfig();
  config.trunks[0] = { ...config.trunks[0]!, host: '127.0.0.1', port: trunkPort, transport };
  const h = await startEngineHarness({ config });
  harnesses.push(h);
  const pbx = transport === 'udp' ? h.sip : h.sipTcp;
  return { h, target: `${pbx.address}:${pbx.port}`, t: transport === 'udp' ? 'u1' : 't1', trunkPort };
}

/** Registers `user` from a fresh port and starts `scenario` there. */
async function device(s: Awaited<ReturnType<typeof setup>>, user: string, scenario: string, extra: string[] = []): Promise<{ done: Promise<SippResult> }> {
  const reg = await runSipp({
    scenario: 'engine-register.xml', target: s.target, transport: s.t, calls: 1,
    extra: ['-key', 'user', user, '-au', user, '-ap', PASSWORDS[user]!, '-key', 'domain', s.h.domain, '-auth_uri', s.h.domain, '-key', 'expires', '600'],
  });
  ok(await reg.done, `${user} register`);
  // Wrapped: an async function returning the bare promise would wait for SIPp to exit.
  return { done: (await runSipp({ scenario, port: reg.port, transport: s.t, calls: 1, timeoutS: 15, extra })).done };
}

/** [type, user_number] of every event, once `completed` *_completed events arrived. */
async function events(h: EngineHarness, completed: number): Promise<Array<[string, unknown]>> {
  const all = await eventually(async () => {
    const e = await h.allEvents();
    return e.filter((x) => x.type.endsWith('_completed')).length >= completed ? e : undefined;
  }, 'the call to end', 15_000);
  expect(new Set(all.map((e) => e.unique_call_id)).size, 'one call throughout').toBe(1);
  return all.sort((a, b) => a.sequence - b.sequence).map((e) => [e.type, e.payload['user_number']]);
}

describe.concurrent.each(['udp', 'tcp'] as const)('blind transfer over %s', (transport) => {
  it('MUST let the callee transfer the caller to an extension: 202, sipfrag NOTIFYs, the caller re-INVITEd to the new party', { timeout: 60_000 }, async () => {
    const s = await setup(transport);
    const bob = await device(s, 'bob-desk', 'transfer-target.xml');
    const alice = await device(s, 'alice-desk', 'transfer-callee-refers.xml', ['-key', 'target', '1002', '-key', 'domain', s.h.domain]);
    const caller = await runSipp({ scenario: 'transfer-caller-stays.xml', target: s.target, transport: s.t, calls: 1, timeoutS: 15, extra: ['-s', DID] });
    ok(await alice.done, 'alice (transferor)');
    ok(await caller.done, 'caller (transferee)');
    ok(await bob.done, 'bob (target)');
    expect(await events(s.h, 2)).toEqual([
      ['user_inbound', '1001'], ['user_inbound_answered', '1001'],
      ['user_inbound', '1002'], ['user_inbound_answered', '1002'], ['user_inbound_completed', '1001'],
      ['user_inbound_completed', '1002'],
    ]);
  });

  it('MUST let the caller transfer the callee to an external number through the trunk', { timeout: 60_000 }, async () => {
    const s = await setup(transport);
    const trunk = (await runSipp({ scenario: 'transfer-target.xml', port: s.trunkPort, transport: s.t, calls: 1, timeoutS: 15 })).done;
    const alice = await device(s, 'alice-desk', 'transfer-callee-stays.xml');
    const caller = await runSipp({
      scenario: 'transfer-caller-refers.xml', target: s.target, transport: s.t, calls: 1, timeoutS: 15,
      extra: ['-s', DID, '-key', 'target', '+61299998888', '-key', 'domain', s.h.domain],
    });
    ok(await caller.done, 'caller (transferor)');
    ok(await alice.done, 'alice (transferee)');
    ok(await trunk, 'trunk (target)');
    expect(await events(s.h, 1)).toEqual([['user_inbound', '1001'], ['user_inbound_answered', '1001'], ['user_inbound_completed', '1001']]);
  });

  it('MUST refuse a REFER whose Replaces names no bridged dialog (403) or without a number (400), and report a target that cannot be reached (NOTIFY 480) with the call kept', { timeout: 60_000 }, async () => {
    const s = await setup(transport);
    const alice = await device(s, 'alice-desk', 'transfer-refused.xml', ['-key', 'target', '1002', '-key', 'domain', s.h.domain]);
    const caller = await runSipp({ scenario: 'uac-invite-remote-bye.xml', target: s.target, transport: s.t, calls: 1, timeoutS: 15, extra: ['-s', DID] });
    ok(await alice.done, 'alice (transferor)');
    ok(await caller.done, 'caller');
    expect(await events(s.h, 1)).toEqual([['user_inbound', '1001'], ['user_inbound_answered', '1001'], ['user_inbound_completed', '1001']]);
  });
});

/** The Replaces value a SIPp party wrote to `file` (its dialog, as the PBX sees it). */
async function dialogOf(file: string): Promise<string> {
  return eventually(() => {
    const v = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
    return /;to-tag=[^;]+;from-tag=/.test(v) ? v : undefined;
  }, `a dialog written to ${file}`, 15_000);
}

/** Every event per call, in order, once `completed` *_completed events arrived in all: [type, user_number]. */
async function eventsByCall(h: EngineHarness, completed: number): Promise<Map<string, Array<[string, unknown]>>> {
  const all = await eventually(async () => {
    const e = await h.allEvents();
    return e.filter((x) => x.type.endsWith('_completed')).length >= completed ? e : undefined;
  }, 'the calls to end', 20_000);
  const out = new Map<string, Array<[string, unknown]>>();
  for (const e of [...all].sort((a, b) => a.unique_call_id!.localeCompare(b.unique_call_id!) || a.sequence - b.sequence)) {
    const list = out.get(e.unique_call_id!) ?? [];
    list.push([e.type, e.payload['user_number']]);
    out.set(e.unique_call_id!, list);
  }
  return out;
}

describe.concurrent.each(['udp', 'tcp'] as const)('attended transfer over %s', (transport) => {
  it('MUST join the transferee and the consultation target on REFER with Replaces: NOTIFY 100/200, both re-INVITEd with the other\'s SDP, the consultation hung up', { timeout: 90_000 }, async () => {
    const s = await setup(transport);
    const file = join(tmp, `consult-${transport}`);
    // Alice (1001) first consults Bob (1002) from alice-desk, then takes the DID call on alice-desk and transfers it to him.
    const bob = await device(s, 'bob-desk', 'transfer-consult-target.xml');
    const consult = (await runSipp({
      scenario: 'transfer-consult.xml', target: s.target, transport: s.t, calls: 1, timeoutS: 40,
      extra: ['-s', '1002', '-key', 'domain', s.h.domain, '-key', 'user', 'alice-desk', '-au', 'alice-desk', '-ap', PASSWORDS['alice-desk']!,
        '-auth_uri', `1002@${s.h.domain}`, '-key', 'dialog_file', file],
    })).done;
    const replaces = encodeURIComponent(await dialogOf(file));
    const alice = await device(s, 'alice-desk', 'transfer-attended-refers.xml', ['-key', 'target', '1002', '-key', 'domain', s.h.domain, '-key', 'replaces', replaces]);
    const caller = await runSipp({ scenario: 'transfer-attended-transferee.xml', target: s.target, transport: s.t, calls: 1, timeoutS: 30, extra: ['-s', DID, '-d', '1500'] });
    ok(await alice.done, 'alice (transferor)');
    ok(await consult, 'alice (consultation call)');
    ok(await caller.done, 'caller (transferee)');
    ok(await bob.done, 'bob (target)');
    const calls = [...(await eventsByCall(s.h, 4)).values()];
    expect(calls).toHaveLength(2);
    // The consultation (an internal call, the older id) ends at the transfer: both its users complete there.
    expect(calls[0]).toEqual([
      ['user_outbound', '1001'], ['user_inbound', '1002'], ['user_inbound_answered', '1002'], ['user_outbound_answered', '1001'],
      ['user_outbound_completed', '1001'], ['user_inbound_completed', '1002'],
    ]);
    // The transferred call keeps its id: Alice leaves it at the transfer, Bob joins it then and completes at the end.
    expect(calls[1]).toEqual([
      ['user_inbound', '1001'], ['user_inbound_answered', '1001'],
      ['user_inbound', '1002'], ['user_inbound_answered', '1002'], ['user_inbound_completed', '1001'],
      ['user_inbound_completed', '1002'],
    ]);
  });

  it('MUST let an INVITE with Replaces take over a bridged dialog: the other party re-INVITEd with the newcomer\'s SDP, the replaced one BYEd', { timeout: 90_000 }, async () => {
    const s = await setup(transport);
    const file = join(tmp, `replaced-${transport}`);
    const alice = await device(s, 'alice-desk', 'transfer-replaced.xml', ['-key', 'dialog_file', file]);
    const caller = await runSipp({ scenario: 'transfer-attended-transferee.xml', target: s.target, transport: s.t, calls: 1, timeoutS: 30, extra: ['-s', DID, '-d', '1500'] });
    const replaces = await dialogOf(file);
    const bob = await runSipp({
      scenario: 'transfer-replacing-invite.xml', target: s.target, transport: s.t, calls: 1, timeoutS: 30,
      extra: ['-s', '1001', '-key', 'domain', s.h.domain, '-key', 'user', 'bob-soft', '-au', 'bob-soft', '-ap', PASSWORDS['bob-soft']!,
        '-auth_uri', `1001@${s.h.domain}`, '-key', 'replaces', replaces],
    });
    ok(await bob.done, 'bob-soft (replacing INVITE)');
    ok(await alice.done, 'alice (replaced)');
    ok(await caller.done, 'caller');
    const calls = [...(await eventsByCall(s.h, 2)).values()];
    expect(calls).toEqual([[
      ['user_inbound', '1001'], ['user_inbound_answered', '1001'],
      ['user_inbound', '1002'], ['user_inbound_answered', '1002'], ['user_inbound_completed', '1001'],
      ['user_inbound_completed', '1002'],
    ]]);
  });

  it('MUST answer 481 to an INVITE with Replaces naming no dialog of ours, after authentication', { timeout: 60_000 }, async () => {
    const s = await setup(transport);
    const r = await runSipp({
      scenario: 'transfer-replacing-unknown.xml', target: s.target, transport: s.t, calls: 1, timeoutS: 15,
      extra: ['-s', '1001', '-key', 'domain', s.h.domain, '-key', 'user', 'bob-soft', '-au', 'bob-soft', '-ap', PASSWORDS['bob-soft']!,
        '-auth_uri', `1001@${s.h.domain}`, '-key', 'replaces', 'nosuchcall@x;to-tag=a;from-tag=b'],
    });
    ok(await r.done, 'bob-soft (replacing nothing)');
    expect(await s.h.allEvents()).toEqual([]);
  });
});
