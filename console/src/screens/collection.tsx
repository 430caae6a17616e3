// A staged configuration collection (numbers, queues, ring groups, trunks): a table of items and a form drawn from
// the configuration schema. The server's 400 is shown next to the field it names; secrets are write-only.
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { admin, api } from '../api.ts';
import { Status, useAction, useLoad } from '../common.tsx';
import { fieldErrorOf, forSending, ObjectFields, patchBody, type FieldError, type FormShape, type Obj, type ObjectFormShape } from '../form.tsx';

const summary = (item: Obj): string => Object.entries(item)
  .filter(([k, v]) => !k.endsWith('_set') && v !== null && (typeof v !== 'object' || Array.isArray(v)))
  .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : String(v)}`).join('; ');

/** The form shapes, loaded once per page. */
let shapes: Promise<Record<string, FormShape>> | null = null;
export const formShapes = (): Promise<Record<string, FormShape>> => (shapes ??= api<Record<string, FormShape>>('GET', '/console/api/forms').catch((e: unknown) => { shapes = null; throw e; }));

export function Collection({ path, keyField, noun }: { path: string; keyField: string; noun: string }) {
  const [items, error, reload] = useLoad(() => admin<Obj[]>('GET', `/${path}`), [path]);
  const [forms] = useLoad(formShapes);
  const [editing, setEditing] = useState<string | null>(null);
  const [original, setOriginal] = useState<Obj>({});
  const [value, setValue] = useState<Obj>({});
  const [fieldError, setFieldError] = useState<FieldError | null>(null);
  const [status, run, setStatus] = useAction();
  const shape = forms?.[path] as ObjectFormShape | undefined;
  const edit = (item: Obj | null) => { setEditing(item ? String(item[keyField]) : ''); setValue(item ? structuredClone(item) : {}); setOriginal(item ?? {}); setFieldError(null); setStatus(null); };
  const save = async (e: JSX.TargetedSubmitEvent<HTMLFormElement>) => {
    e.preventDefault();
    if (!shape) return;
    try {
      // An edit is a PATCH: a PUT would fill in defaults for what it leaves out, a secret the page never saw included.
      await (editing ? admin('PATCH', `/${path}/${encodeURIComponent(editing)}`, patchBody(shape, original, value)) : admin('POST', `/${path}`, forSending(value)));
    } catch (err) {
      const fe = fieldErrorOf(err);
      setFieldError(fe);
      // The field shows its own message; the status line says the save failed (and why, when no field is named).
      await run(() => Promise.reject(fe ? new Error(`Not saved: ${fe.message}`) : err));
      return;
    }
    setStatus({ text: `Saved ${noun} ${String(value[keyField] ?? '')} (staged: apply on Staged changes)` });
    setEditing(null);
    setFieldError(null);
    reload();
  };
  const remove = async (key: string) => { if (await run(() => admin('DELETE', `/${path}/${encodeURIComponent(key)}`), `Deleted ${noun} ${key} (staged)`)) reload(); };
  const title = editing ? `Edit ${noun} ${editing}` : `New ${noun}`;
  return (
    <section>
      <Status status={status} />
      {error && <p role="alert" class="error">{error}</p>}
      <table>
        <thead><tr><th>{keyField}</th><th>Settings</th><th><span class="sr">Actions</span></th></tr></thead>
        <tbody>
          {(items ?? []).map((it) => (
            <tr key={String(it[keyField])}>
              <td>{String(it[keyField])}</td><td class="wrap">{summary(it)}</td>
              <td class="actions">
                <button type="button" aria-label={`Edit ${noun} ${String(it[keyField])}`} onClick={() => edit(it)}>Edit</button>
                <button type="button" class="danger" aria-label={`Delete ${noun} ${String(it[keyField])}`} onClick={() => remove(String(it[keyField]))}>Delete</button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <button type="button" onClick={() => edit(null)}>Add {noun}</button>
      {editing !== null && shape && (
        <form onSubmit={save} class="card editor" aria-label={title} noValidate key={editing}>
          <h2>{title}</h2>
          <ObjectFields shape={shape} value={value} onChange={setValue} prefix={`f-${path}`} path="" error={fieldError} />
          <div class="actions">
            <button type="submit">Save {noun}</button>
            <button type="button" onClick={() => { setEditing(null); setFieldError(null); }}>Cancel</button>
          </div>
        </form>
      )}
    </section>
  );
}
