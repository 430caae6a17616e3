// Call history (the integration API's get-user-calls, run inside the server), with filters; refreshed live when a
// call's records are stored.
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { Field, useLive, useLoad } from '../common.jsx';

export function History() {
  const [filters, setFilters] = useState({ limit: '50' });
  const [rows, error, reload] = useLoad(() => api('GET', `/console/api/history?${new URLSearchParams(Object.entries(filters).filter(([, v]) => v))}`), [JSON.stringify(filters)]);
  useLive({ history: () => reload() });
  const submit = (e) => {
    e.preventDefault();
    const f = e.currentTarget;
    const v = (n) => f.elements.namedItem(n).value.trim();
    setFilters({ from_date: v('h-from'), to_date: v('h-to'), users_numbers: v('h-users'), unique_call_id: v('h-call'), limit: v('h-limit') });
  };
  return (
    <section>
      <form class="filters" onSubmit={submit} aria-label="Filters">
        <Field id="h-from" label="From date" type="date" />
        <Field id="h-to" label="To date" type="date" />
        <Field id="h-users" label="Users (extensions, comma separated)" />
        <Field id="h-call" label="unique_call_id" />
        <Field id="h-limit" label="Rows" type="number" min="1" max="10000" value="50" />
        <button type="submit">Filter</button>
      </form>
      {error && <p role="alert" class="error">{error}</p>}
      <table class="history">
        <thead><tr><th>Call</th><th>Type</th><th>From</th><th>To</th><th>User</th><th>Start</th><th>Talk (s)</th><th>Recording</th></tr></thead>
        <tbody>
          {(rows ?? []).map((r) => (
            <tr key={`${r.unique_call_id}-${r.user_number}`} data-call={r.unique_call_id}>
              <td>{r.unique_call_id}</td><td>{r.type}</td><td>{r.caller_name ?? ''} {r.caller_id ?? ''}</td><td>{r.dest_number}</td>
              <td>{r.user_name} ({r.user_number})</td><td>{new Date(r.call_start_at).toLocaleString()}</td><td>{r.conversation_duration}</td>
              <td>{r.recording_url ? <audio controls preload="none" src={r.recording_url} aria-label={`Recording of call ${r.unique_call_id}`} /> : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
