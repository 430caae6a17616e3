/**
 * Fork on fake time (STYLE.md §6, §8): srf is an outside service here, replaced by a scripted double that
 * records INVITEs and CANCELs and lets each test decide every target's answer.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/common/clock.js';
import { Leg } from '../../../src/engine/call/leg.js';
import { Fork, type ForkTarget } from '../../../src/engine/fork.js';
import type { SrfDialog, SrfLike, SrfUacCallbacks, SrfUacOptions } from '../../../src/engine/srf-types.js';
import { harnessLogger } from '../../support/engine-harness.js';

interface Pending {
  uri: string;
  opts: SrfUacOptions;
  cancelled: boolean;
  resolve(d: SrfDialog): void;
  reject(e: unknown): void;
  ring(): void;
}

function fakeSrf(): { srf: SrfLike; pending: Pending[]; destroyed: string[] } {
  const pending: Pending[] = [];
  const destroyed: string[] = [];
  const srf = {
    createUAC(uri: string, opts: SrfUacOptions, cb?: SrfUacCallbacks): Promise<SrfDialog> {
      return new Promise<SrfDialog>((resolve, reject) => {
        const p: Pending = {
          uri, opts, cancelled: false, resolve, reject,
          ring: () => cb?.cbProvisional?.({ status: 180, get: () => undefined, has: () => false } as never),
        };
        pending.push(p);
        cb?.cbRequest?.(null, { cancel: () => { p.cancelled = true; setImmediate(() => reject({ status: 487 })); } } as never);
      });
    },
  } as unknown as SrfLike;
  return { srf, pending, destroyed };
}

function dialog(name: string, destroyed: string[]): SrfDialog {
  return { sip: { callId: name }, remote: { sdp: `sdp-${name}` }, destroy: async () => void destroyed.push(name) } as unknown as SrfDialog;
}

const targets: ForkTarget[] = ['a', 'b', 'c'].map((d) => ({ userNumber: '1001', device: d, contact: `sip:${d}@10.0.0.1`, proxy: 'sip:127.0.0.1:5062;transport=udp' }));

function makeFork(srf: SrfLike, clock: ManualClock, extra: Partial<ConstructorParameters<typeof Fork>[0]> = {}): { fork: Fork; legs: Leg[] } {
  const legs: Leg[] = [];
  const fork = new Fork({
    srf, clock, log: harnessLogger(), targets, ringTimeoutMs: 20_000, localSdp: 'offer', headers: { From: '<sip:caller@pbx>' },
    createLeg: (t) => { const l = new Leg({ kind: 'device', device: t.device, startedAtMs: clock.now() }); legs.push(l); return l; },
    ...extra,
  });
  return { fork, legs };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('Fork', () => {
  it('MUST send one INVITE per target through its registered source (proxy) with the caller\'s offer', () => {
    const { srf, pending } = fakeSrf();
    const { fork } = makeFork(srf, new ManualClock());
    void fork.run(new AbortController().signal);
    expect(pending.map((p) => p.uri)).toEqual(['sip:a@10.0.0.1', 'sip:b@10.0.0.1', 'sip:c@10.0.0.1']);
    expect(pending.every((p) => p.opts.localSdp === 'offer' && p.opts.proxy === 'sip:127.0.0.1:5062;transport=udp')).toBe(true);
  });

  it('MUST resolve with the first 2xx and CANCEL every other leg', async () => {
    const { srf, pending, destroyed } = fakeSrf();
    const clock = new ManualClock();
    const { fork, legs } = makeFork(srf, clock);
    const out = fork.run(new AbortController().signal);
    pending[1]!.resolve(dialog('b', destroyed));
    const o = await out;
    expect(o.kind).toBe('answered');
    expect(o.kind === 'answered' && o.target.device).toBe('b');
    expect(pending.map((p) => p.cancelled)).toEqual([true, false, true]);
    await tick();
    expect(legs.map((l) => l.finalStatus)).toEqual([487, 200, 487]);
    expect(clock.pending).toBe(0);
  });

  it('MUST ACK (srf does) and BYE a late 2xx after the fork is decided', async () => {
    const { srf, pending, destroyed } = fakeSrf();
    const { fork } = makeFork(srf, new ManualClock());
    const out = fork.run(new AbortController().signal);
    pending[0]!.resolve(dialog('a', destroyed));
    await out;
    // b's 200 crossed our CANCEL: srf resolves it anyway.
    pending[1]!.resolve(dialog('b', destroyed));
    await tick();
    expect(destroyed).toEqual(['b']);
  });

  it('MUST cancel every leg and resolve no-answer when the ring timer fires', async () => {
    const { srf, pending } = fakeSrf();
    const clock = new ManualClock();
    const { fork } = makeFork(srf, clock);
    const out = fork.run(new AbortController().signal);
    clock.advance(19_999);
    expect(pending.some((p) => p.cancelled)).toBe(false);
    clock.advance(1);
    expect(await out).toEqual({ kind: 'no-answer' });
    expect(pending.every((p) => p.cancelled)).toBe(true);
  });

  it('MUST resolve busy at once when every leg is busy, and failed on mixed failures', async () => {
    const { srf, pending } = fakeSrf();
    const clock = new ManualClock();
    const { fork } = makeFork(srf, clock);
    const out = fork.run(new AbortController().signal);
    for (const p of pending) p.reject({ status: 486 });
    expect(await out).toEqual({ kind: 'busy' });
    expect(clock.pending).toBe(0);
    const second = fakeSrf();
    const f2 = makeFork(second.srf, new ManualClock()).fork;
    const out2 = f2.run(new AbortController().signal);
    second.pending[0]!.reject({ status: 486 });
    second.pending[1]!.reject({ status: 404 });
    second.pending[2]!.reject(new Error('transport'));
    expect(await out2).toEqual({ kind: 'failed' });
  });

  it('MUST cancel every leg when the signal aborts (caller CANCEL), and report the first 18x once', async () => {
    const { srf, pending } = fakeSrf();
    let rings = 0;
    const { fork } = makeFork(srf, new ManualClock(), { onRinging: () => void rings++ });
    const ac = new AbortController();
    const out = fork.run(ac.signal);
    pending[0]!.ring();
    pending[2]!.ring();
    ac.abort();
    expect(await out).toEqual({ kind: 'cancelled' });
    expect(rings).toBe(1);
    expect(pending.every((p) => p.cancelled)).toBe(true);
  });

  it('MUST resolve failed at once with no targets', async () => {
    const { srf } = fakeSrf();
    const fork = new Fork({ srf, clock: new ManualClock(), log: harnessLogger(), targets: [], ringTimeoutMs: 1000, headers: {}, createLeg: () => { throw new Error('no'); } });
    expect(await fork.run(new AbortController().signal)).toEqual({ kind: 'failed' });
  });
});
