// Staged changes: the diff from the live version, and the red Apply configuration button.
import { admin } from '../api.ts';
import { Status, useAction, useLoad } from '../common.tsx';
import type { Diff } from '../types.ts';

const show = (v: unknown): string => (v === undefined ? '' : JSON.stringify(v));

export function Changes() {
  const [diff, error, reload] = useLoad(() => admin<Diff>('GET', '/config/diff'));
  const [status, run] = useAction();
  const apply = async () => { if (await run(() => admin<{ version: number }>('POST', '/apply'), (r) => `Configuration version ${r.version} is live`)) reload(); };
  const discard = async () => { if (await run(() => admin('DELETE', '/config/staged'), 'Staged edits discarded')) reload(); };
  return (
    <section>
      <Status status={status} />
      {error && <p role="alert" class="error">{error}</p>}
      {diff && <p>Live version {diff.live_version}; {diff.changes.length} staged change{diff.changes.length === 1 ? '' : 's'}.</p>}
      <table class="diff">
        <thead><tr><th>Path</th><th>Change</th><th>Live</th><th>Staged</th></tr></thead>
        <tbody>
          {(diff?.changes ?? []).map((c) => (
            <tr key={c.path} class={c.op}><td><code>{c.path}</code></td><td>{c.op}</td><td class="wrap"><del>{show(c.live)}</del></td><td class="wrap"><ins>{show(c.staged)}</ins></td></tr>
          ))}
        </tbody>
      </table>
      <div class="actions">
        <button type="button" class="apply" onClick={apply}>Apply configuration</button>
        <button type="button" onClick={discard}>Discard staged changes</button>
      </div>
    </section>
  );
}
