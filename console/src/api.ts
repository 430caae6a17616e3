// The console's one way to the server: same-origin fetch with the session cookie (HttpOnly: this code never sees
// it) and the per-session CSRF token on every state-changing request. The admin key is sent once, at sign-in, and
// not kept anywhere in this code.

let csrfToken: string | null = null;

/** Sets (or clears, on sign-out) the CSRF token the server handed this session. */
export function setCsrf(token: string | null): void {
  csrfToken = token;
}

/** The server's error envelope (`data.errors` on apply failures). */
export interface ErrorBody {
  code?: number;
  message?: string;
  data?: { errors?: string[] } | null;
}

/** An answer the server refused, with its message. */
export class ApiFailure extends Error {
  readonly status: number;
  readonly body: ErrorBody | null;

  constructor(status: number, message: string, body: ErrorBody | null) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** A request body: JSON, or raw bytes sent with their own content type (a greeting WAV). */
export type Body = unknown;

/** Calls the server; resolves to the envelope's `data` (or the whole body), rejects with {@link ApiFailure}. */
export async function api<T = unknown>(method: Method, path: string, body?: Body, contentType?: string): Promise<T> {
  const headers: Record<string, string> = {};
  const raw = body instanceof Blob || body instanceof ArrayBuffer;
  if (body !== undefined) headers['content-type'] = contentType ?? (raw ? 'application/octet-stream' : 'application/json');
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  const res = await fetch(path, {
    method, headers, credentials: 'same-origin',
    body: body === undefined ? undefined : raw ? (body as BodyInit) : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = null; }
  if (!res.ok) {
    const b = (json && typeof json === 'object' ? json : null) as ErrorBody | null;
    const errors = b?.data?.errors ? `: ${b.data.errors.join('; ')}` : '';
    throw new ApiFailure(res.status, `${b?.message ?? `HTTP ${res.status}`}${errors}`, b);
  }
  return (json && typeof json === 'object' && 'data' in json ? (json as { data: unknown }).data : json) as T;
}

/** The admin API (`/api/admin…`), opened by the console session. */
export const admin = <T = unknown>(method: Method, path: string, body?: Body, contentType?: string): Promise<T> =>
  api<T>(method, `/api/admin${path}`, body, contentType);

/** The message of anything thrown. */
export const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));
