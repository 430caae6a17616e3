/**
 * `TestPhone`: a small SIP user agent on `SipStack` for tests and benchmarks. It registers (with digest), places
 * calls (`call()` → {@link OutgoingCall}), answers them by policy (`onIncoming`), and keeps a timestamped log of
 * what it saw (`events`). One UDP or TCP socket per phone; no media.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { systemClock, type Clock, type TimerHandle } from '../../common/index.js';
import { SipRequest, type Endpoint, type SipResponse } from '../message.js';
import { computeAuthorization } from '../digest.js';
import { generateCallId, generateTag, getTag } from '../headers.js';
import { createResponse, Status } from '../status.js';
import { SipStack, type ServerTransaction, type SipStackOptions } from '../stack.js';
import { computeTimers, type TimerConfig } from '../transaction/timers.js';
import { cseqMethod } from '../transaction/layer.js';
import { IncomingCall } from './incoming-call.js';
import { OutgoingCall, type CallOptions } from './outgoing-call.js';
import type { PhoneCall, PhoneContext } from './phone-call.js';
import { formatHost } from '../../common/index.js';
import type { TransportProtocol } from '../transport/transport.js';

/** Options of {@link TestPhone.create}. */
export interface TestPhoneOptions {
  transport: TransportProtocol;
  username: string;
  password?: string;
  domain: string;
  /** Registrar, also used as outbound proxy for out-of-dialog requests. */
  registrar: Endpoint;
  clock?: Clock;
  /** Local address to bind; default 127.0.0.1. */
  address?: string;
  timers?: Partial<TimerConfig>;
  log?: Logger;
  /** Policy for incoming calls; default: answer at once. */
  onIncoming?: IncomingPolicy;
  /** Keep at most this many entries in `events` (oldest dropped); default 2000. */
  maxEvents?: number;
}

/** What to do with an incoming call: `call.ring(); call.answer({ afterMs })`, `call.reject(486)`, or nothing. */
export type IncomingPolicy = (call: IncomingCall) => void;

/** One entry of the phone's log. */
export interface PhoneEvent {
  at: number;
  kind: string;
  detail?: unknown;
}

/** Result of {@link TestPhone.register}. */
export type RegisterResult =
  | { ok: true; expires: number; response: SipResponse }
  | { ok: false; status: number; response?: SipResponse };

/** A test phone. Events: `incoming` (IncomingCall), `event` (PhoneEvent). */
export class TestPhone extends EventEmitter {
  readonly stack: SipStack;
  readonly username: string;
  readonly domain: string;
  readonly aor: string;
  readonly contact: string;
  readonly events: PhoneEvent[] = [];
  /** Policy for incoming calls (after any queued by {@link TestPhone.expectIncoming}); default: answer at once. */
  onIncoming: IncomingPolicy | undefined;
  readonly #queued: IncomingPolicy[] = [];
  readonly #opts: TestPhoneOptions;
  readonly #clock: Clock;
  readonly #ctx: PhoneContext;
  readonly #calls = new Map<string, PhoneCall[]>();
  readonly #regCallId = generateCallId();
  readonly #regTag = generateTag();
  #regCSeq = 0;
  readonly #maxEvents: number;

