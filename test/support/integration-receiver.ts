/**
 * A real webhook receiver for the integration e2e tests: node:http on 127.0.0.1, a free port, answering 200 and
 * recording every request (path, headers, raw body, parsed body), plus an independent Standard Webhooks verifier.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One received webhook. */
export interface Hook {
  path: string;
  headers: IncomingHttpHeaders;
  raw: string;
  body: Record<string, unknown>;
}

/** The receiver. */
export interface HookReceiver {
  readonly hooks: Hook[];
  /** Decides the status of each answer (default 200). */
  status: (h: Hook) => number;
  url(path: string): string;
  /** Resolves with the hooks matching `pred` once there are at least `count` of them. */
  waitFor(pred: (h: Hook) => boolean, count: number, what: string, timeoutMs?: number): Promise<Hook[]>;
  close(): Promise<void>;
}

/** Starts a receiver on a free port of 127.0.0.1. */
export async function startHookReceiver(): Promise<HookReceiver> {
  const hooks: Hook[] = [];
  const state = { status: (_h: Hook): number => 200 };
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: Record<string, unknown> = {};
      try { body = JSON.parse(raw) as Record<string, unknown>; } catch { /* kept raw */ }
      const hook: Hook = { path: req.url ?? '', headers: req.headers, raw, body };
      hooks.push(hook);
      res.writeHead(state.status(hook), { 'content-type': 'text/plain' });
      res.end('ok');
    });
  });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    hooks,
    get status() { return state.status; },
    set status(fn) { state.status = fn; },
    url: (path) => `http://127.0.0.1:${port}${path}`,
    async waitFor(pred, count, what, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const got = hooks.filter(pred);
        if (got.length >= count) return got;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${got.length}/${count} (${hooks.length} hooks received)`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Verifies a Standard Webhooks signature independently of src/events: the secret is `whsec_<base64 key>`;
 * the signature header is space-separated `v1,<base64 HMAC-SHA256(key, id.timestamp.body)>` entries.
 */
export function verifyStandardWebhook(secret: string, headers: IncomingHttpHeaders, raw: string): boolean {
  const id = String(headers['webhook-id'] ?? '');
  const ts = String(headers['webhook-timestamp'] ?? '');
  const sig = String(headers['webhook-signature'] ?? '');
  if (!secret.startsWith('whsec_') || !id || !/^\d+$/.test(ts)) return false;
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${ts}.${raw}`).digest();
  return sig.split(' ').some((part) => {
    const [v, mac] = part.split(',');
    if (v !== 'v1' || !mac) return false;
    const got = Buffer.from(mac, 'base64');
    return got.length === expected.length && timingSafeEqual(got, expected);
  });
}

/**
 * The signing secret Switchboard derives from a secret_token when none is configured (docs/webhooks.md):
 * `whsec_` + base64(HMAC-SHA256(key "switchboard/webhook-signing/v1", token)). Written here from the doc, not imported.
 */
export function derivedSigningSecret(secretToken: string): string {
  return `whsec_${createHmac('sha256', 'switchboard/webhook-signing/v1').update(secretToken, 'utf8').digest('base64')}`;
}
