// The global webhook (URL, write-only secret token, a tick box per event), the event catalogue with sample payloads
// and field descriptions, "send test", and the delivery log with redeliver.
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { admin, api } from '../api.ts';
import { Field, formValue, Status, useAction, useLive, useLoad } from '../common.tsx';
import type { CatalogueEntry, Delivery, WebhookSettings } from '../types.ts';

export function Webhooks() {
  const [hook, error, reload] = useLoad(() => admin<WebhookSettings>('GET', '/webhook'));
  const [catalogue] = useLoad(() => api<CatalogueEntry[]>('GET', '/console/api/catalogue'));
  const [shown, setShown] = useState('user_inbound');
  const [status, run] = useAction();
  const save = async (e: JSX.TargetedSubmitEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = e.currentTarget;
    const events = [...f.querySelectorAll<HTMLInputElement>('input[name=event]:checked')].map((x) => x.value);
    const body: Record<string, unknown> = { url: formValue(f, 'webhook-url'), enabled: (f.elements.namedItem('webhook-enabled') as HTMLInputElement).checked, events };
    const secret = f.elements.namedItem('webhook-secret') as HTMLInputElement;
    const token = secret.value;
    if (token) body.secret_token = token;
    if (await run(() => admin('PATCH', '/webhook', body), 'Webhook saved (staged: apply on Staged changes)')) { secret.value = ''; reload(); }
  };
  const entry = catalogue?.find((c) => c.type === shown) ?? catalogue?.[0];
  const test = () => run(() => admin<{ url: string; delivery_id: string }>('POST', '/webhooks/test', { type: shown }), (r) => `Test ${shown} queued to ${r.url} (delivery ${r.delivery_id})`);
  if (!hook || !catalogue || !entry) return error ? <p role="alert" class="error">{error}</p> : <p>Loading…</p>;
  return (
    <div class="grid">
      <form onSubmit={save} class="card" aria-labelledby="wh-h" key={JSON.stringify(hook)}>
        <h2 id="wh-h">Endpoint</h2>
        <Status status={status} />
        <Field id="webhook-url" label="URL" type="url" value={hook.url} />
        <Field id="webhook-secret" label="Secret token (write-only; leave empty to keep it)" type="password" autocomplete="off" placeholder="unchanged" />
        <div class="check"><input id="webhook-enabled" name="webhook-enabled" type="checkbox" checked={hook.enabled} /><label for="webhook-enabled">Enabled</label></div>
        <fieldset>
          <legend>Events sent</legend>
          {catalogue.filter((c) => c.type !== 'webhook_component_event').map((c) => (
            <div class="check" key={c.type}>
              <input id={`ev-${c.type}`} type="checkbox" name="event" value={c.type} checked={hook.events.includes(c.type)} />
              <label for={`ev-${c.type}`}>{c.type}</label>
            </div>
          ))}
        </fieldset>
        <button type="submit">Save webhook</button>
      </form>
      <section class="card" aria-labelledby="cat-h">
        <h2 id="cat-h">Event catalogue</h2>
        <div class="field">
          <label for="event-select">Event</label>
          <select id="event-select" value={shown} onChange={(e) => setShown(e.currentTarget.value)}>
            {catalogue.map((c) => <option key={c.type} value={c.type}>{c.type}</option>)}
          </select>
        </div>
        <p>{entry.description}</p>
        <button type="button" onClick={test}>Send test</button>
        <h3>Sample payload</h3>
        <pre aria-label="Sample payload">{JSON.stringify(entry.sample, null, 2)}</pre>
        <h3>Fields</h3>
        <table>
          <thead><tr><th>Field</th><th>Meaning</th></tr></thead>
          <tbody>{Object.keys(entry.sample).map((k) => <tr key={k}><td><code>{k}</code></td><td>{entry.fields[k] ?? ''}</td></tr>)}</tbody>
        </table>
      </section>
    </div>
  );
}

export function Deliveries() {
  const [rows, error, reload] = useLoad(() => admin<Delivery[]>('GET', '/webhooks/deliveries?limit=100'));
  const [status, run] = useAction();
  useLive({ history: () => reload() });
  const redeliver = async (id: string) => { if (await run(() => admin('POST', `/webhooks/deliveries/${id}/redeliver`), `Delivery ${id} queued again`)) reload(); };
  return (
    <section>
      <Status status={status} />
      {error && <p role="alert" class="error">{error}</p>}
      <button type="button" onClick={reload}>Refresh</button>
      <table class="deliveries">
        <thead><tr><th>Delivery</th><th>Event</th><th>Call</th><th>Endpoint</th><th>Status</th><th>Attempts</th><th><span class="sr">Actions</span></th></tr></thead>
        <tbody>
          {(rows ?? []).map((d) => (
            <tr key={d.delivery_id} data-type={d.type}>
              <td><code>{d.delivery_id}</code></td><td>{d.type}</td><td>{d.unique_call_id}</td><td class="wrap">{d.endpoint_url}</td><td>{d.status}</td><td>{d.attempts}</td>
              <td><button type="button" aria-label={`Redeliver ${d.delivery_id}`} onClick={() => redeliver(d.delivery_id)}>Redeliver</button></td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
