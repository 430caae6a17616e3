/**
 * Checks that span keys: uniqueness (user numbers, device usernames, DIDs, flow/node ids, queue, ring-group and
 * trunk names) and references (numbers → flows, `next` → nodes of the same flow, nodes/queues/ring groups →
 * users, queues, ring groups), plus the webhook's enabled-only requirements. It runs on a possibly partial value
 * (after shape issues), so every access tolerates missing keys.
 */
import { nonPublicHostKind } from '../common/index.js';
import { keyPath, type ReadContext } from './shape.js';
import type { FlowConfig, NextRef, PbxConfig } from './types.js';

/** Reports a second occurrence of each value, naming where the first was. */
function unique(ctx: ReadContext, what: string, items: Array<{ value: unknown; path: string }>): void {
  const seen = new Map<unknown, string>();
  for (const { value, path } of items) {
    if (typeof value !== 'string') continue;
    const first = seen.get(value);
    if (first !== undefined) ctx.issues.push({ file: ctx.file, path, message: `duplicate ${what} '${value}' (also at ${first})` });
    else seen.set(value, path);
  }
}

/** Every (path, node id) a `next` names. */
function nextTargets(next: NextRef | undefined, path: string): Array<{ path: string; id: string }> {
  if (typeof next === 'string') return [{ path, id: next }];
  if (next === null || next === undefined || typeof next !== 'object') return [];
  return Object.entries(next).filter(([, id]) => typeof id === 'string').map(([k, id]) => ({ path: keyPath(path, k), id: id as string }));
}

function refCheck(ctx: ReadContext, path: string, what: string, name: unknown, known: Set<string>): void {
  if (typeof name === 'string' && !known.has(name)) ctx.issues.push({ file: ctx.file, path, message: `names ${what} '${name}', which does not exist` });
}

function checkFlows(c: PbxConfig, ctx: ReadContext, users: Set<string>, queues: Set<string>, groups: Set<string>): void {
  const flows = c.flows ?? [];
  unique(ctx, 'flow id', flows.map((f, i) => ({ value: f?.id, path: `flows[${i}].id` })));
  flows.forEach((f, i) => {
    const nodes = f?.nodes ?? [];
    unique(ctx, 'node id', nodes.map((n, j) => ({ value: n?.id, path: `flows[${i}].nodes[${j}].id` })));
    const ids = new Set(nodes.map((n) => n?.id));
    nodes.forEach((n, j) => {
      if (!n) return;
      const p = `flows[${i}].nodes[${j}]`;
      for (const t of nextTargets(n.next, `${p}.next`)) {
        if (!ids.has(t.id)) ctx.issues.push({ file: ctx.file, path: t.path, message: `names node '${t.id}', which flow '${f.id}' does not have` });
      }
      if (n.type === 'user' || n.type === 'voicemail') refCheck(ctx, `${p}.user`, 'user', n.user, users);
      if (n.type === 'queue') refCheck(ctx, `${p}.queue`, 'queue', n.queue, queues);
      if (n.type === 'ring_group') refCheck(ctx, `${p}.ring_group`, 'ring group', n.ring_group, groups);
    });
  });
}

/** A queue's or ring group's `next` is resolved in the flow that routed to it, so each such flow needs the node. */
function checkGroupNext(ctx: ReadContext, flows: FlowConfig[], path: string, next: NextRef | undefined, routes: (f: FlowConfig) => boolean): void {
  for (const f of flows) {
    if (!f?.nodes || !routes(f)) continue;
    const ids = new Set(f.nodes.map((n) => n?.id));
    for (const t of nextTargets(next, path)) {
      if (!ids.has(t.id)) ctx.issues.push({ file: ctx.file, path: t.path, message: `names node '${t.id}', which flow '${f.id}' (routing here) does not have` });
    }
  }
}

function checkWebhook(c: PbxConfig, ctx: ReadContext): void {
  const w = c.webhook;
  if (!w?.enabled) return;
  if (w.url === '') ctx.issues.push({ file: ctx.file, path: 'webhook.url', message: 'is required when the webhook is enabled' });
  if (w.secret_token === '') ctx.issues.push({ file: ctx.file, path: 'webhook.secret_token', message: 'must not be empty when the webhook is enabled' });
}

/**
 * With `delivery.refuse_private_targets`, a webhook URL naming a non-public address (or `localhost`) is refused here,
 * at load and apply; host names are checked again after DNS resolution at send time (events/target-guard.ts).
 */
