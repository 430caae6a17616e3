/**
 * bench/scale — calls per second with 1, 2 and 3 engines behind one edge (issue 16). Not a test: no assertions.
 *
 *   SIPp caller ──▶ edge (npm run edge) ◀─drachtio─▶ engine × N (npm run engine, one PostgreSQL database)
 *                                                        └─▶ trunk ──▶ SIPp UAS (answers, expects the BYE)
 *
 * Each engine is a child process on its own node id; the DID's user forwards every call to an external number, so
 * every call is a full B2BUA call through the trunk (INVITE, 200, ACK, hold, BYE on both legs) with its history
 * rows and outbox events committed to PostgreSQL. For each engine count the offered rate steps up; each step runs
 * `rate × seconds` calls and reports calls ok/failed, the achieved rate and the CPU seconds per call of the edge
 * and of the engines together (from /proc), next to the load average.
 *
 * With `--registered` the DID rings a registered device instead: the engines share Redis (SWITCHBOARD_TEST_REDIS_URL
 * or redis://127.0.0.1:6379, a key prefix of the run's own), a SIPp device registers once through the edge (so with
 * N engines it is known to one of them from Redis) and answers every call; each call is then a device call whose
 * binding every engine reads from its Redis-fed cache.
 *
 *   npx tsx bench/scale.ts [--engines 1,2,3] [--rates 20,40,80] [--seconds 10] [--hold-ms 200] [--registered]
 *
 * Needs the local PostgreSQL (SWITCHBOARD_TEST_PG_URL or postgresql://postgres@127.0.0.1:5432/test's server).
 */
import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { createTestDatabase } from '../test/support/pg-db.js';
import { freePort, killAllSipp, runSipp } from '../test/support/sipp.js';
import { killAllSbProcesses, startSbProcess, type SbProcess } from '../test/support/sb-process.js';
import { deleteRedisKeys, TEST_REDIS_URL, uniqueRedisPrefix } from '../test/support/redis.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : dflt;
}
const engineCounts = arg('engines', '1,2,3').split(',').map(Number);
const rates = arg('rates', '20,40,80').split(',').map(Number);
const seconds = Number(arg('seconds', '10'));
const holdMs = Number(arg('hold-ms', '200'));
const SECRET = 'bench-edge-secret-0123456789';
const registered = process.argv.includes('--registered');

/** utime + stime of a process, in seconds (/proc/<pid>/stat fields 14 and 15, clock ticks of 1/100 s). */
function cpuS(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch { return 0; }
}

/** `k` free ports, all different (freePort may hand back a port it just gave). */
async function ports(k: number): Promise<number[]> {
  const out = new Set<number>();
  while (out.size < k) out.add(await freePort());
  return [...out];
}

