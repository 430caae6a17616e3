// Call flows as ordered node lists: pick a flow, reorder, edit, add or remove nodes, save (staged). Each node's
// fields come from its type's entry in the configuration schema (user, queue, ring_group, voicemail, webhook,
// play, hangup), so a node added here has every field its type takes.
import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { admin } from '../api.ts';
import { formValue, Status, useAction, useLoad } from '../common.tsx';
import { fieldErrorOf, forSending, ObjectFields, type FieldError, type FormShape, type Obj } from '../form.tsx';
import { formShapes } from './collection.tsx';

interface Flow { id: string; nodes: Obj[] }
type Union = Extract<FormShape, { kind: 'union' }>;

/** The node union of the flow shape. */
function nodeShape(forms: Record<string, FormShape> | null): Union | null {
  const flow = forms?.['flows'];
  if (flow?.kind !== 'object') return null;
  const nodes = flow.fields['nodes'];
  return nodes?.kind === 'list' && nodes.item.kind === 'union' ? nodes.item : null;
}

export function Flows() {
  const [flows, error, reload] = useLoad(() => admin<Flow[]>('GET', '/flows'));
  const [forms] = useLoad(formShapes);
  const [selected, setSelected] = useState<string | null>(null);
  const [nodes, setNodes] = useState<Obj[]>([]);
  const [fieldError, setFieldError] = useState<FieldError | null>(null);
  // Bumped when nodes move, go or another flow is shown, so each node's controls start from its own values.
  const [layout, setLayout] = useState(0);
  const [status, run, setStatus] = useAction();
  const union = nodeShape(forms);
  useEffect(() => {
    if (flows && flows.length && (selected === null || !flows.some((f) => f.id === selected))) setSelected(flows[0]!.id);
  }, [flows]);
  useEffect(() => {
    const f = flows?.find((x) => x.id === selected);
    setNodes(f ? structuredClone(f.nodes) : []);
    setFieldError(null);
    setLayout((n) => n + 1);
  }, [selected, flows]);
  const move = (i: number, d: number) => { const n = [...nodes]; [n[i], n[i + d]] = [n[i + d]!, n[i]!]; setNodes(n); setLayout(layout + 1); };
  const flow = flows?.find((x) => x.id === selected);
  const save = async () => {
    if (!flow) return;
    try {
      await admin('PUT', `/flows/${encodeURIComponent(flow.id)}`, forSending({ ...flow, nodes }));
    } catch (err) {
      const fe = fieldErrorOf(err);
      setFieldError(fe);
      await run(() => Promise.reject(fe ? new Error(`Not saved: ${fe.message}`) : err));
      return;
    }
    setFieldError(null);
    setStatus({ text: `Flow ${flow.id} saved (staged)` });
    reload();
  };
  const add = (e: JSX.TargetedSubmitEvent<HTMLFormElement>) => {
    e.preventDefault();
    const type = formValue(e.currentTarget, 'new-node-type');
    let n = nodes.length + 1;
    while (nodes.some((x) => x['id'] === `${type}-${n}`)) n++;
    setNodes([...nodes, { id: `${type}-${n}`, type }]);
  };
  const addFlow = async (e: JSX.TargetedSubmitEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = e.currentTarget;
    const id = formValue(f, 'new-flow-id').trim();
    if (await run(() => admin('POST', '/flows', { id, nodes: [{ id: 'hangup', type: 'hangup' }] }), `Flow ${id} created (staged)`)) { f.reset(); setSelected(id); reload(); }
  };
  const types = union ? Object.keys(union.variants) : [];
  return (
    <section>
      <Status status={status} />
      {error && <p role="alert" class="error">{error}</p>}
      <div class="field">
        <label for="flow-select">Flow</label>
        <select id="flow-select" value={selected ?? ''} onChange={(e) => setSelected(e.currentTarget.value)}>
          {(flows ?? []).map((f) => <option key={f.id} value={f.id}>{f.id}</option>)}
        </select>
      </div>
      <ol class="nodes" aria-label="Nodes in order">
        {nodes.map((n, i) => {
          const type = String(n['type']);
          const fields = union?.variants[type];
          return (
            <li key={`${layout}-${i}-${type}`} class="card" data-node={String(n['id'])}>
              <h2 class="node-h">{i + 1}. {type} <code>{String(n['id'] ?? '')}</code></h2>
              {fields
                ? <ObjectFields shape={{ fields }} value={n} prefix={`node-${i}`} path={`nodes/${i}`} error={fieldError}
                    onChange={(f) => setNodes((prev) => prev.map((x, j) => (j === i ? { ...f(x), type } : x)))} />
                : <p class="error">Unknown node type {type}</p>}
              <div class="actions">
                <button type="button" disabled={i === 0} aria-label={`Move node ${String(n['id'])} up`} onClick={() => move(i, -1)}>↑</button>
                <button type="button" disabled={i === nodes.length - 1} aria-label={`Move node ${String(n['id'])} down`} onClick={() => move(i, 1)}>↓</button>
                <button type="button" class="danger" aria-label={`Remove node ${String(n['id'])}`} onClick={() => { setNodes(nodes.filter((_, j) => j !== i)); setLayout(layout + 1); }}>Remove</button>
              </div>
            </li>
          );
        })}
      </ol>
      <form class="inline" onSubmit={add}>
        <label for="new-node-type">New node type</label>
        <select id="new-node-type" name="new-node-type">{types.map((t) => <option key={t}>{t}</option>)}</select>
        <button type="submit">Add node</button>
      </form>
      <div class="actions">
        <button type="button" onClick={save} disabled={!flow}>Save flow</button>
      </div>
      <form class="inline" onSubmit={addFlow} aria-label="New flow">
        <label for="new-flow-id">New flow id</label>
        <input id="new-flow-id" name="new-flow-id" required />
        <button type="submit">Create flow</button>
      </form>
    </section>
  );
}