function checkTargets(c: PbxConfig, ctx: ReadContext): void {
  if (c.delivery?.refuse_private_targets !== true) return;
  const urls: Array<{ path: string; url: unknown }> = [{ path: 'webhook.url', url: c.webhook?.url }];
  (c.flows ?? []).forEach((f, i) => (f?.nodes ?? []).forEach((n, j) => {
    if (n?.type === 'webhook') urls.push({ path: `flows[${i}].nodes[${j}].url`, url: n.url });
  }));
  for (const { path, url } of urls) {
    if (typeof url !== 'string' || url === '') continue;
    let host: string;
    try {
      host = new URL(url).hostname;
    } catch {
      continue; // the URL format check reports it
    }
    const kind = nonPublicHostKind(host);
    if (kind) ctx.issues.push({ file: ctx.file, path, message: `'${url}' names ${kind} address, which delivery.refuse_private_targets refuses` });
  }
}

function checkKeys(c: PbxConfig, ctx: ReadContext): void {
  if (c.api?.admin_key != null && c.api.admin_key === c.api.api_key) {
    ctx.issues.push({ file: ctx.file, path: 'api.admin_key', message: 'must differ from api.api_key (the integration key must not open the admin API)' });
  }
}

/** Runs every cross-key check on a read configuration, appending issues to `ctx`. */
export function crossCheck(c: PbxConfig, ctx: ReadContext): void {
  const users = c.users ?? [];
  unique(ctx, 'user number', users.map((u, i) => ({ value: u?.number, path: `users[${i}].number` })));
  unique(ctx, 'device username', users.flatMap((u, i) => (u?.devices ?? []).map((d, j) => ({ value: d?.username, path: `users[${i}].devices[${j}].username` }))));
  unique(ctx, 'number', (c.numbers ?? []).map((n, i) => ({ value: n?.number, path: `numbers[${i}].number` })));
  unique(ctx, 'queue name', (c.queues ?? []).map((q, i) => ({ value: q?.name, path: `queues[${i}].name` })));
  unique(ctx, 'ring group name', (c.ring_groups ?? []).map((g, i) => ({ value: g?.name, path: `ring_groups[${i}].name` })));
  unique(ctx, 'trunk name', (c.trunks ?? []).map((t, i) => ({ value: t?.name, path: `trunks[${i}].name` })));

  const userNumbers = new Set(users.map((u) => u?.number));
  const flowIds = new Set((c.flows ?? []).map((f) => f?.id));
  const queueNames = new Set((c.queues ?? []).map((q) => q?.name));
  const groupNames = new Set((c.ring_groups ?? []).map((g) => g?.name));

  (c.numbers ?? []).forEach((n, i) => refCheck(ctx, `numbers[${i}].flow`, 'flow', n?.flow, flowIds as Set<string>));
  checkFlows(c, ctx, userNumbers as Set<string>, queueNames as Set<string>, groupNames as Set<string>);

  const flows = c.flows ?? [];
  (c.queues ?? []).forEach((q, i) => {
    (q?.agents ?? []).forEach((a, j) => refCheck(ctx, `queues[${i}].agents[${j}]`, 'user', a, userNumbers as Set<string>));
    checkGroupNext(ctx, flows, `queues[${i}].next`, q?.next, (f) => f.nodes.some((n) => n?.type === 'queue' && n.queue === q.name));
  });
  (c.ring_groups ?? []).forEach((g, i) => {
    (g?.members ?? []).forEach((m, j) => refCheck(ctx, `ring_groups[${i}].members[${j}]`, 'user', m, userNumbers as Set<string>));
    checkGroupNext(ctx, flows, `ring_groups[${i}].next`, g?.next, (f) => f.nodes.some((n) => n?.type === 'ring_group' && n.ring_group === g.name));
  });
  checkWebhook(c, ctx);
  checkTargets(c, ctx);
  checkKeys(c, ctx);
  checkMedia(c, ctx);
  checkWs(c, ctx);
}

function checkWs(c: PbxConfig, ctx: ReadContext): void {
  const ws = c.sip?.ws;
  if (!ws || ws.tls_port === null || ws.tls_port === undefined) return;
  for (const key of ['tls_cert', 'tls_key'] as const) {
    if (!ws[key]) ctx.issues.push({ file: ctx.file, path: `sip.ws.${key}`, message: 'is required with sip.ws.tls_port (wss:// needs a certificate and its key)' });
  }
}

/** The media port range is a range, and the rtpengine driver needs to know where rtpengine writes its pcaps. */
function checkMedia(c: PbxConfig, ctx: ReadContext): void {
  const m = c.media;
  if (!m) return;
  if (typeof m.port_min === 'number' && typeof m.port_max === 'number' && m.port_min >= m.port_max) {
    ctx.issues.push({ file: ctx.file, path: 'media.port_max', message: `must be greater than media.port_min (${m.port_min}), got ${m.port_max}` });
  }
  if (m.driver === 'rtpengine' && !m.rtpengine?.recording_dir) {
    ctx.issues.push({ file: ctx.file, path: 'media.rtpengine.recording_dir', message: "is required with media.driver 'rtpengine' (rtpengine's --recording-dir as this process sees it)" });
  }
}
