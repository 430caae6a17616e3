// Call history (the integration API's get-user-calls, run inside the server), with filters; refreshed live when a
// call's records are stored. A call with a recording gets a player, and one that left a voicemail plays the
// message; both are fetched from the admin API with the console's session cookie (no key in this page).
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { admin, api } from '../api.ts';
import { Field, formValue, useLive, useLoad } from '../common.tsx';
import type { HistoryRow, Recording, VoicemailMessage } from '../types.ts';

interface Rows { rows: HistoryRow[]; recordings: Recording[]; voicemail: VoicemailMessage[] }

/** The audio of a recording and of a voicemail message, through the admin API (the session opens it). */
export const recordingAudio = (id: string): string => `/api/admin/recordings/${encodeURIComponent(id)}/audio`;
export const voicemailAudio = (m: Pick<VoicemailMessage, 'user_number' | 'message_id'>): string =>
  `/api/admin/users/${encodeURIComponent(m.user_number)}/voicemail/messages/${encodeURIComponent(m.message_id)}/audio`;

async function load(filters: Record<string, string>): Promise<Rows> {
  const rows = await api<HistoryRow[]>('GET', `/console/api/history?${new URLSearchParams(Object.entries(filters).filter(([, v]) => v))}`);
  if (rows.length === 0) return { rows, recordings: [], voicemail: [] };
  // Recordings start when a call is answered, so none of these rows' is older than the oldest row's start.
  const from = rows.map((r) => r.call_start_at).sort()[0]!;
  const users = [...new Set(rows.map((r) => r.user_number).filter(Boolean))];
  const [recordings, ...boxes] = await Promise.all([
    admin<Recording[]>('GET', `/recordings?from=${encodeURIComponent(from)}&limit=1000`).catch(() => [] as Recording[]),
    ...users.map((n) => admin<VoicemailMessage[]>('GET', `/users/${encodeURIComponent(n)}/voicemail/messages?limit=1000`).catch(() => [] as VoicemailMessage[])),
  ]);
  return { rows, recordings: recordings!, voicemail: boxes.flat() };
}

export function History() {
  const [filters, setFilters] = useState<Record<string, string>>({ limit: '50' });
  const [data, error, reload] = useLoad(() => load(filters), [JSON.stringify(filters)]);
  useLive({ history: () => reload() });
  const submit = (e: JSX.TargetedSubmitEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = e.currentTarget;
    const v = (n: string) => formValue(f, n).trim();
    setFilters({ from_date: v('h-from'), to_date: v('h-to'), users_numbers: v('h-users'), unique_call_id: v('h-call'), limit: v('h-limit') });
  };
  const recordingOf = (r: HistoryRow) => data?.recordings.find((x) => x.unique_call_id === r.unique_call_id && (x.user_number === null || x.user_number === r.user_number));
  const voicemailOf = (r: HistoryRow) => data?.voicemail.find((m) => m.unique_call_id === r.unique_call_id && m.user_number === r.user_number);
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
        <thead><tr><th>Call</th><th>Type</th><th>From</th><th>To</th><th>User</th><th>Start</th><th>Talk (s)</th><th>Recording / voicemail</th></tr></thead>
        <tbody>
          {(data?.rows ?? []).map((r) => {
            const rec = recordingOf(r);
            const vm = voicemailOf(r);
            return (
              <tr key={`${r.unique_call_id}-${r.user_number}`} data-call={r.unique_call_id}>
                <td>{r.unique_call_id}</td><td>{r.type}</td><td>{r.caller_name ?? ''} {r.caller_id ?? ''}</td><td>{r.dest_number}</td>
                <td>{r.user_name} ({r.user_number})</td><td>{new Date(r.call_start_at).toLocaleString()}</td><td>{r.conversation_duration}</td>
                <td>
                  {rec && <audio class="recording" controls preload="metadata" src={recordingAudio(rec.recording_id)} aria-label={`Recording of call ${r.unique_call_id}`} />}
                  {vm && (
                    <span class="vm">
                      <audio class="voicemail" controls preload="metadata" src={voicemailAudio(vm)} aria-label={`Voicemail left on call ${r.unique_call_id}`} />
                      <a href={`#/voicemail/${r.user_number}`}>Mailbox {r.user_number}</a>
                    </span>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}
