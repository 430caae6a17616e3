/**
 * bench/security-sip — issue 11's SIP-edge attacks, before and after (the Measure line of issue 11).
 *
 * Each attack runs in a child process against a source tree (this one, and with `--before <dir>` an older one:
 * `git worktree add --detach /tmp/sb-before 9d2b610`), importing that tree's own Switchboard (test/support/switchboard.ts,
 * the demo configuration on free ports) and SIP core, over real sockets on 127.0.0.1. One outcome line per attack:
 * - received: OPTIONS whose Via says `received=127.0.0.2` (no rport): where do the responses go?
 * - version: INVITE with a lowercase `sip/2.0` request line: the final response within 5 s.
 * - lockout: 25 wrong REGISTERs for alice-desk, then bob-desk's correct one from the same address.
 * - display-name: one DID INVITE whose From display name is `a` + 60,000 spaces + `b`: event-loop block (max delay).
 * - tcp-flood: 300 TCP connections from one address: how many stay open after 1 s.
 * - tcp-garbage: 70 KB without an empty line on a half-open-capable connection: is the server's socket closed (fd)?
 * - tcp-idle: a connection that says nothing (idle timeout 2 s where configurable): closed within 6 s?
 * - bindings: 30 REGISTERs of new contacts for one device: how many bound.
 * - long-wait: a queue caller whose agent answers after 5 s, INVITE reaper 3 s: answered or 408, 180s received.
 * - framer: one 60 KB message fed to the tree's StreamFramer 1 byte at a time: time.
 *
 *   npx tsx bench/security-sip.ts [--before /tmp/sb-before] [--only received,version,...]
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const ALL = ['received', 'version', 'lockout', 'display-name', 'tcp-flood', 'tcp-garbage', 'tcp-idle', 'bindings', 'long-wait', 'framer'];

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

const ROOT = resolve(import.meta.dirname, '..');
const tree = arg('tree');
if (tree) {
  const { runScenario } = await import('./tools/sip-scenario.js');
  const outcome = await runScenario(resolve(tree), arg('scenario')!);
  console.log(`OUTCOME ${outcome}`);
  process.exit(0);
}

const scenarios = (arg('only') ?? ALL.join(',')).split(',');
const trees: Array<[string, string]> = [['after', ROOT]];
const before = arg('before');
if (before) trees.unshift(['before', resolve(before)]);
const rows: string[][] = [];
for (const scenario of scenarios) {
  const row = [scenario];
  for (const [, dir] of trees) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', resolve(ROOT, 'bench/security-sip.ts'), '--tree', dir, '--scenario', scenario], { cwd: ROOT, encoding: 'utf8', timeout: 240_000 });
    const line = r.stdout.trim().split('\n').filter((l) => l.startsWith('OUTCOME ')).pop();
    row.push(line ? line.slice('OUTCOME '.length) : `error: ${(r.stderr || r.stdout || String(r.error)).trim().split('\n').slice(-3).join(' ')}`);
  }
  rows.push(row);
  console.log(row.join(' | '));
}
console.log(`\n| attack | ${trees.map(([n]) => n).join(' | ')} |\n|---|${trees.map(() => '---|').join('')}`);
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
