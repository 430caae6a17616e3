// Forms drawn from the configuration's schema table (GET /console/api/forms): one labelled control per key, its
// doc as help text, the server's 400 shown next to the field it names. Secrets are write-only: the form shows
// whether one is set and sends it only when something new is typed.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { ApiFailure } from './api.ts';

/** A schema-table entry as the server sends it (src/api/console/forms.ts). */
export type FormShape =
  | { kind: 'string'; doc: string; default?: unknown; nullable?: boolean; allowEmpty?: boolean; oneOf?: readonly string[]; digits?: boolean; secret?: boolean; format?: string }
  | { kind: 'int'; doc: string; default?: unknown; min?: number; max?: number; nullable?: boolean }
  | { kind: 'bool'; doc: string; default?: unknown }
  | { kind: 'list'; doc: string; default?: unknown; item: FormShape; minItems?: number }
  | { kind: 'object'; doc: string; default?: unknown; fields: Record<string, FormShape> }
  | { kind: 'map'; doc: string; default?: unknown; value: FormShape }
  | { kind: 'union'; doc: string; default?: unknown; tag: string; variants: Record<string, Record<string, FormShape>> }
  | { kind: 'next'; doc: string; default?: unknown; keys: readonly string[] };
export type ObjectFormShape = Extract<FormShape, { kind: 'object' }>;

export type Obj = Record<string, unknown>;

/**
 * How a control reports a change: an updater of the current value. Updaters, not values, because two controls can
 * change before the form re-renders (a text box's change on blur, then a select), and each must see the other's.
 */
export type Update<T = unknown> = (f: (prev: T) => T) => void;

/** A field error: the path the server named (`agents/0`, `forward/always`) and its message. */
export interface FieldError {
  path: string;
  message: string;
}

/** The field a 400 names (`Invalid field 'x/y': …`, `Missing field 'x'`, `Unknown field 'x'`), if any. */
export function fieldErrorOf(e: unknown): FieldError | null {
  if (!(e instanceof ApiFailure) || e.status !== 400) return null;
  const m = /^(?:Invalid|Missing|Unknown) field '([^']+)'/.exec(e.message);
  return m ? { path: m[1]!, message: e.message } : null;
}

/** True when `error` belongs to the control at `path` (itself or, for a list control, one of its items). */
const errorAt = (error: FieldError | null, path: string): boolean => !!error && (error.path === path || error.path.startsWith(`${path}/`));

const domId = (prefix: string, path: string): string => `${prefix}-${path.replace(/[^A-Za-z0-9_-]/g, '-')}`;

function Control({ id, label, shape, error, children, inline }: { id: string; label: string; shape: FormShape; error: FieldError | null; children: ComponentChildren; inline?: boolean }) {
  return (
    <div class={inline ? 'check' : 'field'}>
      {inline ? children : null}
      <label for={id}>{label}</label>
      {inline ? null : children}
      <small id={`${id}-help`} class="help">{shape.doc}</small>
      {error && <p id={`${id}-error`} class="error field-error" role="alert">{error.message}</p>}
    </div>
  );
}

/** The `aria-*` of a control: help text and, when the server refused it, the error. */
const described = (id: string, error: FieldError | null) => ({
  'aria-describedby': error ? `${id}-error ${id}-help` : `${id}-help`,
  'aria-invalid': error ? ('true' as const) : undefined,
});

const nextText = (v: unknown): string => {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  return Object.entries(v as Obj).map(([k, n]) => `${k}=${String(n ?? '')}`).join(', ');
};
const parseNext = (t: string): unknown => {
  const s = t.trim();
  if (!s) return null;
  if (!s.includes('=')) return s;
  return Object.fromEntries(s.split(',').map((p) => p.trim()).filter(Boolean).map((p) => {
    const [k, ...rest] = p.split('=');
    const n = rest.join('=').trim();
    return [k!.trim(), n === '' ? null : n];
  }));
};
const mapText = (v: unknown): string => Object.entries((v ?? {}) as Obj).map(([k, x]) => `${k}: ${String(x)}`).join('\n');
const parseMap = (t: string): Obj => Object.fromEntries(t.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => {
  const i = l.indexOf(':');
  return i < 0 ? [l, ''] : [l.slice(0, i).trim(), l.slice(i + 1).trim()];
}));

