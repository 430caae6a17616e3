/**
 * The compose deployment (issue 16). No Docker engine runs here, so the file is checked the way a Docker host would
 * read it — Debian's `docker-compose config` (v1) interpolates, merges the anchors and profiles and refuses what it
 * cannot run — and then for what the deployment must hold: the real drachtio-server edge, rtpengine, PostgreSQL,
 * Redis, two engines with distinct node ids and one nonce secret, readiness healthchecks, the SIPp profile; every
 * file it builds from or mounts exists, the mounted PBX configuration loads, the Dockerfile builds the server and
 * the console. The SIPp profile's runner (docker/sipp/run.sh, its scenarios) then runs against an edge and engines
 * started on this machine, as the container runs it against the stack.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { loadConfigFile } from '../../../src/config/index.js';
import { eventually } from '../../support/integration-pbx.js';
import { createTestDatabase, type TestDatabase } from '../../support/pg-db.js';
import { freePort } from '../../support/sipp.js';
import { killAllSbProcesses, ROOT, startSbProcess } from '../../support/sb-process.js';

const DOCKER = join(ROOT, 'docker');
const COMPOSE = join(DOCKER, 'compose.yaml');
const ENV = {
  DRACHTIO_SECRET: 'edge-secret-for-the-test', SWITCHBOARD_NONCE_SECRET: 'nonce-secret-for-the-test',
  SWITCHBOARD_API_KEY: 'compose-api-key-0123', SWITCHBOARD_ADMIN_KEY: 'compose-admin-key-0123456789',
};
const dir = mkdtempSync(join(tmpdir(), 'sb-compose-'));
let db: TestDatabase | undefined;
let runner: ChildProcess | undefined;

afterAll(async () => {
  // run.sh starts SIPp children: it runs in its own process group, killed as a whole.
  if (runner?.pid && runner.exitCode === null) try { process.kill(-runner.pid, 'SIGKILL'); } catch { /* gone */ }
  await killAllSbProcesses();
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
}, 120_000);

function compose(args: string[], env: Record<string, string> = ENV): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('docker-compose', ['-f', COMPOSE, ...args], { cwd: DOCKER, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: dir, ...env } });
  if (r.error) throw new Error(`docker-compose could not run (${r.error.message}): install Debian's docker-compose (apt-get install docker-compose; scripts/test.sh does it as root)`);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface Service {
  image?: string; build?: { context: string; dockerfile?: string }; command?: string[]; profiles?: string[];
  environment?: Record<string, string>; healthcheck?: { test: string[] }; depends_on?: Record<string, { condition: string }>;
  volumes?: Array<string | { type: string; source: string; target: string }>; ports?: unknown[];
}

/** The bind-mount sources of a service (named volumes excluded), as absolute paths. */
function bindSources(s: Service): string[] {
  return (s.volumes ?? []).map((v) => (typeof v === 'string' ? v.split(':')[0]! : v.type === 'bind' ? v.source : '')).filter((p) => isAbsolute(p));
}

