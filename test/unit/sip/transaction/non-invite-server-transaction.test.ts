import { describe, expect, it } from 'vitest';
import { NonInviteServerTransaction } from '../../../../src/sip/transaction/non-invite-server-transaction.js';
import { serializeMessage } from '../../../../src/sip/serializer.js';
import { harness, req, res } from './helpers.js';

function make(reliable = false) {
  const h = harness(reliable);
  const request = req('OPTIONS');
  const txn = new NonInviteServerTransaction(request, 'k', h.ctx);
  return { ...h, txn, request };
}
const statuses = (m: { sent: unknown[] }) => m.sent.map((x) => (x as { status: number }).status);

describe('NonInviteServerTransaction (RFC 3261 §17.2.2)', () => {
  it('MUST discard retransmissions in trying', () => {
    const m = make();
    m.txn.handle({ kind: 'retransmit', request: m.request });
    expect(m.sent).toHaveLength(0);
    expect(m.absorbed()).toBe(1);
  });
  it('MUST resend the last provisional in proceeding and the final in completed', () => {
    const m = make();
    m.txn.respond(res(100, 'OPTIONS'));
    expect(m.txn.state).toBe('proceeding');
    m.txn.handle({ kind: 'retransmit', request: m.request });
    m.txn.respond(res(200, 'OPTIONS'));
    m.txn.handle({ kind: 'retransmit', request: m.request });
    expect(statuses(m)).toEqual([100, 100, 200, 200]);
  });
  it('MUST arm Timer J (64*T1) in completed on UDP and discard later TU responses', () => {
    const m = make();
    m.txn.respond(res(200, 'OPTIONS'));
    m.txn.respond(res(500, 'OPTIONS'));
    expect(statuses(m)).toEqual([200]);
    m.clock.advance(639); expect(m.txn.state).toBe('completed');
    m.clock.advance(1); expect(m.txn.state).toBe('terminated');
  });
  it('resends the bytes it first sent (serialized once), never the response object, which the TU may change', () => {
    const m = make();
    const provisional = res(100, 'OPTIONS');
    m.txn.respond(provisional);
    m.txn.handle({ kind: 'retransmit', request: m.request });
    expect(m.wires[1]).toBe(m.wires[0]);
    const final = res(200, 'OPTIONS');
    m.txn.respond(final);
    final.set('Subject', 'changed after sending');
    m.txn.handle({ kind: 'retransmit', request: m.request });
    expect(m.wires[3]).toEqual(m.wires[2]);
    expect(m.sent[3]!.get('subject')).toBeUndefined();
  });
  it('sends the bytes a TU hands it with the response instead of serializing again (drachtio-lite echoes them)', () => {
    const m = make();
    const final = res(200, 'OPTIONS');
    const wire = serializeMessage(final);
    m.txn.respond(final, wire);
    m.txn.handle({ kind: 'retransmit', request: m.request });
    expect(m.wires).toEqual([wire, wire]);
    expect(m.wires[0]).toBe(wire);
    // The TU's Buffer is not kept for Timer J (bytes held in the heap instead): changing it later changes nothing.
    wire.fill(0x20);
    m.txn.handle({ kind: 'retransmit', request: m.request });
    expect(m.sent[2]!.kind).toBe('response');
  });
  it('reaps with the To tag of its provisional responses', () => {
    const m = make();
    m.txn.respond(res(183, 'OPTIONS'));
    m.clock.advance(64 * 10);
    expect(statuses(m)).toEqual([183, 408]);
    expect(m.sent[1]!.get('to')).toContain('tag=b');
  });
  it('MUST terminate at once on a reliable transport (J = 0)', () => {
    const m = make(true);
    m.txn.respond(res(200, 'OPTIONS'));
    expect(m.txn.state).toBe('terminated');
    expect(m.clock.pending).toBe(0);
  });
});
