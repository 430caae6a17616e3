import { describe, expect, it } from 'vitest';
import { TransactionLayer, serverKey } from '../../../../src/sip/transaction/layer.js';
import { readTopVia, topViaText } from '../../../../src/sip/transport/via.js';
import { harness, req, res } from './helpers.js';

const key = (r: ReturnType<typeof req>) => serverKey(r, readTopVia(r)!, topViaText(r)!);

describe('TransactionLayer matching (§17.1.3, §17.2.3)', () => {
  it('matches a response by branch and CSeq method, and forgets a terminated transaction', () => {
    const h = harness(true);
    const layer = new TransactionLayer();
    const txn = layer.createClient(req('OPTIONS'), 'z9hG4bKtest', h.ctx);
    txn.start();
    expect(layer.matchResponse(res(200, 'INVITE'))).toBeUndefined();
    expect(layer.matchResponse(res(200, 'OPTIONS'))).toBe(txn);
    txn.handle({ kind: 'response', response: res(200, 'OPTIONS') });
    expect(layer.clientCount).toBe(0);
  });

  it('matches ACK and CANCEL to the INVITE server transaction', () => {
    const layer = new TransactionLayer();
    const inv = req('INVITE');
    const ist = layer.createServer(inv, key(inv), harness().ctx);
    expect(key(req('ACK'))).toBe(key(inv));
    const cancel = req('CANCEL');
    expect(key(cancel)).not.toBe(key(inv));
    expect(layer.matchCancelTarget(cancel, readTopVia(cancel)!, topViaText(cancel)!)).toBe(ist);
  });

  it('falls back to RFC 2543 matching without the magic cookie', () => {
    const a = req('INVITE');
    a.set('Via', 'SIP/2.0/UDP 10.0.0.1:5060;branch=old1');
    const b = a.clone();
    expect(key(a)).toBe(key(b));
    const ack = a.clone();
    ack.method = 'ACK';
    ack.set('CSeq', '1 ACK');
    expect(key(ack)).toBe(key(a));
    const other = a.clone();
    other.set('Call-ID', 'other');
    expect(key(other)).not.toBe(key(a));
    const noBranch = a.clone();
    noBranch.set('Via', 'SIP/2.0/UDP 10.0.0.1:5060');
    expect(key(noBranch)).toContain('2543|');
  });
});
