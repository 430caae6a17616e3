// The console's one way to the server: same-origin fetch with the session cookie (HttpOnly: this code never sees
// it) and the per-session CSRF token on every state-changing request. The admin key is sent once, at sign-in, and
// not kept anywhere in this code.

let csrfToken = null;

/** Sets (or clears, on sign-out) the CSRF token the server handed this session. */
export function setCsrf(token) {
  csrfToken = token;
}

/** An answer the server refused, with its message. */
export class ApiFailure extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

/** Calls the server; resolves to the envelope's `data` (or the whole body), rejects with {@link ApiFailure}. */
export async function api(method, path, body) {
  const headers = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  const res = await fetch(path, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = null; }
  if (!res.ok) {
    const errors = json?.data?.errors ? `: ${json.data.errors.join('; ')}` : '';
    throw new ApiFailure(res.status, `${json?.message ?? `HTTP ${res.status}`}${errors}`, json);
  }
  return json && typeof json === 'object' && 'data' in json ? json.data : json;
}

export const admin = (method, path, body) => api(method, `/api/admin${path}`, body);