  private constructor(stack: SipStack, opts: TestPhoneOptions, clock: Clock) {
    super();
    this.stack = stack;
    this.#opts = opts;
    this.#clock = clock;
    this.username = opts.username;
    this.domain = opts.domain;
    this.aor = `sip:${opts.username}@${opts.domain}`;
    this.onIncoming = opts.onIncoming;
    this.#maxEvents = opts.maxEvents ?? 2000;
    const local = stack.listening[0]!;
    const host = formatHost(local.address);
    this.contact = `<sip:${opts.username}@${host}:${local.port}${opts.transport !== 'udp' ? `;transport=${opts.transport}` : ''}>`;
    const t = computeTimers(opts.timers, false);
    this.#ctx = {
      stack, clock, t1: t.t1, t2: t.t2, username: opts.username, password: opts.password, aor: this.aor,
      contact: this.contact, outbound: opts.registrar,
      media: { address: local.address, port: 20000 + 2 * Math.floor(Math.random() * 10000) },
      record: (kind, detail) => this.#record(kind, detail),
      forget: (call) => this.#forget(call),
    };
    stack.onRequest = (req, ctx) => this.#onRequest(req, ctx.source, ctx.transaction);
    stack.onCancel = (_cancel, invite) => this.#onCancel(invite);
    stack.onStrayResponse = (res) => this.#onStray(res);
  }

  /** Binds a stack on a free port of `address` (default 127.0.0.1) for the phone. */
  static async create(opts: TestPhoneOptions): Promise<TestPhone> {
    const clock = opts.clock ?? systemClock;
    const stackOpts: SipStackOptions = {
      listen: [{ transport: opts.transport, address: opts.address ?? '127.0.0.1', port: 0 }], clock,
    };
    if (opts.timers) stackOpts.timers = opts.timers;
    if (opts.log) stackOpts.log = opts.log;
    const stack = await SipStack.create(stackOpts);
    return new TestPhone(stack, opts, clock);
  }

  /** The phone's own address (for direct calls: `destination`). */
  get endpoint(): Endpoint {
    return { ...this.stack.listening[0]! };
  }

  /** Calls in progress. */
  get activeCalls(): PhoneCall[] {
    return [...this.#calls.values()].flat();
  }

  #record(kind: string, detail?: unknown): void {
    const e: PhoneEvent = { at: this.#clock.now(), kind, detail };
    this.events.push(e);
    if (this.events.length > this.#maxEvents) this.events.splice(0, this.events.length - this.#maxEvents);
    this.emit('event', e);
  }

  #track(call: PhoneCall): void {
    const list = this.#calls.get(call.callId);
    if (list) list.push(call);
    else this.#calls.set(call.callId, [call]);
  }

  #forget(call: PhoneCall): void {
    const list = this.#calls.get(call.callId);
    if (!list) return;
    const rest = list.filter((c) => c !== call);
    if (rest.length) this.#calls.set(call.callId, rest);
    else this.#calls.delete(call.callId);
  }

  /** Places a call to `targetUri` (via the registrar unless `opts.destination`). */
  call(targetUri: string, opts: CallOptions = {}): OutgoingCall {
    const call = new OutgoingCall(this.#ctx, targetUri, opts);
    this.#track(call);
    call.start();
    return call;
  }

  /** REGISTER with `expires` (default 3600), answering one 401/407 challenge with the phone's password. */
  register(opts: { expires?: number } = {}): Promise<RegisterResult> {
    return this.#register(opts.expires ?? 3600);
  }

  /** REGISTER with expires 0. */
  unregister(): Promise<RegisterResult> {
    return this.#register(0);
  }

  async #register(expires: number, auth?: { header: string; value: string }): Promise<RegisterResult> {
    const uri = `sip:${this.domain}`;
    const req = new SipRequest('REGISTER', uri);
    req.append('From', `<${this.aor}>;tag=${this.#regTag}`);
    req.append('To', `<${this.aor}>`);
    req.append('Call-ID', this.#regCallId);
    req.append('CSeq', `${++this.#regCSeq} REGISTER`);
    req.append('Contact', this.contact);
    req.append('Expires', String(expires));
    if (auth) req.append(auth.header, auth.value);
    this.#record(expires === 0 ? 'unregister' : 'register', { expires, auth: auth !== undefined });
    const res = await this.#request(req, this.#opts.registrar);
    if (!res) {
      this.#record('register-failed', { status: 408 });
      return { ok: false, status: 408 };
    }
    if ((res.status === 401 || res.status === 407) && !auth && this.#opts.password !== undefined) {
      const challenge = res.get(res.status === 401 ? 'www-authenticate' : 'proxy-authenticate');
      if (challenge) {
        const value = computeAuthorization(challenge, { username: this.username, password: this.#opts.password, method: 'REGISTER', uri });
        return this.#register(expires, { header: res.status === 401 ? 'Authorization' : 'Proxy-Authorization', value });
      }
    }
    if (res.status >= 200 && res.status < 300) {
      const granted = Number(res.get('expires') ?? expires);
      this.#record(expires === 0 ? 'unregistered' : 'registered', { expires: granted });
      return { ok: true, expires: Number.isFinite(granted) ? granted : expires, response: res };
    }
    this.#record('register-failed', { status: res.status });
    return { ok: false, status: res.status, response: res };
  }

  /** Sends an out-of-dialog request; resolves with its final response (undefined on timeout / transport error). */
  #request(req: SipRequest, destination: Endpoint): Promise<SipResponse | undefined> {
    const txn = this.stack.sendRequest(req, { destination });
    return new Promise((resolve) => {
      txn.on('response', (res: SipResponse) => { if (res.status >= 200) resolve(res); });
      txn.on('timeout', () => resolve(undefined));
      txn.on('transport-error', () => resolve(undefined));
    });
  }

  #find(callId: string | undefined, localTag: string | undefined): PhoneCall | undefined {
    if (!callId) return undefined;
    const list = this.#calls.get(callId);
    if (!list) return undefined;
    return list.find((c) => c.localTag === localTag);
  }

  #onRequest(req: SipRequest, source: Endpoint, txn: ServerTransaction | undefined): void {
    const toTag = getTag(req.get('to') ?? '');
    if (req.method === 'ACK') {
      this.#find(req.callId, toTag)?.handleAck(req);
      return;
    }
    if (!txn) return;
    if (toTag) {
      const call = this.#find(req.callId, toTag);
      if (call) call.handleInDialog(req, txn);
      else txn.respond(createResponse(req, Status.CallTransactionDoesNotExist));
      return;
    }
    switch (req.method) {
      case 'INVITE': {
        const call = new IncomingCall(this.#ctx, req, txn, source);
        this.#track(call);
        this.#record('incoming', { callId: call.callId, from: call.from });
        this.emit('incoming', call);
        const policy = this.#queued.shift() ?? this.onIncoming ?? ((c: IncomingCall) => c.answer());
        policy(call);
        return;
      }
      case 'OPTIONS':
      case 'MESSAGE':
      case 'NOTIFY':
        txn.respond(createResponse(req, Status.OK, undefined, { toTag: generateTag() }));
        return;
      default: {
        const res = createResponse(req, Status.MethodNotAllowed, undefined, { toTag: generateTag() });
        res.append('Allow', 'INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, MESSAGE, NOTIFY');
        txn.respond(res);
      }
    }
  }

  #onCancel(invite: ServerTransaction): void {
    for (const c of this.#calls.get(invite.request.callId ?? '') ?? []) {
      if (c instanceof IncomingCall && c.transaction === invite) c.handleCancel();
    }
  }

  #onStray(res: SipResponse): void {
    if (res.status < 200 || res.status >= 300 || cseqMethod(res) !== 'INVITE') return;
    const call = this.#calls.get(res.callId ?? '')?.find((c) => c instanceof OutgoingCall);
    if (call instanceof OutgoingCall) call.handleStray2xx(res);
  }

  /** Queues a one-shot policy for the next incoming call (per-call policies, used in order). */
  expectIncoming(policy: IncomingPolicy): void {
    this.#queued.push(policy);
  }

  /** Resolves with the next incoming call. */
  waitForIncoming(timeoutMs = 5000): Promise<IncomingCall> {
    return new Promise((resolve, reject) => {
      let handle: TimerHandle | undefined;
      const on = (call: IncomingCall): void => {
        if (handle !== undefined) this.#clock.clearTimeout(handle);
        resolve(call);
      };
      this.once('incoming', on);
      handle = this.#clock.setTimeout(() => {
        this.off('incoming', on);
        reject(new Error(`${this.username}: no incoming call within ${timeoutMs} ms`));
      }, timeoutMs);
    });
  }

  /** Event kinds seen so far, in order (handy in assertions). */
  kinds(): string[] {
    return this.events.map((e) => e.kind);
  }

  /** Closes the phone's stack (calls are dropped without BYE). */
  async close(): Promise<void> {
    for (const c of this.activeCalls) c.dispose();
    this.#calls.clear();
    await this.stack.close();
  }
}
