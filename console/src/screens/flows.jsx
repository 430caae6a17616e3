// Call flows as ordered node lists: pick a flow, reorder, edit, add or remove nodes, save (staged).
import { useEffect, useState } from 'preact/hooks';
import { admin } from '../api.js';
import { Status, useAction, useLoad } from '../common.jsx';

const NODE_TYPES = ['user', 'queue', 'ring_group', 'voicemail', 'webhook', 'play', 'hangup'];

function NodeFields({ node, index, onChange }) {
  return Object.entries(node).filter(([k, v]) => k !== 'type' && (typeof v !== 'object' || v === null)).map(([k, v]) => {
    const id = `node-${index}-${k}`;
    return (
      <div class="field" key={k}>
        <label for={id}>{k}</label>
        <input id={id} value={v ?? ''} onInput={(e) => onChange({ ...node, [k]: typeof v === 'number' ? Number(e.currentTarget.value) : e.currentTarget.value })} />
      </div>
    );
  });
}

export function Flows() {
  const [flows, error, reload] = useLoad(() => admin('GET', '/flows'));
  const [selected, setSelected] = useState(null);
  const [nodes, setNodes] = useState([]);
  const [status, run] = useAction();
  useEffect(() => {
    if (flows && flows.length && selected === null) setSelected(flows[0].id);
  }, [flows]);
  useEffect(() => {
    const f = flows?.find((x) => x.id === selected);
    setNodes(f ? structuredClone(f.nodes) : []);
  }, [selected, flows]);
  const move = (i, d) => { const n = [...nodes]; [n[i], n[i + d]] = [n[i + d], n[i]]; setNodes(n); };
  const flow = flows?.find((x) => x.id === selected);
  const save = async () => { if (await run(() => admin('PUT', `/flows/${encodeURIComponent(selected)}`, { ...flow, nodes }), `Flow ${selected} saved (staged)`)) reload(); };
  const add = (e) => {
    e.preventDefault();
    const type = e.currentTarget.elements.namedItem('new-node-type').value;
    setNodes([...nodes, { id: `${type}-${nodes.length + 1}`, type }]);
  };
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
        {nodes.map((n, i) => (
          <li key={`${i}-${n.id}`} class="card">
            <strong>{i + 1}. {n.type}</strong> <code>{n.id}</code>
            <NodeFields node={n} index={i} onChange={(nn) => setNodes(nodes.map((x, j) => (j === i ? nn : x)))} />
            <div class="actions">
              <button type="button" disabled={i === 0} aria-label={`Move node ${n.id} up`} onClick={() => move(i, -1)}>↑</button>
              <button type="button" disabled={i === nodes.length - 1} aria-label={`Move node ${n.id} down`} onClick={() => move(i, 1)}>↓</button>
              <button type="button" class="danger" aria-label={`Remove node ${n.id}`} onClick={() => setNodes(nodes.filter((_, j) => j !== i))}>Remove</button>
            </div>
          </li>
        ))}
      </ol>
      <form class="inline" onSubmit={add}>
        <label for="new-node-type">New node type</label>
        <select id="new-node-type" name="new-node-type">{NODE_TYPES.map((t) => <option key={t}>{t}</option>)}</select>
        <button type="submit">Add node</button>
      </form>
      <button type="button" onClick={save} disabled={!flow}>Save flow</button>
    </section>
  );
}
