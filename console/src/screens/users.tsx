// Users and their devices (device passwords are write-only: typed here, never shown), and a form per user for the
// rest of its settings (voicemail box, recording, forwarding, do not disturb), drawn from the configuration schema.
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { admin } from '../api.ts';
import { Field, formValue, Status, useAction, useLoad } from '../common.tsx';
import type { User } from '../types.ts';
import { fieldErrorOf, ObjectFields, patchBody, type FieldError, type Obj, type ObjectFormShape } from '../form.tsx';
import { formShapes } from './collection.tsx';

type Submit = JSX.TargetedSubmitEvent<HTMLFormElement>;

export function Users() {
  const [users, error, reload] = useLoad(() => admin<User[]>('GET', '/users'));
  const [status, run, setStatus] = useAction();
  const [forms] = useLoad(formShapes);
  const [editing, setEditing] = useState<User | null>(null);
  const [value, setValue] = useState<Obj>({});
  const [fieldError, setFieldError] = useState<FieldError | null>(null);
  const shape = forms?.['users'] as ObjectFormShape | undefined;
  const edit = (u: User) => { setEditing(u); setValue(structuredClone(u)); setFieldError(null); setStatus(null); };
  const saveUser = async (e: Submit) => {
    e.preventDefault();
    if (!editing || !shape) return;
    // Devices have their own routes (and write-only passwords): the form leaves them out of the PATCH.
    const { devices: _d, ...body } = patchBody(shape, editing, value);
    try {
      await admin('PATCH', `/users/${encodeURIComponent(editing.number)}`, body);
    } catch (err) {
      const fe = fieldErrorOf(err);
      setFieldError(fe);
      await run(() => Promise.reject(fe ? new Error(`Not saved: ${fe.message}`) : err));
      return;
    }
    setStatus({ text: `User ${String(value['number'] ?? editing.number)} saved (staged)` });
    setEditing(null);
    reload();
  };
  const addUser = async (e: Submit) => {
    e.preventDefault();
    const f = e.currentTarget;
    const v = (n: string) => formValue(f, n).trim();
    const devices = v('device-username') ? [{ username: v('device-username'), password: v('device-password') }] : [];
    const r = await run(() => admin('POST', '/users', { name: v('user-name'), number: v('user-number'), devices }), `User ${v('user-number')} added (staged)`);
    if (r) { f.reset(); reload(); }
  };
  const addDevice = async (e: Submit, number: string) => {
    e.preventDefault();
    const f = e.currentTarget;
    const username = formValue(f, 'username').trim();
    const password = formValue(f, 'password');
    if (await run(() => admin('POST', `/users/${number}/devices`, { username, password }), `Device ${username} added (staged)`)) { f.reset(); reload(); }
  };
  const removeUser = async (n: string) => { if (await run(() => admin('DELETE', `/users/${n}`), `User ${n} deleted (staged)`)) reload(); };
  const removeDevice = async (n: string, d: string) => { if (await run(() => admin('DELETE', `/users/${n}/devices/${encodeURIComponent(d)}`), `Device ${d} deleted (staged)`)) reload(); };
  return (
    <section>
      <Status status={status} />
      {error && <p role="alert" class="error">{error}</p>}
      <table>
        <thead><tr><th>Number</th><th>Name</th><th>Devices</th><th><span class="sr">Actions</span></th></tr></thead>
        <tbody>
          {(users ?? []).map((u) => (
            <tr key={u.number}>
              <td>{u.number}</td><td>{u.name}</td>
              <td>
                <ul class="plain">
                  {u.devices.map((d) => (
                    <li key={d.username}>{d.username} <button type="button" class="small danger" aria-label={`Delete device ${d.username}`} onClick={() => removeDevice(u.number, d.username)}>×</button></li>
                  ))}
                </ul>
                <form class="inline" onSubmit={(e) => addDevice(e, u.number)} aria-label={`Add a device to ${u.name}`}>
                  <label for={`dev-u-${u.number}`} class="sr">Device username for {u.number}</label>
                  <input id={`dev-u-${u.number}`} name="username" placeholder="username" required />
                  <label for={`dev-p-${u.number}`} class="sr">Device password for {u.number}</label>
                  <input id={`dev-p-${u.number}`} name="password" type="password" placeholder="password" required autocomplete="new-password" />
                  <button type="submit" aria-label={`Add device to ${u.number}`}>Add device</button>
                </form>
              </td>
              <td class="actions">
                <button type="button" aria-label={`Edit user ${u.number}`} onClick={() => edit(u)}>Edit</button>
                <button type="button" class="danger" aria-label={`Delete user ${u.number}`} onClick={() => removeUser(u.number)}>Delete</button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {editing && shape && (
        <form onSubmit={saveUser} class="card editor" aria-label={`Edit user ${editing.number}`} noValidate key={editing.number}>
          <h2>Edit user {editing.number}</h2>
          <ObjectFields shape={shape} value={value} onChange={setValue} prefix="f-users" path="" error={fieldError} skip={['devices']} />
          <div class="actions">
            <button type="submit">Save user</button>
            <button type="button" onClick={() => setEditing(null)}>Cancel</button>
          </div>
        </form>
      )}
      <form onSubmit={addUser} class="card" aria-labelledby="add-user-h">
        <h2 id="add-user-h">Add a user</h2>
        <Field id="user-name" label="Name" required />
        <Field id="user-number" label="Extension" required pattern="[0-9]+" inputMode="numeric" />
        <Field id="device-username" label="Device username" />
        <Field id="device-password" label="Device password" type="password" autocomplete="new-password" />
        <button type="submit">Add user</button>
      </form>
    </section>
  );
}
