/**
 * A bare SIP peer on our SipStack for drachtio-lite contract tests (until/besides the test phone): it queues
 * incoming requests, answers them on demand, and sends requests with the dialog bookkeeping done by hand in
 * each test, so every header on the wire stays visible.
 */
import { pino } from 'pino';
import {
  createResponse, generateBranch, generateCallId, generateTag, getTag, parseNameAddr, SipRequest, SipStack,
  type ClientTransaction, type Endpoint, type ServerTransaction, type SipResponse,
} from '../../src/sip/index.js';

/** A request the peer received. */
export interface Incoming {
  req: SipRequest;
  txn?: ServerTransaction;
  source: Endpoint;
}

/** Outcome of a request the peer sent. */
export interface Outgoing {
  txn: ClientTransaction;
  request: SipRequest;
  provisional: SipResponse[];
  final: Promise<SipResponse>;
}

export const TEST_SDP = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n';

/** A promise with its resolve/reject (Node 20 has no Promise.withResolvers). */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

/** Waits for a condition with a timeout (real events, e2e style). */
export async function waitFor<T>(fn: () => T | undefined, what: string, timeoutMs = 5000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A raw SIP peer. */
export class DrachtioPeer {
  readonly stack: SipStack;
  readonly received: Incoming[] = [];
  readonly stray: SipResponse[] = [];
  readonly cancels: SipRequest[] = [];
  /** Called for each new request before it is queued; return true when handled. */
  autoAnswer?: (inc: Incoming) => boolean;

  private constructor(stack: SipStack) {
    this.stack = stack;
    stack.onRequest = (req, ctx) => {
      const inc: Incoming = { req, source: ctx.source, ...(ctx.transaction ? { txn: ctx.transaction } : {}) };
      if (this.autoAnswer?.(inc)) return;
      this.received.push(inc);
    };
    stack.onCancel = (cancel, invite) => {
      this.cancels.push(cancel);
      invite.respond(createResponse(invite.request, 487, undefined, { toTag: generateTag() }));
    };
    stack.onStrayResponse = (res) => { this.stray.push(res); };
  }

  static async create(transport: 'udp' | 'tcp' = 'udp', timers = { t1: 100, t2: 400, t4: 500 }, address = '127.0.0.1'): Promise<DrachtioPeer> {
    const stack = await SipStack.create({ listen: [{ transport, address, port: 0 }], timers, log: pino({ level: 'silent' }) });
    return new DrachtioPeer(stack);
  }

  get endpoint(): Endpoint {
    const l = this.stack.listening[0]!;
    return { transport: l.transport, address: l.address, port: l.port };
  }

  /** `sip:<user>@127.0.0.1:<port>` (with `;transport=tcp` on TCP). */
  uri(user = 'peer'): string {
    const e = this.endpoint;
    const host = e.address.includes(':') ? `[${e.address}]` : e.address;
    return `sip:${user}@${host}:${e.port}${e.transport === 'tcp' ? ';transport=tcp' : ''}`;
  }

  contact(user = 'peer'): string {
    return `<${this.uri(user)}>`;
  }

  /** Next received request (optionally of `method`), removed from the queue. */
  async next(method?: string, timeoutMs = 5000): Promise<Incoming> {
    return waitFor(() => {
      const i = this.received.findIndex((r) => !method || r.req.method === method);
      if (i === -1) return undefined;
      return this.received.splice(i, 1)[0];
    }, `${method ?? 'a request'} at the peer`, timeoutMs);
  }

  /** Answers an incoming request. */
  respond(inc: Incoming, status: number, opts: { toTag?: string; body?: string; contact?: boolean; headers?: Record<string, string> } = {}): SipResponse {
    const res = createResponse(inc.req, status, undefined, { toTag: opts.toTag ?? getTag(inc.req.get('to') ?? '') ?? generateTag() });
    if (opts.contact !== false && status > 100 && status < 300) res.append('Contact', this.contact());
    for (const [k, v] of Object.entries(opts.headers ?? {})) res.append(k, v);
    if (opts.body) {
      res.append('Content-Type', 'application/sdp');
      res.body = Buffer.from(opts.body);
    }
    inc.txn!.respond(res);
    return res;
  }

  /** Builds a request to `target` (`sip:…` of drachtio-lite) outside a dialog. */
  newRequest(method: string, target: string, opts: { body?: string; headers?: Record<string, string> } = {}): SipRequest {
    const req = new SipRequest(method, target);
    req.append('From', `<${this.uri('caller')}>;tag=${generateTag()}`);
    req.append('To', `<${target}>`);
    req.append('Call-ID', generateCallId('127.0.0.1'));
    req.append('CSeq', `1 ${method}`);
    req.append('Contact', this.contact('caller'));
    for (const [k, v] of Object.entries(opts.headers ?? {})) req.append(k, v);
    if (opts.body) {
      req.append('Content-Type', 'application/sdp');
      req.body = Buffer.from(opts.body);
    }
    return req;
  }

  /** Sends a request in a client transaction and collects its responses. */
  send(req: SipRequest, destination: Endpoint): Outgoing {
    const txn = this.stack.sendRequest(req, { destination });
    const provisional: SipResponse[] = [];
    const final = new Promise<SipResponse>((resolve, reject) => {
      txn.on('response', (res: SipResponse) => {
        if (res.status < 200) provisional.push(res);
        else resolve(res);
      });
      txn.on('timeout', () => reject(new Error(`${req.method} timed out`)));
      txn.on('transport-error', (e: Error) => reject(e));
    });
    final.catch(() => undefined);
    return { txn, request: req, provisional, final };
  }

  /** A request inside the dialog set up by `invite` and its 2xx `ok` (we are the UAC). */
  inDialog(method: string, invite: SipRequest, ok: SipResponse, seq: number, opts: { body?: string; branch?: boolean } = {}): SipRequest {
    const target = parseNameAddr(ok.getAll('contact')[0]!)!.uri;
    const req = new SipRequest(method, target);
    if (opts.branch) req.append('Via', `SIP/2.0/${this.endpoint.transport.toUpperCase()} 127.0.0.1:${this.endpoint.port};branch=${generateBranch()};rport`);
    req.append('From', invite.get('from')!);
    req.append('To', ok.get('to')!);
    req.append('Call-ID', invite.callId!);
    req.append('CSeq', `${seq} ${method}`);
    if (opts.body) {
      req.append('Content-Type', 'application/sdp');
      req.body = Buffer.from(opts.body);
    }
    return req;
  }

  /** A request from the UAS side of a dialog the peer answered (`inc` = the INVITE, `ok` = our 2xx). */
  inDialogAsUas(method: string, inc: Incoming, ok: SipResponse, seq: number): SipRequest {
    const target = parseNameAddr(inc.req.getAll('contact')[0]!)!.uri;
    const req = new SipRequest(method, target);
    req.append('From', ok.get('to')!);
    req.append('To', inc.req.get('from')!);
    req.append('Call-ID', inc.req.callId!);
    req.append('CSeq', `${seq} ${method}`);
    return req;
  }

  /** Sends the ACK for a 2xx (stateless, new branch). */
  async ack(invite: SipRequest, ok: SipResponse, destination: Endpoint): Promise<void> {
    const seq = Number((invite.get('cseq') ?? '1').split(' ')[0]);
    await this.stack.sendStateless(this.inDialog('ACK', invite, ok, seq), destination);
  }

  async close(): Promise<void> {
    await this.stack.close();
  }
}