describe('docker/compose.yaml', () => {
  const ENGINES = ['engine-1', 'engine-2'];

  it('docker-compose config accepts it, with the edge, rtpengine, PostgreSQL, Redis, two engines and the SIPp profile', () => {
    const r = compose(['config']);
    expect(r.status, r.stderr).toBe(0);
    const services = (parse(r.stdout) as { services: Record<string, Service> }).services;
    expect(Object.keys(services).sort()).toEqual(['drachtio', 'engine-1', 'engine-2', 'engine-3', 'postgres', 'redis', 'rtpengine', 'sipp']);
    expect(compose(['config', '--profiles']).stdout.trim().split('\n').sort()).toEqual(['scale', 'sipp']);

    expect(services.drachtio!.image).toMatch(/^drachtio\/drachtio-server:/);
    expect(services.drachtio!.environment!.DRACHTIO_SECRET).toBe(ENV.DRACHTIO_SECRET);
    expect(services.rtpengine!.image).toMatch(/^drachtio\/rtpengine:/);
    expect(services.rtpengine!.command).toEqual(expect.arrayContaining(['--listen-ng=0.0.0.0:22222', '--recording-method=pcap', '--recording-dir=/spool']));
    for (const name of ['postgres', 'redis']) expect(services[name]!.healthcheck?.test.length, `${name} healthcheck`).toBeGreaterThan(1);

    const engines = ['engine-1', 'engine-2', 'engine-3'].map((n) => services[n]!);
    expect(engines.map((e) => e.environment!.SWITCHBOARD_NODE_ID)).toEqual(['1', '2', '3']);
    expect(services['engine-3']!.profiles).toEqual(['scale']);
    for (const [i, e] of engines.entries()) {
      const what = `engine-${i + 1}`;
      expect(e.build, what).toEqual({ context: ROOT, dockerfile: 'docker/Dockerfile' });
      expect(e.command, what).toEqual(['node', 'dist/src/main.js', '--engine']);
      expect(e.environment, what).toMatchObject({
        DRACHTIO_HOST: 'drachtio', DRACHTIO_PORT: '9022', DRACHTIO_SECRET: ENV.DRACHTIO_SECRET,
        SWITCHBOARD_NONCE_SECRET: ENV.SWITCHBOARD_NONCE_SECRET, SWITCHBOARD_API_KEY: ENV.SWITCHBOARD_API_KEY,
        SWITCHBOARD_ADMIN_KEY: ENV.SWITCHBOARD_ADMIN_KEY, SWITCHBOARD_CONFIG: '/etc/switchboard/switchboard.yaml',
      });
      expect(e.environment!.SWITCHBOARD_REDIS_URL, what).toBe('redis://redis:6379');
      expect(new URL(e.environment!.DATABASE_URL!).host, what).toBe('postgres:5432');
      expect(e.healthcheck!.test.join(' '), what).toContain('http://127.0.0.1:8080/ready');
      expect(e.depends_on, what).toMatchObject({ postgres: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' }, drachtio: {}, rtpengine: {} });
    }
    expect(new Set(engines.map((e) => JSON.stringify(e.ports))).size).toBe(3);

    const sipp = services.sipp!;
    expect(sipp.profiles).toEqual(['sipp']);
    expect(sipp.command).toEqual(['/sipp/run.sh']);
    expect(sipp.environment).toMatchObject({ SIP_EDGE: 'drachtio:5060', SWITCHBOARD_API_KEY: ENV.SWITCHBOARD_API_KEY });
    expect(sipp.depends_on).toEqual(Object.fromEntries(ENGINES.map((e) => [e, { condition: 'service_healthy' }])));
  });

  it('a missing secret is refused by docker-compose with the variable named', () => {
    const { SWITCHBOARD_NONCE_SECRET: _, ...withoutNonce } = ENV;
    const r = compose(['config'], withoutNonce);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('set SWITCHBOARD_NONCE_SECRET');
  });

  it('every file it builds from or mounts exists; the mounted configuration loads; the SIPp runner names only files that exist', () => {
    const services = (parse(compose(['config']).stdout) as { services: Record<string, Service> }).services;
    for (const [name, s] of Object.entries(services)) {
      if (s.build) {
        expect(statSync(s.build.context).isDirectory(), `${name}: build context ${s.build.context}`).toBe(true);
        const dockerfile = resolve(s.build.context, s.build.dockerfile ?? 'Dockerfile');
        expect(existsSync(dockerfile), `${name}: ${dockerfile}`).toBe(true);
      }
      for (const src of bindSources(s)) expect(existsSync(src), `${name}: mounted ${src}`).toBe(true);
    }
    const configMount = bindSources(services['engine-1']!).find((p) => p.endsWith('switchboard.yaml'))!;
    const config = loadConfigFile(configMount, { apiKeyOverride: ENV.SWITCHBOARD_API_KEY, adminKeyOverride: ENV.SWITCHBOARD_ADMIN_KEY });
    expect(config.media.driver).toBe('rtpengine');
    expect(config.media.rtpengine).toMatchObject({ ng_host: 'rtpengine', ng_port: 22222, recording_dir: '/spool' });
    expect(config.trunks[0]).toMatchObject({ host: 'sipp', port: 5090 });
    expect(bindSources(services.rtpengine!)).toContain(join(ROOT, 'media/prompts'));

    const runSh = join(DOCKER, 'sipp/run.sh');
    accessSync(runSh, constants.X_OK);
    const scenarios = [...readFileSync(runSh, 'utf8').matchAll(/\$here\/([\w-]+\.xml)/g)].map((m) => m[1]!);
    expect(new Set(scenarios)).toEqual(new Set(['register.xml', 'device.xml', 'caller-did.xml', 'trunk-answer-bye.xml']));
    for (const f of scenarios) expect(readFileSync(join(DOCKER, 'sipp', f), 'utf8'), f).toContain('<scenario');
  });

  it('the Dockerfile installs the lockfile with npm ci, builds the server and the console, and the image holds what they read at run time', () => {
    const text = readFileSync(join(DOCKER, 'Dockerfile'), 'utf8');
    const [build, runtime] = text.split(/^FROM /m).slice(1) as [string, string];
    expect(build).toMatch(/^RUN npm ci\b/m);
    expect(build).toContain('npm rebuild better-sqlite3');
    expect(build).toMatch(/npm run build && npm run build:console/);
    // Build-stage COPY sources come from the context (the repository root), minus .dockerignore.
    for (const m of build.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
      for (const src of m[1]!.split(/\s+/)) expect(existsSync(join(ROOT, src)), `COPY ${src}`).toBe(true);
    }
    for (const m of runtime.matchAll(/^COPY (?!--from)(\S+) \S+$/gm)) expect(existsSync(join(ROOT, m[1]!)), `COPY ${m[1]}`).toBe(true);
    for (const path of ['/app/node_modules', '/app/dist', '/app/console/dist']) expect(runtime).toContain(`COPY --from=build ${path} `);
    expect(runtime).toMatch(/^COPY package\.json /m);
    expect(runtime).toMatch(/^COPY media\/prompts /m);
    expect(runtime).toContain('CMD ["node", "dist/src/main.js"]');
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', 'console/dist', '.git']));
  });
});

describe('the SIPp profile (docker/sipp/run.sh)', () => {
  it('registers a device, makes a DID call and a click-to-call through an edge and engines on PostgreSQL', async () => {
    db = await createTestDatabase('sb_compose');
    const ports = new Set<number>();
    while (ports.size < 6) ports.add(await freePort());
    const [sipPort, controlPort, httpPort, devicePort, trunkPort, callerPort] = [...ports] as [number, number, number, number, number, number];
    // The compose configuration itself, pointed at this machine: the trunk is the runner's SIPp, no rtpengine.
    const config = parse(readFileSync(join(DOCKER, 'switchboard.yaml'), 'utf8')) as { trunks: Array<Record<string, unknown>>; media: unknown };
    config.trunks[0] = { ...config.trunks[0], host: '127.0.0.1', port: trunkPort };
    config.media = { driver: 'none' };
    const configFile = join(dir, 'switchboard.yaml');
    writeFileSync(configFile, stringify(config));
    const edge = startSbProcess('src/edge.ts', { SWITCHBOARD_CONFIG: configFile, SWITCHBOARD_SIP_PORT: String(sipPort), DRACHTIO_PORT: String(controlPort), DRACHTIO_SECRET: ENV.DRACHTIO_SECRET });
    await edge.waitForLog('ready: edge');
    const engine = startSbProcess('src/main.ts', {
      SWITCHBOARD_CONFIG: configFile, DATABASE_URL: db.url, SWITCHBOARD_NODE_ID: '1', SWITCHBOARD_NONCE_SECRET: ENV.SWITCHBOARD_NONCE_SECRET,
      SWITCHBOARD_API_KEY: ENV.SWITCHBOARD_API_KEY, SWITCHBOARD_ADMIN_KEY: ENV.SWITCHBOARD_ADMIN_KEY,
      SWITCHBOARD_DATA_DIR: join(dir, 'node-1'), SWITCHBOARD_HTTP_PORT: String(httpPort),
      DRACHTIO_HOST: '127.0.0.1', DRACHTIO_PORT: String(controlPort), DRACHTIO_SECRET: ENV.DRACHTIO_SECRET,
    }, ['--engine']);
    await engine.waitForLog('ready:');

    let out = '';
    runner = spawn('sh', [join(DOCKER, 'sipp/run.sh')], {
      detached: true, stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH ?? '', SIP_EDGE: `127.0.0.1:${sipPort}`, ENGINE_URLS: `http://127.0.0.1:${httpPort}`, SWITCHBOARD_API_KEY: ENV.SWITCHBOARD_API_KEY,
        LOCAL_IP: '127.0.0.1', DEVICE_PORT: String(devicePort), TRUNK_PORT: String(trunkPort), CALLER_PORT: String(callerPort), TALK_MS: '1000', WAIT_S: '60',
      },
    });
    runner.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    runner.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
    const code = await new Promise<number | null>((res) => runner!.once('exit', (c) => res(c)));
    expect(code, out).toBe(0);
    expect(out).toContain('sipp: all scenarios passed');

    const rows = await eventually(async () => {
      const r = await db!.query<{ direction: string; status: string; dest_number: string }>('SELECT direction, status, dest_number FROM calls WHERE ended_at IS NOT NULL ORDER BY direction');
      return r.length === 2 ? r : null;
    }, 'both calls stored and ended', 20_000);
    expect(rows.map((r) => [r.direction, r.status])).toEqual([['inbound', 'answered'], ['outbound', 'answered']]);
  }, 240_000);
});
