/**
 * A real HTTP client for the integration e2e tests: undici over a socket to a running Switchboard, with the
 * integration key in the `token` header (the admin key as `Authorization: Bearer` on /api/admin/*), JSON / form-urlencoded / multipart bodies, and an optional local source address
 * (to test the IP whitelist from 127.0.0.2).
 */
import { Agent, FormData, request } from 'undici';

/** One HTTP answer, body parsed as JSON when it is JSON. */
export interface HttpAnswer<T = unknown> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON body (undefined when the body is not JSON). */
  json: T;
  text: string;
}

/** The compat envelope (SPEC.md §4). */
export interface Envelope<T = unknown> {
  code: number;
  status: 'success' | 'error';
  message: string;
  data?: T;
}

/** How to encode a POST body. */
export type BodyKind = 'json' | 'form' | 'multipart';

/** Options of {@link apiClient}. */
export interface ApiClientOptions {
  /** The `token` header (integration key); null sends none. Default `demo-api-key`. */
  token?: string | null;
  /** Sent as `Authorization: Bearer` on /api/admin/* paths (instead of `token`); null sends none. Default `demo-admin-key`. */
  adminKey?: string | null;
  /** Local source address of the connections (e.g. 127.0.0.2). */
  localAddress?: string;
}

/** A client bound to one Switchboard base URL. */
export interface ApiClient {
  get<T = unknown>(path: string, query?: Record<string, string | number | undefined>): Promise<HttpAnswer<Envelope<T>>>;
  send<T = unknown>(method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown, kind?: BodyKind): Promise<HttpAnswer<Envelope<T>>>;
  post<T = unknown>(path: string, body?: unknown, kind?: BodyKind): Promise<HttpAnswer<Envelope<T>>>;
  close(): Promise<void>;
}

/** Builds a client for `baseUrl` (`http://127.0.0.1:port`); paths are relative to it (`/api/integration/v2/...`). */
export function apiClient(baseUrl: string, opts: ApiClientOptions = {}): ApiClient {
  // undici 7 takes the source address from the Client option `localAddress`; `connect: { localAddress }` is
  // overwritten by it (lib/core/connect.js), so the top-level option is the one that works.
  const agent = new Agent({ ...(opts.localAddress ? { localAddress: opts.localAddress } : {}), keepAliveTimeout: 1000 });
  const token = opts.token === undefined ? 'demo-api-key' : opts.token;
  const adminKey = opts.adminKey === undefined ? 'demo-admin-key' : opts.adminKey;
  const baseHeaders = (path: string): Record<string, string> => {
    if (path.startsWith('/api/admin')) return adminKey === null ? {} : { authorization: `Bearer ${adminKey}` };
    return token === null ? {} : { token };
  };

  async function call<T>(method: string, path: string, body?: unknown, kind: BodyKind = 'json'): Promise<HttpAnswer<T>> {
    const headers = baseHeaders(path);
    let payload: string | FormData | undefined;
    if (body !== undefined) {
      if (kind === 'json') {
        headers['content-type'] = 'application/json';
        payload = JSON.stringify(body);
      } else if (kind === 'form') {
        headers['content-type'] = 'application/x-www-form-urlencoded';
        payload = new URLSearchParams(body as Record<string, string>).toString();
      } else {
        const fd = new FormData();
        for (const [k, v] of Object.entries(body as Record<string, string>)) fd.append(k, v);
        payload = fd;
      }
    }
    const res = await request(`${baseUrl}${path}`, { method: method as 'GET', headers, body: payload, dispatcher: agent });
    const text = await res.body.text();
    let json: unknown;
    try { json = JSON.parse(text); } catch { json = undefined; }
    return { status: res.statusCode, headers: res.headers, json: json as T, text };
  }

  return {
    get(path, query) {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) q.set(k, String(v));
      const qs = q.toString();
      return call('GET', qs ? `${path}?${qs}` : path);
    },
    send(method, path, body, kind) {
      return call(method, path, body, kind);
    },
    post(path, body, kind) {
      return call('POST', path, body, kind);
    },
    close: () => agent.close(),
  };
}

/** Integration API v2 base path. */
export const V2 = '/api/integration/v2';
/** Admin API base path. */
export const ADMIN = '/api/admin';

/** ISO 8601 UTC with milliseconds (SPEC.md §3). */
export const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