/**
 * A text box for a value kept in another form (a list as "a, b", outcome pairs, header lines): the text is the
 * box's own while typing (so "1001," keeps its comma), and every keystroke passes the parsed value on.
 */
function TextAs({ id, value, format, parse, onChange, multiline, ...aria }: {
  id: string; value: unknown; format: (v: unknown) => string; parse: (t: string) => unknown; onChange: (v: unknown) => void; multiline?: boolean;
  'aria-describedby': string; 'aria-invalid': 'true' | undefined;
}) {
  const [text, setText] = useState(() => format(value));
  const onInput = (t: string) => { setText(t); onChange(parse(t)); };
  return multiline
    ? <textarea id={id} rows={3} value={text} {...aria} onInput={(e) => onInput(e.currentTarget.value)} />
    : <input id={id} value={text} {...aria} onInput={(e) => onInput(e.currentTarget.value)} />;
}

/** One key of an object form. */
export function ShapeField({ name, shape, value, onChange: update, prefix, path, error, setFlag }: {
  name: string; shape: FormShape; value: unknown; onChange: Update; prefix: string; path: string;
  error: FieldError | null; setFlag?: boolean;
}) {
  const id = domId(prefix, path);
  const err = errorAt(error, path) && (shape.kind !== 'object' && shape.kind !== 'list') ? error : null;
  const dflt = shape.default;
  const onChange = (v: unknown) => update(() => v);
  switch (shape.kind) {
    case 'string': {
      if (shape.secret) {
        return (
          <Control id={id} label={`${name} (write-only: ${setFlag ? 'set' : 'not set'})`} shape={shape} error={err}>
            <input id={id} type="password" autocomplete="new-password" value={typeof value === 'string' ? value : ''}
              placeholder={setFlag ? 'set (leave empty to keep it)' : 'not set'} {...described(id, err)}
              onInput={(e) => onChange(e.currentTarget.value === '' ? undefined : e.currentTarget.value)} />
          </Control>
        );
      }
      if (shape.oneOf) {
        return (
          <Control id={id} label={name} shape={shape} error={err}>
            <select id={id} value={value === null || value === undefined ? '' : String(value)} {...described(id, err)}
              onChange={(e) => onChange(e.currentTarget.value === '' ? (shape.nullable ? null : undefined) : e.currentTarget.value)}>
              {(shape.nullable || dflt !== undefined || value === undefined) && <option value="">{dflt !== undefined ? `(default: ${String(dflt)})` : '(none)'}</option>}
              {shape.oneOf.map((o) => <option key={o} value={o}>{o}</option>)}
            </select>
          </Control>
        );
      }
      return (
        <Control id={id} label={name} shape={shape} error={err}>
          <input id={id} value={value === null || value === undefined ? '' : String(value)} inputMode={shape.digits ? 'numeric' : undefined}
            placeholder={dflt !== undefined && dflt !== null ? `default: ${String(dflt)}` : shape.nullable ? 'none' : undefined} {...described(id, err)}
            onInput={(e) => {
              const t = e.currentTarget.value;
              onChange(t === '' && !shape.allowEmpty ? (shape.nullable ? null : dflt !== undefined ? undefined : '') : t);
            }} />
        </Control>
      );
    }
    case 'int':
      return (
        <Control id={id} label={name} shape={shape} error={err}>
          <input id={id} type="number" step="1" min={shape.min} max={shape.max} value={typeof value === 'number' ? String(value) : ''}
            placeholder={dflt !== undefined && dflt !== null ? `default: ${String(dflt)}` : undefined} {...described(id, err)}
            onInput={(e) => {
              const t = e.currentTarget.value;
              // Sent as typed (a number when it reads as one): the server's 400 says what is wrong with it.
              onChange(t === '' ? (shape.nullable ? null : undefined) : Number.isFinite(Number(t)) ? Number(t) : t);
            }} />
        </Control>
      );
    case 'bool':
      return (
        <Control id={id} label={name} shape={shape} error={err} inline>
          <input id={id} type="checkbox" checked={typeof value === 'boolean' ? value : dflt === true} {...described(id, err)}
            onChange={(e) => onChange(e.currentTarget.checked)} />
        </Control>
      );
    case 'next':
      return (
        <Control id={id} label={`${name} (node id, or outcome=node pairs)`} shape={shape} error={err}>
          <TextAs id={id} value={value} format={nextText} parse={parseNext} onChange={onChange} {...described(id, err)} />
        </Control>
      );
    case 'map':
      return (
        <Control id={id} label={`${name} (one "Name: value" a line)`} shape={shape} error={err}>
          <TextAs id={id} multiline value={value} format={mapText} parse={parseMap} onChange={onChange} {...described(id, err)} />
        </Control>
      );
    case 'list': {
      const list = Array.isArray(value) ? value : [];
      if (shape.item.kind !== 'object') {
        const listErr = errorAt(error, path) ? error : null;
        return (
          <Control id={id} label={`${name} (comma separated)`} shape={shape} error={listErr}>
            <TextAs id={id} value={list} format={(v) => (v as unknown[]).join(', ')} parse={(t) => t.split(',').map((x) => x.trim()).filter(Boolean)}
              onChange={onChange} {...described(id, listErr)} />
          </Control>
        );
      }
      const item = shape.item;
      return (
        <fieldset class="sub">
          <legend>{name}</legend>
          <small class="help">{shape.doc}</small>
          {list.map((it, i) => (
            <div class="card" key={i}>
              <ObjectFields shape={item} value={(it ?? {}) as Obj} prefix={prefix} path={`${path}/${i}`} error={error}
                onChange={(f) => update((prev) => (Array.isArray(prev) ? prev : []).map((x, j) => (j === i ? f((x ?? {}) as Obj) : x)))} />
              <button type="button" class="danger small" aria-label={`Remove ${name} ${i + 1}`} onClick={() => update((prev) => (Array.isArray(prev) ? prev : []).filter((_, j) => j !== i))}>Remove</button>
            </div>
          ))}
          <button type="button" onClick={() => update((prev) => [...(Array.isArray(prev) ? prev : []), {}])}>Add to {name}</button>
        </fieldset>
      );
    }
    case 'object':
      return (
        <fieldset class="sub">
          <legend>{name}</legend>
          <small class="help">{shape.doc}</small>
          <ObjectFields shape={shape} value={(value ?? {}) as Obj} prefix={prefix} path={path} error={error}
            onChange={(f) => update((prev) => f((prev ?? {}) as Obj))} />
        </fieldset>
      );
    case 'union':
      return <p class="help">{name}: edited on its own screen.</p>;
  }
}

