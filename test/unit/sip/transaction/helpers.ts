import { ManualClock } from '../../../../src/common/clock.js';
import { SipRequest, SipResponse, type SipMessage } from '../../../../src/sip/message.js';
import { parseMessage } from '../../../../src/sip/parser.js';
import { computeTimers } from '../../../../src/sip/transaction/timers.js';
import type { TransactionContext } from '../../../../src/sip/transaction/transaction.js';

/** T1 = 10 ms, T2 = 40 ms, T4 = 50 ms: small, distinct numbers. */
export const T = { t1: 10, t2: 40, t4: 50 };

export interface Harness {
  clock: ManualClock;
  /** What the transaction sent, parsed back from the bytes it handed to the transport. */
  sent: SipMessage[];
  /** The bytes themselves, in order (a retransmission reuses its first transmission's bytes). */
  wires: Buffer[];
  ctx: TransactionContext;
  absorbed: () => number;
  failNextSend: () => void;
}

export function harness(reliable = false): Harness {
  const clock = new ManualClock();
  const sent: SipMessage[] = [];
  const wires: Buffer[] = [];
  let absorbed = 0;
  let fail = false;
  const ctx: TransactionContext = {
    clock,
    timers: computeTimers(T, reliable),
    reliable,
    send: (wire) => {
      if (fail) { fail = false; return Promise.reject(new Error('ECONNREFUSED')); }
      const parsed = parseMessage(wire);
      if (!parsed.ok) throw new Error(`a transaction sent bytes that do not parse: ${parsed.error.message}`);
      sent.push(parsed.message);
      wires.push(wire);
      return Promise.resolve();
    },
    onAbsorbed: () => { absorbed++; },
  };
  return { clock, sent, wires, ctx, absorbed: () => absorbed, failNextSend: () => { fail = true; } };
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
