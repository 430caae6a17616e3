import { ManualClock } from '../../../../src/common/clock.js';
import { SipRequest, SipResponse, type SipMessage } from '../../../../src/sip/message.js';
import { computeTimers } from '../../../../src/sip/transaction/timers.js';
import type { TransactionContext } from '../../../../src/sip/transaction/transaction.js';

/** T1 = 10 ms, T2 = 40 ms, T4 = 50 ms: small, distinct numbers. */
export const T = { t1: 10, t2: 40, t4: 50 };

export interface Harness {
  clock: ManualClock;
  sent: SipMessage[];
  ctx: TransactionContext;
  absorbed: () => number;
  failNextSend: () => void;
}

export function harness(reliable = false): Harness {
  const clock = new ManualClock();
  const sent: SipMessage[] = [];
  let absorbed = 0;
  let fail = false;
  const ctx: TransactionContext = {
    clock,
    timers: computeTimers(T, reliable),
    reliable,
    send: (m) => {
      if (fail) { fail = false; return Promise.reject(new Error('ECONNREFUSED')); }
      sent.push(m);
      return Promise.resolve();
    },
    onAbsorbed: () => { absorbed++; },
  };
  return { clock, sent, ctx, absorbed: () => absorbed, failNextSend: () => { fail = true; } };
}

export function req(method: string): SipRequest {
  const r = new SipRequest(method, 'sip:bob@127.0.0.1');
  r.append('Via', 'SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKtest');
  r.append('From', '<sip:alice@x>;tag=a');
  r.append('To', '<sip:bob@x>');
  r.append('Call-ID', 'cid');
  r.append('CSeq', `1 ${method}`);
  r.append('Route', '<sip:proxy@127.0.0.1;lr>');
  return r;
}

export function res(status: number, method = 'INVITE'): SipResponse {
  const r = new SipResponse(status, 'X');
  r.append('Via', 'SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKtest');
  r.append('From', '<sip:alice@x>;tag=a');
  r.append('To', '<sip:bob@x>;tag=b');
  r.append('Call-ID', 'cid');
  r.append('CSeq', `1 ${method}`);
  return r;
}

/** Lets rejected sends reach the machine. */
export const flush = (): Promise<void> => new Promise((r) => setImmediate(r));
