/**
 * A real webhook receiver for the e2e tests: node:http on 127.0.0.1, a free port, answering each request as a
 * script says (200, 500, 429 + Retry-After, 410, hang until the client gives up), and able to go down and come
 * back on the same port.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One received request. */
export interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
  /** performance.now() at arrival. */
  at: number;
  /** performance.now() when the answer was written (null for hang). */
  answeredAt: number | null;
  status: number | null;
}

/** How to answer one request. */
export type Answer = { status: number; headers?: Record<string, string>; body?: string; delayMs?: number } | 'hang';

/** Decides the answer from the request (and how many came before). */
export type Script = (req: Received, index: number) => Answer;

export class Receiver {
  readonly received: Received[] = [];
  script: Script = () => ({ status: 200 });
  #server: Server | null = null;
  #sockets = new Set<Socket>();
  #port = 0;
  #waiters: Array<{ pred: () => boolean; resolve: () => void }> = [];

  get port(): number { return this.#port; }
  url(path = '/hook'): string { return `http://127.0.0.1:${this.#port}${path}`; }

  /** Listens on `port` (0 = a free one the first time; the same one after {@link down}). */
  async up(): Promise<void> {
    const server = createServer((req, res) => this.#handle(req, res));
    server.keepAliveTimeout = 60_000;
    server.on('connection', (s) => { this.#sockets.add(s); s.on('close', () => this.#sockets.delete(s)); });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, '127.0.0.1', () => resolve());
    });
    this.#port = (server.address() as AddressInfo).port;
    this.#server = server;
  }

  /** Stops listening and drops every connection: clients see connection errors. */
  async down(): Promise<void> {
    const s = this.#server;
    if (!s) return;
    this.#server = null;
    for (const sock of this.#sockets) sock.destroy();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /** Resolves when `pred` holds (checked after each request), or rejects after `timeoutMs`. */
  waitFor(pred: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const w = { pred, resolve: () => { clearTimeout(t); resolve(); } };
      const t = setTimeout(() => {
        this.#waiters = this.#waiters.filter((x) => x !== w);
        reject(new Error(`timed out waiting for ${what} (${this.received.length} requests received)`));
      }, timeoutMs);
      this.#waiters.push(w);
    });
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = { path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: performance.now(), answeredAt: null, status: null };
      const index = this.received.length;
      this.received.push(r);
      const answer = this.script(r, index);
      if (answer === 'hang') return this.#check();
      const send = (): void => {
        r.answeredAt = performance.now();
        r.status = answer.status;
        res.writeHead(answer.status, answer.headers ?? {});
        res.end(answer.body ?? '');
        this.#check();
      };
      if (answer.delayMs) setTimeout(send, answer.delayMs);
      else send();
    });
  }

  #check(): void {
    for (const w of [...this.#waiters]) if (w.pred()) { this.#waiters = this.#waiters.filter((x) => x !== w); w.resolve(); }
  }
}
