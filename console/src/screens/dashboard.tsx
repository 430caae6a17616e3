// The dashboard: live calls (with hang-up), devices and their registrations, queue state; all pushed over SSE.
import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { Status, useAction, useLive } from '../common.tsx';
import type { DashboardSnapshot } from '../types.ts';

export function Dashboard() {
  const [snap, setSnap] = useState<DashboardSnapshot | null>(null);
  const [status, run] = useAction();
  useLive({ dashboard: setSnap });
  if (!snap) return <p>Connecting…</p>;
  const hangup = (id: string) => run(() => api('POST', `/console/api/calls/${id}/hangup`), `Hanging up ${id}`);
  return (
    <div class="grid">
      <section aria-labelledby="calls-h">
        <h2 id="calls-h">Live calls ({snap.calls.length})</h2>
        <Status status={status} />
        {snap.calls.length === 0 ? <p>No calls in progress.</p> : (
          <table class="calls">
            <thead><tr><th>Call</th><th>State</th><th>From</th><th>To</th><th>Started</th><th><span class="sr">Actions</span></th></tr></thead>
            <tbody>
              {snap.calls.map((c) => (
                <tr key={c.unique_call_id} data-call={c.unique_call_id}>
                  <td>{c.unique_call_id}</td><td>{c.state}</td><td>{c.caller_name ?? ''} {c.caller_id ?? ''}</td><td>{c.dest_number}</td>
                  <td>{new Date(c.started_at).toLocaleTimeString()}</td>
                  <td><button type="button" class="danger" aria-label={`Hang up call ${c.unique_call_id}`} onClick={() => hangup(c.unique_call_id)}>Hang up</button></td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section aria-labelledby="dev-h">
        <h2 id="dev-h">Devices ({snap.devices.filter((d) => d.registered).length} registered)</h2>
        <table>
          <thead><tr><th>Device</th><th>User</th><th>Registered</th></tr></thead>
          <tbody>
            {snap.devices.map((d) => (
              <tr key={d.username}><td>{d.username}</td><td>{d.user_name} ({d.user_number})</td><td>{d.registered ? `yes (${d.contacts.length})` : 'no'}</td></tr>
            ))}
          </tbody>
        </table>
      </section>
      <section aria-labelledby="q-h">
        <h2 id="q-h">Queues</h2>
        {snap.queues.map((q) => (
          <div key={q.name} class="queue">
            <h3>{q.name}: {q.waiting.length} waiting</h3>
            {q.waiting.length > 0 && <p>Waiting calls: {q.waiting.join(', ')}</p>}
            <ul aria-label={`Agents of ${q.name}`}>{q.agents.map((a) => <li key={a.number}>{a.name ?? a.number} ({a.number}): <strong>{a.state}</strong></li>)}</ul>
          </div>
        ))}
      </section>
    </div>
  );
}
