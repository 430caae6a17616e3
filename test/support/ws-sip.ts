/**
 * A bare SIP-over-WebSocket client for protocol tests (RFC 7118): opens a `ws` connection offering the `sip`
 * subprotocol, sends SIP text, and hands back parsed messages as they arrive. It writes its own requests the way
 * sip.js does (Via `SIP/2.0/WS <random>.invalid`, Contact `sip:<random>@<random>.invalid;transport=ws;ob`).
 */
import { randomBytes } from 'node:crypto';
import { WebSocket, type ClientOptions } from 'ws';
import { parseMessage, type SipMessage, type SipRequest, type SipResponse } from '../../src/sip/index.js';
import { computeAuthorization } from '../../src/sip/digest.js';

const rand = (): string => randomBytes(6).toString('hex');

/** One connection and what came in over it. */
export class WsSipClient {
  readonly ws: WebSocket;
  readonly received: SipMessage[] = [];
  readonly host = `${rand()}.invalid`;
  readonly contact: string;
  #waiters: Array<{ test: (m: SipMessage) => boolean; resolve: (m: SipMessage) => void }> = [];
  #cseq = 1;
  readonly callId = `${rand()}@${rand()}.invalid`;
  readonly fromTag = rand();

  private constructor(ws: WebSocket, readonly username: string, readonly domain: string, transport: 'ws' | 'wss') {
    this.ws = ws;
    this.contact = `sip:${rand()}@${this.host};transport=${transport};ob`;
    ws.on('message', (data: Buffer) => {
      const r = parseMessage(Buffer.from(data), { maxBytes: 1 << 20 });
      if (!r.ok) return;
      this.received.push(r.message);
      const i = this.#waiters.findIndex((w) => w.test(r.message));
      if (i >= 0) this.#waiters.splice(i, 1)[0]!.resolve(r.message);
    });
  }

  /** Connects (offering `sip` unless `protocols` says otherwise); rejects on a refused handshake. */
  static connect(url: string, o: { username: string; domain: string; protocols?: string[]; ws?: ClientOptions }): Promise<WsSipClient> {
    const ws = new WebSocket(url, o.protocols ?? ['sip'], o.ws);
    const c = new WsSipClient(ws, o.username, o.domain, url.startsWith('wss:') ? 'wss' : 'ws');
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(c));
      ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`handshake refused: ${res.statusCode}`), { status: res.statusCode })));
      ws.once('error', reject);
    });
  }

  /** The next message matching `test` (also one that already arrived and nobody took). */
  next(test: (m: SipMessage) => boolean, timeoutMs = 8000): Promise<SipMessage> {
    const seen = this.received.find(test);
    if (seen) {
      this.received.splice(this.received.indexOf(seen), 1);
      return Promise.resolve(seen);
    }
    return new Promise((resolve, reject) => {
      const w = { test, resolve: (m: SipMessage) => { clearTimeout(timer); this.received.splice(this.received.indexOf(m), 1); resolve(m); } };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((x) => x !== w);
        reject(new Error('no matching SIP message over the WebSocket'));
      }, timeoutMs);
      this.#waiters.push(w);
    });
  }

  /** The next request of `method`. */
  nextRequest(method: string, timeoutMs?: number): Promise<SipRequest> {
    return this.next((m) => m.kind === 'request' && m.method === method, timeoutMs) as Promise<SipRequest>;
  }

  send(text: string): void {
    this.ws.send(text);
  }

  /** Sends a REGISTER (with `authorization` answering a challenge) and resolves with its final response. */
  async register(o: { expires?: number; challenge?: string; password?: string; extraContact?: string } = {}): Promise<SipResponse> {
    const branch = `z9hG4bK${rand()}`;
    const cseq = this.#cseq++;
    const uri = `sip:${this.domain}`;
    const lines = [
      `REGISTER ${uri} SIP/2.0`,
      `Via: SIP/2.0/WS ${this.host};branch=${branch}`,
      'Max-Forwards: 70',
      `To: <sip:${this.username}@${this.domain}>`,
      `From: <sip:${this.username}@${this.domain}>;tag=${this.fromTag}`,
      `Call-ID: ${this.callId}`,
      `CSeq: ${cseq} REGISTER`,
      `Contact: <${this.contact}>${o.extraContact ?? ''};expires=${o.expires ?? 600}`,
      `Expires: ${o.expires ?? 600}`,
      'Supported: path, outbound, gruu',
    ];
    if (o.challenge) lines.push(`Authorization: ${computeAuthorization(o.challenge, { username: this.username, password: o.password ?? '', method: 'REGISTER', uri })}`);
    this.send([...lines, 'Content-Length: 0', '', ''].join('\r\n'));
    return this.next((m) => m.kind === 'response' && m.status >= 200 && (m.get('via') ?? '').includes(branch)) as Promise<SipResponse>;
  }

  /** Registers, answering the 401 with `password`. */
  async registerWithAuth(password: string, o: { expires?: number; extraContact?: string } = {}): Promise<{ challenge: SipResponse; ok: SipResponse }> {
    const challenge = await this.register(o);
    const value = challenge.get('www-authenticate');
    if (challenge.status !== 401 || !value) throw new Error(`expected 401, got ${challenge.status}`);
    const ok = await this.register({ ...o, challenge: value, password });
    return { challenge, ok };
  }

  /** A response to `req` with the given status (To tag added), copying Via/From/To/Call-ID/CSeq as RFC 3261 §8.2.6.2 asks. */
  respond(req: SipRequest, status: number, reason: string, o: { toTag?: string; body?: string; contact?: boolean } = {}): void {
    const lines = [`SIP/2.0 ${status} ${reason}`];
    for (const v of req.getAll('via')) lines.push(`Via: ${v}`);
    lines.push(`From: ${req.get('from')}`);
    const to = req.get('to') ?? '';
    lines.push(`To: ${/;\s*tag=/.test(to) || !o.toTag ? to : `${to};tag=${o.toTag}`}`);
    lines.push(`Call-ID: ${req.callId}`, `CSeq: ${req.get('cseq')}`);
    if (o.contact) lines.push(`Contact: <${this.contact}>`);
    if (o.body) lines.push('Content-Type: application/sdp');
    const body = o.body ?? '';
    lines.push(`Content-Length: ${Buffer.byteLength(body)}`, '', body);
    this.send(lines.join('\r\n'));
  }

  close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }
}
