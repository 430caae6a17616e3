import { describe, expect, it } from 'vitest';
import { InviteServerTransaction } from '../../../../src/sip/transaction/invite-server-transaction.js';
import { flush, harness, req, res } from './helpers.js';

function make(reliable = false) {
  const h = harness(reliable);
  const request = req('INVITE');
  const txn = new InviteServerTransaction(request, 'k', h.ctx);
  const tu: string[] = [];
  txn.on('timeout', () => tu.push('timeout'));
  txn.on('transport-error', () => tu.push('transport-error'));
  txn.on('terminated', () => tu.push('terminated'));
  return { ...h, txn, tu, request };
}
const statuses = (m: { sent: Array<{ kind: string }> }) => m.sent.map((x) => ('status' in x ? (x as { status: number }).status : 0));

describe('InviteServerTransaction (RFC 3261 §17.2.1, RFC 6026 §7.1)', () => {
  it('MUST resend the last provisional response on an INVITE retransmission in proceeding', () => {
    const m = make();
    m.txn.handle({ kind: 'retransmit', request: m.request });
    expect(m.sent).toHaveLength(0);
    m.txn.respond(res(180));
    m.txn.handle({ kind: 'retransmit', request: m.request });
    expect(statuses(m)).toEqual([180, 180]);
    expect(m.absorbed()).toBe(2);
  });

  it('MUST retransmit a non-2xx final response on Timer G (doubling to T2) and fail on Timer H without ACK', () => {
    const m = make();
    m.txn.respond(res(486));
    expect(m.txn.state).toBe('completed');
    m.clock.advance(10); m.clock.advance(20); m.clock.advance(40); m.clock.advance(40);
    expect(statuses(m)).toEqual([486, 486, 486, 486, 486]);
    m.clock.advance(640);
    expect(m.tu).toEqual(['timeout', 'terminated']);
    expect(m.clock.pending).toBe(0);
  });

  it('MUST move completed → confirmed on ACK, absorb further ACKs, and terminate on Timer I', () => {
    const m = make();
    m.txn.respond(res(486));
    m.txn.handle({ kind: 'ack', request: req('ACK') });
    expect(m.txn.state).toBe('confirmed');
    expect(m.txn.isArmed('G')).toBe(false);
    m.txn.handle({ kind: 'ack', request: req('ACK') });
    m.clock.advance(50);
    expect(m.txn.state).toBe('terminated');
    expect(m.tu).toEqual(['terminated']);
  });

  it('MUST terminate at once in confirmed on a reliable transport (I = 0)', () => {
    const m = make(true);
    m.txn.respond(res(486));
    m.clock.advance(1000);
    expect(statuses(m)).toEqual([486]);
    m.txn.handle({ kind: 'ack', request: req('ACK') });
    expect(m.txn.state).toBe('terminated');
  });

  it('MUST enter accepted on a 2xx, pass TU 2xx retransmissions, absorb INVITE retransmissions, and end on Timer L', () => {
    const m = make();
    m.txn.respond(res(200));
    expect(m.txn.state).toBe('accepted');
    m.txn.respond(res(200));
    m.txn.handle({ kind: 'retransmit', request: m.request });
    expect(statuses(m)).toEqual([200, 200]);
    m.clock.advance(640);
    expect(m.txn.state).toBe('terminated');
  });

  it('drops a TU response after the final one without throwing', () => {
    const m = make();
    m.txn.respond(res(486));
    expect(() => m.txn.respond(res(200))).not.toThrow();
    expect(statuses(m)).toEqual([486]);
  });

  it('MUST terminate and tell the TU on a transport error', async () => {
    const m = make();
    m.failNextSend();
    m.txn.respond(res(486));
    await flush();
    expect(m.tu).toEqual(['transport-error', 'terminated']);
    expect(m.clock.pending).toBe(0);
  });
});
