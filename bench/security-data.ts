/**
 * bench/security-data — issue 11's data-safety failures, before and after (the Measure line of issue 11).
 *
 * Each scenario runs in a child process against a source tree (this one, and with `--before <dir>` an older one:
 * `git worktree add /tmp/data-before 9d2b610`), importing that tree's own modules, and prints one outcome line:
 * - busy: a second SQLite connection holds the write lock for 2 s while 20 call steps are committed (the engine's
 *   CommitBatcher, busy_timeout 50 ms): how many steps (with their events) are in the store afterwards.
 * - disk-full: the store lives on a 4 MiB tmpfs that a filler file fills; 20 steps are committed; 1 s later the filler
 *   is removed (needs root for `mount`; otherwise reported as not run).
 * - kill-9: a Switchboard (the tree's `src/main.ts`) bridges a click-to-call to a SIPp trunk, is killed with SIGKILL
 *   mid-call and restarted on the same data dir: is the call closed, its completed event delivered, the trunk BYEd?
 * - retention: 2,000 ended calls 100 days old, `retention.calls_days: 30`; a Switchboard runs for 3 s: rows left.
 *   Plus `get-user-calls?offset=1000000000`: the status and time of the answer.
 *
 *   npx tsx bench/security-data.ts [--before /tmp/data-before] [--only busy,disk-full,kill-9,retention]
 */
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

const ROOT = resolve(import.meta.dirname, '..');
const SCENARIOS = (arg('only') ?? 'busy,disk-full,kill-9,retention').split(',');
const trees: Array<[string, string]> = [['after', ROOT]];
const before = arg('before');
if (before) trees.unshift(['before', resolve(before)]);

const rows: string[][] = [];
for (const scenario of SCENARIOS) {
  const row = [scenario];
  for (const [, tree] of trees) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/tools/data-scenario.ts'), tree, scenario], { cwd: ROOT, encoding: 'utf8', timeout: 400_000 });
    const line = r.stdout.trim().split('\n').filter((l) => l.startsWith('OUTCOME ')).pop();
    row.push(line ? line.slice('OUTCOME '.length) : `error: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' ')}`);
  }
  rows.push(row);
  console.log(row.join(' | '));
}
console.log(`\n| failure | ${trees.map(([n]) => n).join(' | ')} |\n|---|${trees.map(() => '---|').join('')}`);
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