/** Every key of an object shape; `*_set` flags from the server mark secrets that have a value. */
export function ObjectFields({ shape, value, onChange, prefix, path, error, skip = [] }: {
  shape: { fields: Record<string, FormShape> }; value: Obj; onChange: Update<Obj>; prefix: string; path: string;
  error: FieldError | null; skip?: string[];
}) {
  return (
    <>
      {Object.entries(shape.fields).filter(([k]) => !skip.includes(k)).map(([k, s]) => (
        <ShapeField key={k} name={k} shape={s} value={value[k]} prefix={prefix} path={path ? `${path}/${k}` : k} error={error}
          setFlag={value[`${k}_set`] === true}
          onChange={(f) => onChange((prev) => {
            const next = { ...prev };
            const v = f(prev[k]);
            if (v === undefined) delete next[k];
            else next[k] = v;
            return next;
          })} />
      ))}
    </>
  );
}

/** What is sent back: the server's `*_set` flags removed (they are not configuration keys), deeply. */
export function forSending(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(forSending);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.entries(v as Obj).filter(([k]) => !k.endsWith('_set')).map(([k, x]) => [k, forSending(x)]));
}

/**
 * The PATCH body of an edit: what the form holds, plus each key the form cleared (present before, gone now) set
 * back explicitly (null when it may be null, else its default), since a PATCH leaves keys it does not name alone.
 * Secrets not typed again are not named, so the server keeps them.
 */
export function patchBody(shape: ObjectFormShape, before: Obj, now: Obj): Obj {
  const body = forSending(now) as Obj;
  for (const [k, s] of Object.entries(shape.fields)) {
    if (k in body || !(k in before)) continue;
    if ('nullable' in s && s.nullable) body[k] = null;
    else if (s.default !== undefined) body[k] = s.default;
  }
  return body;
}
