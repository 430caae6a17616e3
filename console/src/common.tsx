// Small pieces every screen uses: loading a resource, a status line, live events, labelled inputs.
import type { JSX } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { messageOf } from './api.ts';

/** Loads `fn()` now and on `reload()`; returns [data, error, reload]. */
export function useLoad<T>(fn: () => Promise<T>, deps: readonly unknown[] = []): [T | null, string | null, () => void] {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const reload = useCallback(() => {
    fn().then((d) => { setData(() => d); setError(null); }, (e: unknown) => setError(messageOf(e)));
  }, deps);
  useEffect(reload, [reload]);
  return [data, error, reload];
}

/** Subscribes to the server's live event stream (one EventSource per subscriber). */
export function useLive(handlers: Record<string, (data: any) => void>): void {
  useEffect(() => {
    const es = new EventSource('/console/api/events');
    for (const [name, fn] of Object.entries(handlers)) es.addEventListener(name, (e) => fn(JSON.parse((e as MessageEvent<string>).data)));
    return () => es.close();
  }, []);
}

/** A status line's content. */
export interface StatusLine {
  text: string;
  error?: boolean;
}

/** A polite status line (success or error) that screen readers announce. */
export function Status({ status }: { status: StatusLine | null }) {
  if (!status) return null;
  return <p role={status.error ? 'alert' : 'status'} class={status.error ? 'error' : 'ok'}>{status.text}</p>;
}

/**
 * Runs an action and reports its outcome in a {@link Status}; returns [status, run, setStatus]. `run` resolves to the
 * answer's data, or undefined when it failed (an answer may be null: compare with undefined).
 */
export function useAction(): [StatusLine | null, <T>(fn: () => Promise<T>, okText?: string | ((r: T) => string)) => Promise<T | undefined>, (s: StatusLine | null) => void] {
  const [status, setStatus] = useState<StatusLine | null>(null);
  const run = async <T,>(fn: () => Promise<T>, okText?: string | ((r: T) => string)): Promise<T | undefined> => {
    try {
      const r = await fn();
      setStatus({ text: typeof okText === 'function' ? okText(r) : (okText ?? 'Done') });
      return r;
    } catch (e) {
      setStatus({ error: true, text: messageOf(e) });
      return undefined;
    }
  };
  return [status, run, setStatus];
}

/** A labelled input. */
export function Field({ id, label, ...props }: { id: string; label: string } & JSX.InputHTMLAttributes<HTMLInputElement>) {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <input id={id} name={id} {...props} />
    </div>
  );
}

/** The value of a named control of a form. */
export function formValue(form: HTMLFormElement, name: string): string {
  const el = form.elements.namedItem(name);
  return el && 'value' in el ? String(el.value) : '';
}
