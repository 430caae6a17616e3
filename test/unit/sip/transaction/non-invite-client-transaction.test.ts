import { describe, expect, it } from 'vitest';
import { NonInviteClientTransaction } from '../../../../src/sip/transaction/non-invite-client-transaction.js';
import type { SipResponse } from '../../../../src/sip/message.js';
import { harness, req, res } from './helpers.js';

function make(reliable = false) {
  const h = harness(reliable);
  const txn = new NonInviteClientTransaction(req('OPTIONS'), 'k', h.ctx);
  const tu: string[] = [];
  txn.on('response', (r: SipResponse) => tu.push(`response ${r.status}`));
  txn.on('timeout', () => tu.push('timeout'));
  txn.on('terminated', () => tu.push('terminated'));
  txn.start();
  return { ...h, txn, tu };
}

describe('NonInviteClientTransaction (RFC 3261 §17.1.2)', () => {
  it('MUST retransmit on Timer E, doubling up to T2, then time out on Timer F', () => {
    const { clock, sent, tu, txn } = make();
    // sends at 0, 10, 30, 70, 110, 150, ... (interval capped at T2 = 40)
    clock.advance(10); expect(sent).toHaveLength(2);
    clock.advance(20); expect(sent).toHaveLength(3);
    clock.advance(40); expect(sent).toHaveLength(4);
    clock.advance(40); expect(sent).toHaveLength(5);
    clock.advance(640 - 110);
    expect(tu).toEqual(['timeout', 'terminated']);
    expect(txn.state).toBe('terminated');
    expect(clock.pending).toBe(0);
  });

  it('retransmits the bytes of its first transmission (the request is serialized once) and exposes them', () => {
    const { clock, wires, txn } = make();
    clock.advance(10);
    clock.advance(20);
    expect(wires).toHaveLength(3);
    expect(wires[1]).toBe(wires[0]);
    expect(wires[2]).toBe(wires[0]);
    expect(txn.requestWire).toBe(wires[0]);
  });
  it('MUST retransmit every T2 in proceeding', () => {
    const { clock, sent, txn } = make();
    txn.handle({ kind: 'response', response: res(100, 'OPTIONS') });
    expect(txn.state).toBe('proceeding');
    clock.advance(10); expect(sent).toHaveLength(2);
    clock.advance(40); expect(sent).toHaveLength(3);
  });

  it('MUST arm Timer K and move to completed on a final response in proceeding', () => {
    const { clock, txn, tu } = make();
    txn.handle({ kind: 'response', response: res(100, 'OPTIONS') });
    txn.handle({ kind: 'response', response: res(200, 'OPTIONS') });
    expect(txn.state).toBe('completed');
    expect(txn.isArmed('K')).toBe(true);
    txn.handle({ kind: 'response', response: res(200, 'OPTIONS') });
    expect(tu).toEqual(['response 100', 'response 200']);
    clock.advance(50);
    expect(txn.state).toBe('terminated');
  });

  it('MUST terminate at once after a final response on a reliable transport (K = 0)', () => {
    const { txn, clock } = make(true);
    txn.handle({ kind: 'response', response: res(404, 'OPTIONS') });
    expect(txn.state).toBe('terminated');
    expect(clock.pending).toBe(0);
  });
});
