// A user's voicemail box: messages (play, mark heard or new, delete) and the greeting (upload a WAV, play it back,
// remove it). Audio is fetched from the admin API with the session cookie; the upload sends the file as it is and
// the server converts it (or answers 400 saying why not).
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { admin } from '../api.ts';
import { Status, useAction, useLoad } from '../common.tsx';
import type { User, VoicemailMessage } from '../types.ts';
import { voicemailAudio } from './history.tsx';

const seconds = (ms: number): string => (ms / 1000).toFixed(1);

export function Voicemail({ arg }: { arg: string }) {
  const [users] = useLoad(() => admin<User[]>('GET', '/users'));
  const number = arg || users?.[0]?.number || '';
  const [messages, error, reload] = useLoad(() => (number ? admin<VoicemailMessage[]>('GET', `/users/${number}/voicemail/messages`) : Promise.resolve([])), [number]);
  // The greeting's player is reloaded after an upload or removal (a new URL each time, so the browser fetches it).
  const [greetingRev, setGreetingRev] = useState(0);
  const [greeting] = useLoad(async () => {
    if (!number) return false;
    const res = await fetch(`/api/admin/users/${number}/voicemail/greeting`, { method: 'HEAD', credentials: 'same-origin' });
    return res.ok;
  }, [number, greetingRev]);
  const [status, run] = useAction();
  const base = `/users/${encodeURIComponent(number)}/voicemail`;
  const mark = async (m: VoicemailMessage, heard: boolean) => { if (await run(() => admin('PATCH', `${base}/messages/${m.message_id}`, { heard }), heard ? 'Marked heard' : 'Marked new')) reload(); };
  const remove = async (m: VoicemailMessage) => { if (await run(() => admin('DELETE', `${base}/messages/${m.message_id}`), `Message ${m.message_id} deleted`) !== undefined) reload(); };
  const upload = async (e: JSX.TargetedSubmitEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = e.currentTarget;
    const file = (f.elements.namedItem('greeting-file') as HTMLInputElement).files?.[0];
    if (!file) return;
    const r = await run(() => admin<{ duration_ms: number }>('PUT', `${base}/greeting`, file, 'audio/wav'), (x) => `Greeting saved (${seconds(x.duration_ms)} s)`);
    if (r) { f.reset(); setGreetingRev(greetingRev + 1); }
  };
  const removeGreeting = async () => {
    if (await run(() => admin('DELETE', `${base}/greeting`), 'Greeting removed: the configured or built-in one plays') !== undefined) setGreetingRev(greetingRev + 1);
  };
  return (
    <section>
      <div class="field">
        <label for="vm-user">Mailbox of</label>
        <select id="vm-user" value={number} onChange={(e) => { location.hash = `#/voicemail/${e.currentTarget.value}`; }}>
          {(users ?? []).map((u) => <option key={u.number} value={u.number}>{u.name} ({u.number})</option>)}
        </select>
      </div>
      <Status status={status} />
      {error && <p role="alert" class="error">{error}</p>}
      <h2>Messages</h2>
      {messages && messages.length === 0 && <p>No messages.</p>}
      <table class="messages">
        <thead><tr><th>From</th><th>Left at</th><th>Length (s)</th><th>State</th><th>Play</th><th><span class="sr">Actions</span></th></tr></thead>
        <tbody>
          {(messages ?? []).map((m) => (
            <tr key={m.message_id} data-message={m.message_id} data-call={m.unique_call_id}>
              <td>{m.caller_name ?? ''} {m.caller_id ?? ''}</td><td>{new Date(m.recorded_at).toLocaleString()}</td><td>{seconds(m.duration_ms)}</td>
              <td>{m.heard ? 'heard' : <strong>new</strong>}</td>
              <td><audio controls preload="metadata" src={voicemailAudio(m)} aria-label={`Message from ${m.caller_id ?? 'unknown'} at ${m.recorded_at}`} /></td>
              <td class="actions">
                {m.heard
                  ? <button type="button" aria-label={`Mark message ${m.message_id} new`} onClick={() => mark(m, false)}>Mark new</button>
                  : <button type="button" aria-label={`Mark message ${m.message_id} heard`} onClick={() => mark(m, true)}>Mark heard</button>}
                <button type="button" class="danger" aria-label={`Delete message ${m.message_id}`} onClick={() => remove(m)}>Delete</button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <section class="card" aria-labelledby="greeting-h">
        <h2 id="greeting-h">Greeting</h2>
        {greeting
          ? <p><audio controls preload="metadata" src={`/api/admin${base}/greeting?rev=${greetingRev}`} aria-label={`Greeting of ${number}`} />
              {' '}<button type="button" class="danger" onClick={removeGreeting}>Remove greeting</button></p>
          : <p>No uploaded greeting: the configured one (or the built-in one) plays.</p>}
        <form class="inline" onSubmit={upload} aria-label="Upload a greeting">
          <label for="greeting-file">Greeting WAV file</label>
          <input id="greeting-file" name="greeting-file" type="file" accept="audio/wav,.wav" required />
          <button type="submit">Upload greeting</button>
        </form>
      </section>
    </section>
  );
}