const dir = mkdtempSync(join(tmpdir(), 'sb-bench-scale-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
console.log(registered ? 'calls to a device registered through the edge, registrations in Redis' : 'calls forwarded to a trunk');
console.log(`engines  rate  calls  ok  failed  achieved_cps  edge_cpu_ms/call  engines_cpu_ms/call  load`);
for (const n of engineCounts) {
  const db = await createTestDatabase('sb_bench_scale');
  const [sipPort, controlPort, trunkPort, ...httpPorts] = await ports(3 + n);
  const configFile = join(dir, `config-${n}.yaml`);
  const redisPrefix = uniqueRedisPrefix('bench');
  writeFileSync(configFile, stringify({
    pbx: { name: 'Scale bench', domain: 'switchboard.local' },
    users: [{ name: 'Alice', number: '1001', devices: [{ username: 'alice-desk', password: 'alice-pw-9876' }], ...(registered ? {} : { forward: { always: '+61355550199' } }) }],
    ...(registered ? { redis: { url: TEST_REDIS_URL, key_prefix: redisPrefix } } : {}),
    numbers: [{ number: '+61390000000', flow: 'to-alice' }],
    flows: [{ id: 'to-alice', nodes: [{ id: 'ring', type: 'user', user: '1001' }] }],
    trunks: [{ name: 'bench', host: '127.0.0.1', port: trunkPort }],
    api: { api_key: 'bench-api-key', admin_key: 'bench-admin-key-0123456789' },
    media: { driver: 'none' },
  }));
  const edge = startSbProcess('src/edge.ts', { SWITCHBOARD_CONFIG: configFile, SWITCHBOARD_SIP_PORT: String(sipPort), DRACHTIO_PORT: String(controlPort), DRACHTIO_SECRET: SECRET, SWITCHBOARD_LOG_LEVEL: 'info' });
  await edge.waitForLog('ready: edge');
  const engines: SbProcess[] = [];
  const readyUrls: string[] = [];
  for (let node = 1; node <= n; node++) {
    const httpPort = httpPorts[node - 1]!;
    readyUrls.push(`http://127.0.0.1:${httpPort}/ready`);
    engines.push(startSbProcess('src/main.ts', {
      SWITCHBOARD_CONFIG: configFile, DATABASE_URL: db.url, SWITCHBOARD_NODE_ID: String(node), SWITCHBOARD_NONCE_SECRET: 'bench-nonce-secret-0123456',
      SWITCHBOARD_DATA_DIR: join(dir, `n${n}-node-${node}`), SWITCHBOARD_HTTP_PORT: String(httpPort), SWITCHBOARD_LOG_LEVEL: 'warn',
      DRACHTIO_HOST: '127.0.0.1', DRACHTIO_PORT: String(controlPort), DRACHTIO_SECRET: SECRET,
    }, ['--engine']));
  }
  // Engines log at warn here (no per-call lines), so their "ready:" line is not there: poll /ready instead.
  for (const url of readyUrls) {
    for (let i = 0; ; i++) {
      const ok = await fetch(url).then((r) => r.status === 200, () => false);
      if (ok) break;
      if (i > 600) throw new Error(`${url} never ready`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  if (registered) {
    const reg = await runSipp({ scenario: 'engine-register.xml', target: `127.0.0.1:${sipPort}`, port: trunkPort, calls: 1, extra: ['-key', 'user', 'alice-desk', '-au', 'alice-desk', '-ap', 'alice-pw-9876', '-key', 'domain', 'switchboard.local', '-auth_uri', 'switchboard.local', '-key', 'expires', '3600'] });
    if ((await reg.done).code !== 0) throw new Error('alice-desk did not register');
  }
  for (const rate of rates) {
    const calls = rate * seconds;
    const uas = registered
      ? await runSipp({ scenario: 'engine-uas-device.xml', port: trunkPort, calls, timeoutS: seconds * 6 + 60 })
      : await runSipp({ scenario: 'uas-answer.xml', port: trunkPort, timeoutS: seconds * 6 + 60, extra: ['-m', String(calls), '-d', '10'] });
    const edge0 = cpuS(edge.pid);
    const eng0 = engines.reduce((s, e) => s + cpuS(e.pid), 0);
    const t0 = Date.now();
    const uac = await runSipp({
      scenario: 'engine-uac-did.xml', target: `127.0.0.1:${sipPort}`, calls, timeoutS: seconds * 6 + 60,
      extra: ['-s', '61390000000', '-d', String(holdMs), '-r', String(rate), '-l', String(rate * 4)],
    });
    const r = await uac.done;
    const elapsedS = (Date.now() - t0) / 1000;
    uas.kill();
    const failed = Number(/Failed call\s+\|\s+\d+\s+\|\s+(\d+)/.exec(r.stdout)?.[1] ?? NaN);
    const ok = Number(/Successful call\s+\|\s+\d+\s+\|\s+(\d+)/.exec(r.stdout)?.[1] ?? NaN);
    const edgeMs = ((cpuS(edge.pid) - edge0) * 1000) / calls;
    const engMs = ((engines.reduce((s, e) => s + cpuS(e.pid), 0) - eng0) * 1000) / calls;
    console.log(`${String(n).padStart(7)}  ${String(rate).padStart(4)}  ${String(calls).padStart(5)}  ${ok}  ${failed}  ${(ok / elapsedS).toFixed(1).padStart(12)}  ${edgeMs.toFixed(2).padStart(16)}  ${engMs.toFixed(2).padStart(19)}  ${loadavg()[0]!.toFixed(1)}`);
    await new Promise((res) => setTimeout(res, 2000));
  }
  await killAllSbProcesses();
  killAllSipp();
  await db.drop();
  if (registered) await deleteRedisKeys(TEST_REDIS_URL, redisPrefix);
}
process.exit(0);
