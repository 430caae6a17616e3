import { describe, expect, it } from 'vitest';
import { InviteClientTransaction } from '../../../../src/sip/transaction/invite-client-transaction.js';
import { InvalidStateError } from '../../../../src/common/errors.js';
import type { SipMessage, SipResponse } from '../../../../src/sip/message.js';
import { flush, harness, req, res } from './helpers.js';

function make(reliable = false) {
  const h = harness(reliable);
  const txn = new InviteClientTransaction(req('INVITE'), 'k', h.ctx);
  const tu: string[] = [];
  txn.on('response', (r: SipResponse) => tu.push(`response ${r.status}`));
  txn.on('timeout', () => tu.push('timeout'));
  txn.on('transport-error', () => tu.push('transport-error'));
  txn.on('terminated', () => tu.push('terminated'));
  txn.start();
  return { ...h, txn, tu };
}
const kinds = (sent: SipMessage[]) => sent.map((m) => (m.kind === 'request' ? m.method : String(m.status)));

describe('InviteClientTransaction (RFC 3261 §17.1.1, RFC 6026 §7.2)', () => {
  it('MUST retransmit on Timer A with doubling intervals and time out on Timer B', () => {
    const { txn, clock, sent, tu } = make();
    expect(kinds(sent)).toEqual(['INVITE']);
    clock.advance(10); expect(sent).toHaveLength(2);
    clock.advance(20); expect(sent).toHaveLength(3);
    clock.advance(40); expect(sent).toHaveLength(4);
    clock.advance(640 - 70);
    expect(tu).toEqual(['timeout', 'terminated']);
    expect(txn.state).toBe('terminated');
    expect(clock.pending).toBe(0);
  });

  it('MUST NOT arm Timer A on a reliable transport', () => {
    const { clock, sent } = make(true);
    clock.advance(300);
    expect(sent).toHaveLength(1);
  });

  // (state, input) → (state, sent, TU)
  const table: Array<[string, number[], string, string[], string[]]> = [
    ['calling + 1xx → proceeding', [180], 'proceeding', ['INVITE'], ['response 180']],
    ['calling + 2xx → accepted', [200], 'accepted', ['INVITE'], ['response 200']],
    ['calling + 486 → completed, ACK sent', [486], 'completed', ['INVITE', 'ACK'], ['response 486']],
    ['proceeding + 2xx → accepted', [180, 200], 'accepted', ['INVITE'], ['response 180', 'response 200']],
    ['proceeding + 603 → completed', [180, 603], 'completed', ['INVITE', 'ACK'], ['response 180', 'response 603']],
    ['completed + retransmitted 486 → ACK again, not passed up', [486, 486], 'completed', ['INVITE', 'ACK', 'ACK'], ['response 486']],
    ['accepted + 2xx retransmission → passed up (RFC 6026)', [200, 200], 'accepted', ['INVITE'], ['response 200', 'response 200']],
  ];
  for (const [name, inputs, state, sent, tu] of table) {
    it(`MUST move ${name}`, () => {
      const m = make();
      for (const s of inputs) m.txn.handle({ kind: 'response', response: res(s) });
      expect(m.txn.state).toBe(state);
      expect(kinds(m.sent)).toEqual(sent);
      expect(m.tu).toEqual(tu);
    });
  }

  it('MUST build the ACK for a non-2xx from the INVITE (§17.1.1.3)', () => {
    const { txn } = make();
    txn.handle({ kind: 'response', response: res(486) });
    const ack = txn.ack!;
    expect(ack.uri).toBe('sip:bob@127.0.0.1');
    expect(ack.get('cseq')).toBe('1 ACK');
    expect(ack.get('to')).toBe('<sip:bob@x>;tag=b');
    expect(ack.getAll('via')).toEqual(['SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKtest']);
    expect(ack.get('route')).toBe('<sip:proxy@127.0.0.1;lr>');
  });

  it('MUST leave completed on Timer D (UDP) and at once on a reliable transport', () => {
    const u = make();
    u.txn.handle({ kind: 'response', response: res(486) });
    u.clock.advance(639); expect(u.txn.state).toBe('completed');
    u.clock.advance(1); expect(u.txn.state).toBe('terminated');
    const r = make(true);
    r.txn.handle({ kind: 'response', response: res(486) });
    expect(r.txn.state).toBe('terminated');
  });

  it('MUST terminate on Timer M in accepted', () => {
    const { txn, clock } = make(true);
    txn.handle({ kind: 'response', response: res(200) });
    clock.advance(640);
    expect(txn.state).toBe('terminated');
    expect(clock.pending).toBe(0);
  });

  it('MUST report a transport error and terminate', async () => {
    const h = harness();
    h.failNextSend();
    const txn = new InviteClientTransaction(req('INVITE'), 'k', h.ctx);
    const tu: string[] = [];
    txn.on('transport-error', () => tu.push('transport-error'));
    txn.start();
    await flush();
    expect(tu).toEqual(['transport-error']);
    expect(txn.state).toBe('terminated');
    expect(h.clock.pending).toBe(0);
  });

  it('rejects an edge the table does not hold with InvalidStateError', () => {
    const { txn } = make(true);
    txn.handle({ kind: 'response', response: res(486) });
    expect(() => (txn as unknown as { transition(s: string): void }).transition('calling')).toThrow(InvalidStateError);
  });

  it('absorbs responses after termination without throwing', () => {
    const { txn, clock } = make(true);
    txn.handle({ kind: 'response', response: res(486) });
    expect(() => txn.handle({ kind: 'response', response: res(486) })).not.toThrow();
    expect(clock.pending).toBe(0);
  });
});
