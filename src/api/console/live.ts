/**
 * The dashboard's live view: one snapshot (registered devices, calls in progress, queue state) and a server-sent
 * event stream that pushes a fresh snapshot whenever the engine's event stream says something changed (coalesced
 * to one per event-loop turn), plus `history` events when a call's records are stored. No polling.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { EngineLive } from '../../engine/index.js';
import type { ApiDeps } from '../deps.js';
import type { ConsoleGuard } from './guard.js';

type PreHandler = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

/** Seconds between SSE comment lines that keep proxies from closing an idle stream. */
const KEEPALIVE_MS = 20_000;

/** What the dashboard shows. */
export function dashboardSnapshot(deps: ApiDeps, live: EngineLive) {
  const config = deps.getConfig();
  const bindings = live.registrations();
  const queueState = live.queueState();
  return {
    devices: config.users.flatMap((u) => u.devices.map((d) => {
      const mine = bindings.filter((b) => b.username === d.username);
      return { username: d.username, user_name: u.name, user_number: u.number, registered: mine.length > 0, contacts: mine.map((b) => b.contact) };
    })),
    calls: live.liveCalls().filter((c) => c.state !== 'ended'),
    queues: config.queues.map((q) => ({
      name: q.name,
      waiting: queueState.waiting[q.name] ?? [],
      agents: q.agents.map((a) => ({ number: a, name: config.users.find((u) => u.number === a)?.name ?? null, state: queueState.agents[a] ?? 'idle' })),
    })),
  };
}

/** Registers `GET /console/api/dashboard`, `GET /console/api/events` (SSE) and `POST /console/api/calls/:id/hangup`. */
export function registerLiveRoutes(app: FastifyInstance, deps: ApiDeps, guard: ConsoleGuard, session: PreHandler): void {
  const live = deps.live;
  const config = { auth: 'ip' as const };
  const streams = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const end of [...streams]) end();
  });

  app.get('/console/api/dashboard', { config, schema: { hide: true }, preHandler: session }, async (_req, reply) => {
    if (!live) return reply.code(501).send({ code: 501, status: 'error', message: 'No engine attached' });
    return { code: 200, status: 'success', message: 'OK', data: dashboardSnapshot(deps, live) };
  });

  app.post('/console/api/calls/:id/hangup', {
    config, preHandler: session,
    schema: { hide: true, params: { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^[0-9]{1,40}$' } } } },
  }, async (request, reply) => {
    const id = (request.params as { id: string }).id;
    if (!live?.hangup(id)) return reply.code(404).send({ code: 404, status: 'error', message: `Call '${id}' is not in progress` });
    request.log.info({ unique_call_id: id, by: request.consoleSession?.principal.name }, 'console: call hung up');
    return { code: 200, status: 'success', message: 'Hanging up', data: { unique_call_id: id } };
  });

  app.get('/console/api/events', { config, schema: { hide: true }, preHandler: session }, async (request, reply) => {
    if (!live) return reply.code(501).send({ code: 501, status: 'error', message: 'No engine attached' });
    const sessionId = request.consoleSession!.id;
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    const send = (event: string, data: unknown): void => {
      // A signed-out or expired session stops receiving at once.
      if (!guard.sessions.get(sessionId)) return end();
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    let pending = false;
    const changed = (): void => {
      if (pending) return;
      pending = true;
      setImmediate(() => {
        pending = false;
        send('dashboard', dashboardSnapshot(deps, live));
      });
    };
    const offs = [
      live.events.on('call.changed', changed),
      live.events.on('registration.changed', changed),
      live.events.on('queue.changed', changed),
      live.events.on('call.committed', (e) => send('history', e)),
    ];
    const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
    let ended = false;
    function end(): void {
      if (ended) return;
      ended = true;
      for (const off of offs) off();
      clearInterval(keepalive);
      streams.delete(end);
      res.end();
    }
    streams.add(end);
    request.raw.on('close', end);
    send('dashboard', dashboardSnapshot(deps, live));
  });
}
