/**
 * Split processes (issue 16): drachtio-lite as its own process (`npm run edge`, src/edge.ts) and two call engines
 * (`npm run engine`, src/main.ts --engine) connected to it over the drachtio protocol, sharing one PostgreSQL
 * database. SIPp sends its calls to the edge only; the edge hands new INVITEs to the engines in turn, so the calls
 * are spread over both (each unique_call_id ends in the node id of the engine that took it). An engine started
 * without an edge to connect to is a configuration error naming DRACHTIO_HOST.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { eventually, sippOk } from '../../support/integration-pbx.js';
import { createTestDatabase, type TestDatabase } from '../../support/pg-db.js';
import { freePort, killAllSipp, runSipp } from '../../support/sipp.js';
import { killAllSbProcesses, startSbProcess } from '../../support/sb-process.js';

const dir = mkdtempSync(join(tmpdir(), 'sb-split-'));
const configFile = join(dir, 'config.yaml');
const SECRET = 'edge-secret-0123456789';
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('sb_split');
  writeFileSync(configFile, stringify({
    pbx: { name: 'Split test', domain: 'switchboard.local' },
    users: [{ name: 'Alice', number: '1001', devices: [{ username: 'alice-desk', password: 'alice-pw-9876' }] }],
    numbers: [{ number: '+61390000000', flow: 'to-alice' }],
    flows: [{ id: 'to-alice', nodes: [{ id: 'ring', type: 'user', user: '1001', ring_timeout_s: 30 }] }],
    api: { api_key: 'split-api-key', admin_key: 'split-admin-key-0123456789' },
    media: { driver: 'none' },
  }));
});

afterAll(async () => {
  await killAllSbProcesses();
  killAllSipp();
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
}, 120_000);

describe('edge and engines as separate processes', () => {
  it('SIPp calls to the edge are spread over two engines on one PostgreSQL store', async () => {
    const sipPort = await freePort();
    let controlPort = await freePort();
    while (controlPort === sipPort) controlPort = await freePort();
    const edge = startSbProcess('src/edge.ts', { SWITCHBOARD_CONFIG: configFile, SWITCHBOARD_SIP_PORT: String(sipPort), DRACHTIO_PORT: String(controlPort), DRACHTIO_SECRET: SECRET });
    await edge.waitForLog('ready: edge');
    const http: string[] = [];
    const engines = [];
    for (const node of [1, 2]) {
      let httpPort = await freePort();
      while (httpPort === sipPort || httpPort === controlPort) httpPort = await freePort();
      http.push(`http://127.0.0.1:${httpPort}`);
      engines.push(startSbProcess('src/main.ts', {
        SWITCHBOARD_CONFIG: configFile, DATABASE_URL: db.url, SWITCHBOARD_NODE_ID: String(node), SWITCHBOARD_NONCE_SECRET: 'split-nonce-secret-0123456',
        SWITCHBOARD_DATA_DIR: join(dir, `node-${node}`), SWITCHBOARD_HTTP_PORT: String(httpPort),
        DRACHTIO_HOST: '127.0.0.1', DRACHTIO_PORT: String(controlPort), DRACHTIO_SECRET: SECRET,
      }, ['--engine']));
    }
    for (const e of engines) await e.waitForLog('ready:');
    for (const url of http) expect(await (await fetch(`${url}/ready`)).json()).toMatchObject({ status: 'ready', sip: true, store: true });

    const calls = 20;
    const run = await runSipp({ scenario: 'int-uac-unanswered.xml', target: `127.0.0.1:${sipPort}`, calls, timeoutS: 120, extra: ['-s', '61390000000', '-r', '5', '-l', '5'] });
    sippOk(await run.done, `${calls} calls through the edge`);
    const byNode = await eventually(async () => {
      const rows = await db.query<{ node: string; n: string }>("SELECT right(unique_call_id, 2) AS node, count(*) AS n FROM calls WHERE ended_at IS NOT NULL GROUP BY 1 ORDER BY 1");
      const total = rows.reduce((s, r) => s + Number(r.n), 0);
      return total === calls ? Object.fromEntries(rows.map((r) => [r.node, Number(r.n)])) : null;
    }, 'every call stored', 30_000);
    expect(Object.keys(byNode)).toEqual(['01', '02']);
    // Round-robin per verb: the engines take turns (a retransmitted INVITE is absorbed by the edge, never re-routed).
    expect(byNode['01']).toBe(calls / 2);
    expect(byNode['02']).toBe(calls / 2);
  }, 240_000);

  it('npm run engine without DRACHTIO_HOST is a configuration error naming it', async () => {
    const e = startSbProcess('src/main.ts', { SWITCHBOARD_CONFIG: configFile, SWITCHBOARD_DATA_DIR: join(dir, 'lonely'), SWITCHBOARD_HTTP_PORT: String(await freePort()) }, ['--engine']);
    expect(await e.exited).toBe(1);
    expect(e.stderr()).toContain('env: DRACHTIO_HOST: npm run engine needs the SIP edge');
  }, 60_000);
});
