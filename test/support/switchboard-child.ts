/**
 * A Switchboard in a child process, started the way `npm start` starts it (settings from SWITCHBOARD_* env, the
 * configuration file, the process guard), for tests that kill it or make it fail. Two test triggers, by signal:
 * SIGUSR1 makes an unawaited promise reject; SIGUSR2 throws from a timer callback (an uncaught exception).
 *
 *   node --import tsx test/support/switchboard-child.ts      stdout: pino JSON lines ("ready: …" once listening)
 */
import { createLogger } from '../../src/common/log.js';
import { installProcessGuard } from '../../src/common/process-guard.js';
import { loadConfigFile, loadSettings } from '../../src/config/index.js';
import { startSwitchboard } from '../../src/switchboard.js';

const settings = loadSettings(process.env);
const config = loadConfigFile(settings.configPath, settings);
const log = createLogger({ level: settings.logLevel, name: 'switchboard', pretty: false });
let close: () => Promise<void> = async () => undefined;
installProcessGuard({ log, shutdown: () => close() });
const sb = await startSwitchboard({ settings, config, log, sipTimers: { t1: 100, t2: 400, t4: 500 }, dispatcher: { pollIntervalMs: 50, jitter: 0 } });
close = async () => {
  await sb.close();
  log.info('store closed');
};
process.on('SIGUSR1', () => { void Promise.reject(new Error('test: a rejected promise nobody awaited')); });
process.on('SIGUSR2', () => { setImmediate(() => { throw new Error('test: an exception nobody caught'); }); });
process.on('SIGTERM', () => { void close().then(() => process.exit(0)); });
