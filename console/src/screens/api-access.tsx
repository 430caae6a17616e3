// API access: regenerate the integration key (shown once), the IP whitelist, and the request builder whose "test
// API request" runs inside the server (the key is added there and never reaches this page).
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { admin, api } from '../api.ts';
import { Field, formValue, Status, useAction, useLoad } from '../common.tsx';
import type { ApiAccessInfo, BuilderAnswer } from '../types.ts';

type Op = 'get-user-calls' | 'get-queue-calls' | 'get-ringgroup-calls' | 'call-to-number';
type Submit = JSX.TargetedSubmitEvent<HTMLFormElement>;

const OPS: Record<Op, string[]> = {
  'get-user-calls': ['from_date', 'to_date', 'sort_by', 'offset', 'limit', 'users_numbers', 'unique_call_id'],
  'get-queue-calls': ['from_date', 'to_date', 'sort_by', 'offset', 'limit', 'queues_names', 'unique_call_id'],
  'get-ringgroup-calls': ['from_date', 'to_date', 'sort_by', 'offset', 'limit', 'ringgroups_names', 'unique_call_id'],
  'call-to-number': ['user_number', 'number_to_call', 'caller_id'],
};

export function ApiAccess() {
  const [access, error, reload] = useLoad(() => admin<ApiAccessInfo>('GET', '/api-access'));
  const [status, run] = useAction();
  const [newKey, setNewKey] = useState<string | null>(null);
  const [op, setOp] = useState<Op>('get-user-calls');
  const [result, setResult] = useState<BuilderAnswer | null>(null);
  const regenerate = async () => {
    const r = await run(() => admin<{ api_key: string }>('POST', '/api-key/regenerate'), 'New key staged: copy it now, it is shown only once; the old key works until you apply');
    if (r) setNewKey(r.api_key);
  };
  const addIp = async (e: Submit) => {
    e.preventDefault();
    const input = e.currentTarget.elements.namedItem('whitelist-ip') as HTMLInputElement;
    if (await run(() => admin('POST', '/whitelist', { ip: input.value.trim() }), `${input.value} added (staged)`)) { input.value = ''; reload(); }
  };
  const removeIp = async (ip: string) => { if (await run(() => admin('DELETE', `/whitelist?ip=${encodeURIComponent(ip)}`), `${ip} removed (staged)`)) reload(); };
  const send = async (e: Submit) => {
    e.preventDefault();
    const f = e.currentTarget;
    const params: Record<string, string> = {};
    for (const p of OPS[op]) { const v = formValue(f, `rb-${p}`).trim(); if (v) params[p] = v; }
    const r = await run(() => api<BuilderAnswer>('POST', '/console/api/integration-request', { operation: op, params }), (x) => `${x.method} ${x.url} → ${x.status}`);
    if (r) setResult(r);
  };
  return (
    <div class="grid">
      <section class="card" aria-labelledby="key-h">
        <h2 id="key-h">Integration API key</h2>
        <Status status={status} />
        <p>The key is never shown again after it is created. Clients send it in the <code>token</code> header.</p>
        <button type="button" class="danger" onClick={regenerate}>Regenerate key</button>
        {newKey && <p class="once"><label for="new-key">New key (shown once)</label> <input id="new-key" readOnly value={newKey} onFocus={(e) => e.currentTarget.select()} /></p>}
      </section>
      <section class="card" aria-labelledby="wl-h">
        <h2 id="wl-h">Whitelisted addresses</h2>
        {error && <p role="alert" class="error">{error}</p>}
        <ul class="plain">
          {(access?.whitelisted_ips ?? []).map((ip) => (
            <li key={ip}><code>{ip}</code> <button type="button" class="small danger" aria-label={`Remove ${ip}`} onClick={() => removeIp(ip)}>×</button></li>
          ))}
        </ul>
        <form class="inline" onSubmit={addIp}>
          <label for="whitelist-ip">Address or CIDR</label>
          <input id="whitelist-ip" name="whitelist-ip" required placeholder="203.0.113.0/24" />
          <button type="submit">Add IP</button>
        </form>
      </section>
      <section class="card wide" aria-labelledby="rb-h">
        <h2 id="rb-h">Request builder</h2>
        <form onSubmit={send}>
          <div class="field">
            <label for="rb-op">Operation</label>
            <select id="rb-op" value={op} onChange={(e) => { setOp(e.currentTarget.value as Op); setResult(null); }}>
              {(Object.keys(OPS) as Op[]).map((o) => <option key={o}>{o}</option>)}
            </select>
          </div>
          <div class="params" key={op}>{OPS[op].map((p) => <Field key={p} id={`rb-${p}`} label={p} />)}</div>
          <button type="submit">Test API request</button>
        </form>
        {result && (
          <div>
            <p>curl equivalent:</p>
            <pre>{result.method === 'GET'
              ? `curl -s -H 'token: <your API key>' '${location.origin}${result.url}'`
              : `curl -s -H 'token: <your API key>' -H 'content-type: application/json' -d '${JSON.stringify(Object.fromEntries(OPS[op].map((p) => [p, (document.getElementById(`rb-${p}`) as HTMLInputElement | null)?.value]).filter(([, v]) => v)))}' ${location.origin}${result.url}`}</pre>
            <p>Answer: HTTP <output id="rb-status">{result.status}</output></p>
            <pre id="rb-body" aria-label="Response body">{JSON.stringify(result.body, null, 2)}</pre>
          </div>
        )}
      </section>
    </div>
  );
}
