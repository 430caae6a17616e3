import { describe, expect, it } from 'vitest';
import { InviteServerTransaction } from '../../../../src/sip/transaction/invite-server-transaction.js';
import { NonInviteServerTransaction } from '../../../../src/sip/transaction/non-invite-server-transaction.js';
import { InviteClientTransaction } from '../../../../src/sip/transaction/invite-client-transaction.js';
import { computeTimers } from '../../../../src/sip/transaction/timers.js';
import { getTag } from '../../../../src/sip/headers.js';
import type { SipResponse } from '../../../../src/sip/message.js';
import { harness, req, res, T } from './helpers.js';

const statuses = (sent: unknown[]) => sent.map((x) => (x as { status: number }).status);

describe('server transaction safety reaper (not in RFC 3261: a silent TU must not keep a transaction forever)', () => {
  it('answers 408 for an INVITE whose TU sends nothing for inviteReaperMs, counts it, then waits for the ACK', () => {
    const h = harness();
    h.ctx.timers = computeTimers({ ...T, inviteReaperMs: 1000 }, false);
    let reaped = 0;
    h.ctx.onReaped = () => { reaped++; };
    const txn = new InviteServerTransaction(req('INVITE'), 'k', h.ctx);
    const events: string[] = [];
    txn.on('reaped', () => events.push('reaped'));
    h.clock.advance(999);
    expect(h.sent).toHaveLength(0);
    h.clock.advance(1);
    expect(statuses(h.sent)).toEqual([408]);
    expect(getTag((h.sent[0] as SipResponse).get('to')!)).toMatch(/^[!%'*+\-.0-9A-Z_`a-z~]+$/); // a token (RFC 3261 §25.1)
    expect(txn.state).toBe('completed');
    expect(reaped).toBe(1);
    expect(events).toEqual(['reaped']);
  });

  it('restarts the INVITE reaper on each provisional from the TU and keeps its To tag in the 408', () => {
    const h = harness();
    h.ctx.timers = computeTimers({ ...T, inviteReaperMs: 1000 }, false);
    const txn = new InviteServerTransaction(req('INVITE'), 'k', h.ctx);
    h.clock.advance(900);
    const ringing = res(180);
    txn.respond(ringing);
    h.clock.advance(900);
    expect(statuses(h.sent)).toEqual([180]);
    h.clock.advance(100);
    expect(statuses(h.sent)).toEqual([180, 408]);
    expect(getTag((h.sent[1] as SipResponse).get('to')!)).toBe('b');
  });

  it('MUST NOT reap an INVITE while its TU holds it (heldByTu), and reaps it once the TU lets go', () => {
    const h = harness();
    h.ctx.timers = computeTimers({ ...T, inviteReaperMs: 1000 }, false);
    const txn = new InviteServerTransaction(req('INVITE'), 'k', h.ctx);
    let held = true;
    txn.heldByTu = () => held;
    txn.respond(res(180));
    h.clock.advance(10_000);
    expect(statuses(h.sent)).toEqual([180]);
    expect(txn.state).toBe('proceeding');
    txn.respond(res(200));
    expect(statuses(h.sent)).toEqual([180, 200]);
    const other = new InviteServerTransaction(req('INVITE'), 'k2', h.ctx);
    other.heldByTu = () => held;
    h.clock.advance(3000);
    held = false;
    h.clock.advance(1000);
    expect(statuses(h.sent)).toEqual([180, 200, 408]);
  });

  it('does not fire once the TU answered', () => {
    const h = harness();
    h.ctx.timers = computeTimers({ ...T, inviteReaperMs: 1000 }, false);
    const txn = new InviteServerTransaction(req('INVITE'), 'k', h.ctx);
    txn.respond(res(200));
    h.clock.advance(5000);
    expect(statuses(h.sent)).toEqual([200]);
    expect(txn.state).toBe('terminated');
  });

  it('answers 408 for a non-INVITE after 64*T1 without a final response', () => {
    const h = harness();
    let reaped = 0;
    h.ctx.onReaped = () => { reaped++; };
    const txn = new NonInviteServerTransaction(req('OPTIONS'), 'k', h.ctx);
    txn.respond(res(100, 'OPTIONS'));
    h.clock.advance(64 * T.t1 - 1);
    expect(statuses(h.sent)).toEqual([100]);
    h.clock.advance(1);
    expect(statuses(h.sent)).toEqual([100, 408]);
    expect(txn.state).toBe('completed');
    expect(reaped).toBe(1);
    h.clock.advance(64 * T.t1);
    expect(txn.state).toBe('terminated');
    expect(h.clock.pending).toBe(0);
  });
});

describe('finished transactions keep only what their waiting state needs', () => {
  it('keeps only method, Request-URI, Call-ID and CSeq of the request once completed or accepted', () => {
    const h = harness();
    const invite = req('INVITE');
    invite.append('Contact', '<sip:alice@127.0.0.1>');
    invite.body = Buffer.from('v=0\r\n');
    const ist = new InviteServerTransaction(invite, 'k', h.ctx);
    ist.respond(res(200));
    expect(ist.state).toBe('accepted');
    expect(ist.request.body.length).toBe(0);
    expect(ist.request.headers.map((x) => x.name)).toEqual(['Call-ID', 'CSeq']);
    expect(ist.request.callId).toBe('cid');

    const ict = new InviteClientTransaction(req('INVITE'), 'c', h.ctx);
    ict.start();
    ict.handle({ kind: 'response', response: res(486) });
    expect(ict.state).toBe('completed');
    expect(ict.request.get('route')).toBeUndefined();
    // The ACK was built from the full INVITE before (it keeps the Route set, §17.1.1.3).
    expect(ict.ack?.get('route')).toBe('<sip:proxy@127.0.0.1;lr>');
  });
});
