// Small pieces every screen uses: loading a resource, a status line, live events.
import { useCallback, useEffect, useState } from 'preact/hooks';

/** Loads `fn()` now and on `reload()`; returns [data, error, reload]. */
export function useLoad(fn, deps = []) {
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);
  const reload = useCallback(() => {
    fn().then((d) => { setData(d); setError(null); }, (e) => setError(e.message));
  }, deps);
  useEffect(reload, [reload]);
  return [data, error, reload];
}

/** Subscribes to the server's live event stream (one EventSource per subscriber). */
export function useLive(handlers) {
  useEffect(() => {
    const es = new EventSource('/console/api/events');
    for (const [name, fn] of Object.entries(handlers)) es.addEventListener(name, (e) => fn(JSON.parse(e.data)));
    return () => es.close();
  }, []);
}

/** A polite status line (success or error) that screen readers announce. */
export function Status({ status }) {
  if (!status) return null;
  return <p role={status.error ? 'alert' : 'status'} class={status.error ? 'error' : 'ok'}>{status.text}</p>;
}

/** Runs an action and reports its outcome in a {@link Status}; returns [status, run]. */
export function useAction() {
  const [status, setStatus] = useState(null);
  const run = async (fn, okText) => {
    try {
      const r = await fn();
      setStatus({ text: typeof okText === 'function' ? okText(r) : okText });
      return r;
    } catch (e) {
      setStatus({ error: true, text: e.message });
      return undefined;
    }
  };
  return [status, run];
}

/** A labelled input. */
export function Field({ id, label, ...props }) {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <input id={id} name={id} {...props} />
    </div>
  );
}
