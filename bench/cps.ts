/**
 * bench/cps — calls per second through a B2BUA on drachtio-srf + drachtio-lite (issue 2).
 *
 *   SIPp uac ──INVITE──▶ drachtio-lite (SIP core) ◀─wire─▶ drachtio-srf createB2BUA ──▶ SIPp uas
 *
 * Steps the offered rate up; at each step runs SIPp for a fixed number of calls and reports whether every call
 * succeeded, the process RSS and CPU. Prints the highest zero-failure rate. Not a test: no assertions.
 *
 *   npx tsx bench/cps.ts [--rates 200,400,600,800,1000,1200] [--seconds 10] [--hold-ms 500]
 */
import Srf from 'drachtio-srf';
import { randomBytes } from 'node:crypto';
import { createDrachtioLite } from '../src/drachtio-lite/index.js';
import { createLogger } from '../src/common/log.js';
import { freePort, runSipp, killAllSipp } from '../test/support/sipp.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : dflt;
}

const rates = arg('rates', '200,400,600,800,1000,1200,1500').split(',').map(Number);
const seconds = Number(arg('seconds', '10'));
const holdMs = Number(arg('hold-ms', '500'));

const log = createLogger({ level: 'warn' });
const secret = randomBytes(8).toString('hex');
const sipPort = await freePort();
const lite = await createDrachtioLite({
  sip: { listen: [{ transport: 'udp', address: '127.0.0.1', port: sipPort }] },
  control: { address: '127.0.0.1', port: 0 },
  secret,
  log,
});
const uasPort = await freePort();
const srf = new Srf();
await new Promise<void>((resolve, reject) => {
  srf.connect({ host: '127.0.0.1', port: lite.controlPort, secret });
  srf.once('connect', () => resolve());
  srf.once('error', reject);
});
srf.invite((req, res) => {
  srf
    .createB2BUA(req, res, `sip:${req.calledNumber || 'bench'}@127.0.0.1:${uasPort}`, { localSdpB: req.body })
    .catch(() => { /* failures are counted by SIPp */ });
});

const uas = await runSipp({ scenario: 'uas-answer.xml', port: uasPort, timeoutS: 3600, extra: ['-d', '0', '-max_socket', '60000'] });

interface Step { rate: number; calls: number; ok: boolean; code: number | null; rssMb: number; cpuPct: number; failed: string }
const results: Step[] = [];
for (const rate of rates) {
  const calls = rate * seconds;
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  let peakRss = 0;
  const sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }, 200);
  const uac = await runSipp({
    scenario: 'uac-invite-bye.xml',
    target: `127.0.0.1:${sipPort}`,
    calls,
    timeoutS: seconds * 4 + 30,
    extra: ['-s', 'bench', '-r', String(rate), '-d', String(holdMs), '-l', String(Math.max(rate * 3, 100))],
  });
  const r = await uac.done;
  clearInterval(sampler);
  const cpu = process.cpuUsage(cpu0);
  const wallMs = Date.now() - t0;
  const failedLine = /Failed call\s*\|\s*\S+\s*\|\s*(\d+)/.exec(r.stdout)?.[1] ?? '?';
  const step: Step = {
    rate, calls, ok: r.code === 0, code: r.code,
    rssMb: Math.round(peakRss / 1048576),
    cpuPct: Math.round(((cpu.user + cpu.system) / 1000 / wallMs) * 100),
    failed: failedLine,
  };
  results.push(step);
  console.log(`rate ${rate}/s  calls ${calls}  ${step.ok ? 'OK  ' : 'FAIL'} (sipp exit ${r.code}, failed ${failedLine})  peak RSS ${step.rssMb} MB  node CPU ${step.cpuPct}%`);
  if (!step.ok) break;
  await new Promise((res) => setTimeout(res, 2000));
}
const best = results.filter((s) => s.ok).at(-1);
console.log(`\nhighest zero-failure rate: ${best ? `${best.rate} calls/s (RSS ${best.rssMb} MB)` : 'none'}`);
uas.kill();
killAllSipp();
srf.disconnect();
await lite.close();
process.exit(0);
