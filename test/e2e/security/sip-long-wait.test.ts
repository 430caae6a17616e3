/**
 * A caller who waits longer than the INVITE reaper (issue 11). Before: a queue caller got one 180 and, 180 s later,
 * a 408 from drachtio-lite's safety reaper although the engine was still serving the call. Now the engine repeats
 * its provisional every `sip.provisional_interval_s` (RFC 3261 §13.3.1.1) and the reaper never ends an INVITE an app
 * still holds. The timers are shortened through the configuration (reaper 3 s) so a 5 s wait outlasts it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { PbxConfig } from '../../../src/config/index.js';
import { TestPhone } from '../../../src/sip/phone/index.js';
import { startTestSwitchboard, type TestSwitchboard } from '../../support/switchboard.js';

const DOMAIN = 'switchboard.local';
const DID = '+61390000009';
const WAIT_MS = 5000;

/** A DID whose flow is only the Support queue, with Bob as its one agent and a 300 s max wait. */
function longWaitConfig(c: PbxConfig, provisionalS: number): void {
  c.sip.invite_reaper_s = 3;
  c.sip.provisional_interval_s = provisionalS;
  c.flows.push({ id: 'long-wait', nodes: [{ id: 'q', type: 'queue', queue: 'Support', next: null }] } as PbxConfig['flows'][number]);
  c.numbers.push({ number: DID, flow: 'long-wait' } as PbxConfig['numbers'][number]);
  const q = c.queues.find((x) => x.name === 'Support')!;
  q.agents = ['1002'];
  q.max_wait_s = 300;
}

/** A DID call into the queue; the one agent rings at once and answers only after {@link WAIT_MS}. */
async function waitInQueueThenAnswer(sb: TestSwitchboard): Promise<{ provisionals: number[]; finalBeforeAnswer: number | undefined }> {
  const pbx = { transport: 'udp' as const, address: '127.0.0.1', port: Number(sb.sipTarget.split(':')[1]) };
  const log = pino({ level: 'silent' });
  const agent = await TestPhone.create({
    transport: 'udp', username: 'bob-desk', password: 'bob-desk-pw', domain: DOMAIN, registrar: pbx, log,
    onIncoming: (c) => { c.ring(); c.answer({ afterMs: WAIT_MS }); },
  });
  const caller = await TestPhone.create({ transport: 'udp', username: 'caller', domain: DOMAIN, registrar: pbx, log });
  try {
    expect((await agent.register({ expires: 300 })).ok).toBe(true);
    const provisionals: number[] = [];
    const out = caller.call(`sip:${DID}@${DOMAIN}`);
    out.on('progress', (res: { status: number }) => provisionals.push(res.status));
    let finalBeforeAnswer: number | undefined;
    let answered = false;
    out.on('answered', () => { answered = true; });
    out.on('ended', () => { if (!answered) finalBeforeAnswer ??= out.finalResponse?.status; });
    await out.waitFor('answered', WAIT_MS + 10_000);
    await out.bye();
    return { provisionals, finalBeforeAnswer };
  } finally {
    await agent.close();
    await caller.close();
  }
}

describe('long wait: provisional every interval, no reaper while the engine holds the call', () => {
  let sb: TestSwitchboard;
  beforeAll(async () => {
    sb = await startTestSwitchboard({ mutate: (c) => longWaitConfig(c, 1) });
  });
  afterAll(async () => { await sb?.stop(); });

  it('repeats the 180 about every second while the caller waits 5 s in the queue (past the 3 s reaper) and is then bridged to the agent', async () => {
    const r = await waitInQueueThenAnswer(sb);
    expect(r.finalBeforeAnswer).toBeUndefined();
    const ringing = r.provisionals.filter((s) => s === 180).length;
    // One 180 at once, then one a second: at least 4 by the 5 s mark even on a loaded box.
    expect(ringing).toBeGreaterThanOrEqual(4);
  });
});

describe('long wait with provisionals rarer than the reaper', () => {
  let sb: TestSwitchboard;
  beforeAll(async () => {
    sb = await startTestSwitchboard({ mutate: (c) => longWaitConfig(c, 60) });
  });
  afterAll(async () => { await sb?.stop(); });

  it('answers a caller whose only 180 is older than the reaper time: the INVITE the engine holds is not reaped (no 408)', async () => {
    const r = await waitInQueueThenAnswer(sb);
    expect(r.finalBeforeAnswer).toBeUndefined();
    expect(r.provisionals.filter((s) => s === 180)).toHaveLength(1);
  });
});
