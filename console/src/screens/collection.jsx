// A staged configuration collection (numbers, queues, ring groups, trunks): a table of items and a JSON editor.
import { useState } from 'preact/hooks';
import { admin } from '../api.js';
import { Status, useAction, useLoad } from '../common.jsx';

const summary = (item) => Object.entries(item).filter(([k, v]) => typeof v !== 'object' && !/password|secret/.test(k)).map(([k, v]) => `${k}: ${v}`).join(', ');

export function Collection({ path, keyField, noun }) {
  const [items, error, reload] = useLoad(() => admin('GET', `/${path}`), [path]);
  const [editing, setEditing] = useState(null);
  const [text, setText] = useState('');
  const [status, run] = useAction();
  const edit = (item) => { setEditing(item ? item[keyField] : ''); setText(JSON.stringify(item ?? { [keyField]: '' }, null, 2)); };
  const save = async (e) => {
    e.preventDefault();
    let body;
    try { body = JSON.parse(text); } catch (err) { return run(() => Promise.reject(new Error(`Not valid JSON: ${err.message}`))); }
    const r = await run(() => (editing ? admin('PUT', `/${path}/${encodeURIComponent(editing)}`, body) : admin('POST', `/${path}`, body)), `Saved ${noun} (staged: apply on Staged changes)`);
    if (r) { setEditing(null); reload(); }
  };
  const remove = async (key) => { if (await run(() => admin('DELETE', `/${path}/${encodeURIComponent(key)}`), `Deleted ${noun} ${key} (staged)`)) reload(); };
  const id = `edit-${path}`;
  return (
    <section>
      <Status status={status} />
      {error && <p role="alert" class="error">{error}</p>}
      <table>
        <thead><tr><th>{keyField}</th><th>Settings</th><th><span class="sr">Actions</span></th></tr></thead>
        <tbody>
          {(items ?? []).map((it) => (
            <tr key={it[keyField]}>
              <td>{it[keyField]}</td><td class="wrap">{summary(it)}</td>
              <td class="actions">
                <button type="button" aria-label={`Edit ${noun} ${it[keyField]}`} onClick={() => edit(it)}>Edit</button>
                <button type="button" class="danger" aria-label={`Delete ${noun} ${it[keyField]}`} onClick={() => remove(it[keyField])}>Delete</button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <button type="button" onClick={() => edit(null)}>Add {noun}</button>
      {editing !== null && (
        <form onSubmit={save} class="editor">
          <label for={id}>{editing ? `${noun} ${editing} (JSON)` : `New ${noun} (JSON)`}</label>
          <textarea id={id} rows={14} value={text} onInput={(e) => setText(e.currentTarget.value)} />
          <button type="submit">Save {noun}</button>
          <button type="button" onClick={() => setEditing(null)}>Cancel</button>
        </form>
      )}
    </section>
  );
}
