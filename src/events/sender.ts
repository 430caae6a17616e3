/**
 * One HTTP attempt of one delivery over undici: the compat POST (JSON body, `X-Pbx-Token`), the Standard Webhooks
 * headers, a `User-Agent`, and a per-request timeout driven by the injected clock. Never throws: every outcome,
 * network errors included, is an {@link AttemptOutcome}.
 */

import type { Dispatcher } from 'undici';
import type { Clock } from '../common/index.js';
import { classifyResponse, type AttemptOutcome } from './delivery-state.js';
import type { Target } from './endpoint.js';
import { parseSigningSecret, signatureHeaders } from './signature.js';
import { refusedTarget } from './target-guard.js';

/** Response bytes kept for `last_error` of a failed attempt. */
const ERROR_SNIPPET_BYTES = 256;

/** Header names we set; a webhook object's custom headers cannot override them (compared lower-case). */
const RESERVED = new Set(['content-type', 'content-length', 'host', 'user-agent', 'x-pbx-token', 'webhook-id', 'webhook-timestamp', 'webhook-signature', 'connection', 'transfer-encoding']);

/** One attempt's input. */
export interface AttemptRequest {
  deliveryId: string;
  body: string;
  target: Target;
  timeoutMs: number;
  userAgent: string;
  /** `delivery.refuse_private_targets`: a non-public target (literal, or after DNS) fails for good, unsent. */
  refusePrivateTargets?: boolean;
}

/** One attempt's result: the outcome plus what the attempt row records. */
export interface AttemptResult {
  outcome: AttemptOutcome;
  durationMs: number;
}

/** Entries kept per memo of {@link RequestCache} before it starts over (configuration strings: few in practice). */
const CACHE_MAX = 1000;

/**
 * What a dispatcher parses once instead of per request: signing keys (base64 of the `whsec_` secret) and endpoint
 * URLs. Both are pure functions of configuration strings, so a stale entry cannot exist; the memo is bounded.
 */
export class RequestCache {
  readonly #keys = new Map<string, ReturnType<typeof parseSigningSecret>>();
  readonly #urls = new Map<string, { origin: string; path: string }>();

  key(secret: string): ReturnType<typeof parseSigningSecret> {
    let k = this.#keys.get(secret);
    if (!k) {
      if (this.#keys.size >= CACHE_MAX) this.#keys.clear();
      k = parseSigningSecret(secret);
      this.#keys.set(secret, k);
    }
    return k;
  }

  /** Throws (TypeError) on a URL that does not parse, like `new URL`. */
  url(url: string): { origin: string; path: string } {
    let u = this.#urls.get(url);
    if (!u) {
      const parsed = new URL(url);
      if (this.#urls.size >= CACHE_MAX) this.#urls.clear();
      u = { origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` };
      this.#urls.set(url, u);
    }
    return u;
  }
}

/** Builds the request headers (exported for tests). */
export function buildHeaders(req: AttemptRequest, nowMs: number, cache?: RequestCache): Record<string, string> {
  const parsed = cache ? cache.key(req.target.signingSecret) : parseSigningSecret(req.target.signingSecret);
  if (!parsed.ok) throw new TypeError(`endpoint ${req.target.url}: ${parsed.error}`);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.target.headers)) {
    if (!RESERVED.has(name.toLowerCase())) headers[name] = value;
  }
  return Object.assign(headers, {
    'content-type': 'application/json',
    'user-agent': req.userAgent,
    'x-pbx-token': req.target.secretToken,
    ...signatureHeaders(parsed.key, req.deliveryId, Math.floor(nowMs / 1000), req.body),
  });
}

/** Sends one attempt. */
export async function sendAttempt(http: Dispatcher, clock: Clock, req: AttemptRequest, cache?: RequestCache): Promise<AttemptResult> {
  const started = clock.now();
  const abort = new AbortController();
  const timer = clock.setTimeout(() => abort.abort(new Error(`timeout after ${req.timeoutMs} ms`)), req.timeoutMs);
  try {
    let headers: Record<string, string>;
    try {
      headers = buildHeaders(req, started, cache);
    } catch (err) {
      return { outcome: { kind: 'failed', statusCode: 0, error: (err as Error).message }, durationMs: 0 };
    }
    const refused = req.refusePrivateTargets ? await refusedTarget(req.target.url) : null;
    if (refused) return { outcome: { kind: 'failed', statusCode: 0, error: refused }, durationMs: 0 };
    const url = cache ? cache.url(req.target.url) : { origin: new URL(req.target.url).origin, path: pathOf(req.target.url) };
    const res = await http.request({
      origin: url.origin,
      path: url.path,
      method: 'POST',
      headers,
      body: req.body,
      signal: abort.signal,
      // Backstops on real time in case the injected clock is not advancing; the clock timer is the contract.
      headersTimeout: req.timeoutMs + 1000,
      bodyTimeout: req.timeoutMs + 1000,
    });
    let snippet = '';
    if (res.statusCode >= 200 && res.statusCode < 300) {
      await res.body.dump();
    } else {
      snippet = await readSnippet(res.body);
    }
    const outcome = classifyResponse(res.statusCode, res.headers, clock.now(), snippet);
    return { outcome, durationMs: clock.now() - started };
  } catch (err) {
    // A refused target stays refused: failing for good beats retrying it until the horizon.
    const refusal = privateTargetRefusal(err);
    if (refusal) return { outcome: { kind: 'failed', statusCode: 0, error: refusal }, durationMs: clock.now() - started };
    const error = abort.signal.aborted ? String((abort.signal.reason as Error)?.message ?? 'timeout') : describeError(err);
    return { outcome: { kind: 'retryable', statusCode: null, error, retryAfterMs: null }, durationMs: clock.now() - started };
  } finally {
    clock.clearTimeout(timer);
  }
}

/** The guarded lookup's refusal (target-guard.ts), found through undici's wrapping, or null. */
function privateTargetRefusal(err: unknown): string | null {
  for (let e = err as { code?: string; message?: string; cause?: unknown } | undefined, depth = 0; e && depth < 4; e = e.cause as typeof e, depth++) {
    if (e.code === 'ERR_PRIVATE_TARGET') return e.message ?? 'refused by delivery.refuse_private_targets';
  }
  return null;
}

function pathOf(url: string): string {
  const u = new URL(url);
  return `${u.pathname}${u.search}`;
}

async function readSnippet(body: Dispatcher.ResponseData['body']): Promise<string> {
  try {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of body) {
      if (size < ERROR_SNIPPET_BYTES) chunks.push(chunk as Buffer);
      size += (chunk as Buffer).length;
      if (size > 64 * 1024) break; // enough: we only keep a snippet; undici closes the rest
    }
    return Buffer.concat(chunks).subarray(0, ERROR_SNIPPET_BYTES).toString('utf8').replace(/\s+/g, ' ').trim();
  } catch {
    return '';
  }
}

function describeError(err: unknown): string {
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e.code ?? e.cause?.code;
  const msg = e.cause?.message ?? e.message ?? String(err);
  return code ? `${code}: ${msg}` : msg;
}
