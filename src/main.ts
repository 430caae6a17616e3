/**
 * `npm start`: load settings (SWITCHBOARD_* / DRACHTIO_*), load and validate the configuration file, start
 * Switchboard, drain on SIGTERM (calls in progress finish, up to pbx.drain_timeout_s) and stop at once on SIGINT. Bad configuration exits 1 with every problem named.
 * The process guard (common/process-guard.ts) logs an unhandled rejection and keeps serving, and turns an uncaught
 * exception into a clean shutdown and exit 70, for a supervisor to restart us.
 */
import { createLogger } from './common/index.js';
import { installProcessGuard } from './common/index.js';
import { checkMediaFiles, ConfigError, configWarnings, loadConfigFile, loadSettings } from './config/index.js';
import { startSwitchboard } from './switchboard.js';

/**
 * `npm run engine` (`--engine`): a call engine of a scale-out deployment, with no SIP stack of its own; it must be
 * given the edge (`npm run edge`) or a drachtio-server to connect to.
 */
const ENGINE_ONLY = process.argv.includes('--engine');

async function main(): Promise<void> {
  let settings;
  let config;
  try {
    settings = loadSettings(process.env);
    config = loadConfigFile(settings.configPath, settings);
    const missing = checkMediaFiles(config, settings.configPath);
    if (missing.length > 0) throw new ConfigError(missing);
    if (ENGINE_ONLY && !settings.drachtio) {
      throw new ConfigError([{ file: 'env', path: 'DRACHTIO_HOST', message: 'npm run engine needs the SIP edge to connect to: set DRACHTIO_HOST (and DRACHTIO_PORT, DRACHTIO_SECRET) to the edge (npm run edge) or a drachtio-server' }]);
    }
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`switchboard: configuration error\n${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const log = createLogger({ level: settings.logLevel, name: 'switchboard' });
  for (const w of configWarnings(config)) log.warn(w);
  let close: () => Promise<void> = async () => undefined;
  installProcessGuard({ log, shutdown: () => close() });
  const sb = await startSwitchboard({ settings, config, log });
  close = () => sb.close();
  let stopping = false;
  const finish = (p: Promise<unknown>, graceMs: number) => {
    const force = setTimeout(() => process.exit(1), graceMs);
    force.unref();
    p.then(() => sb.close()).then(() => process.exit(0), (err: unknown) => { log.error({ err }, 'shutdown failed'); process.exit(1); });
  };
  // SIGINT (a developer's Ctrl-C): end every call now and exit.
  process.on('SIGINT', () => {
    if (stopping) process.exit(130);
    stopping = true;
    log.info({ signal: 'SIGINT' }, 'shutting down');
    finish(Promise.resolve(), 10_000);
  });
  // SIGTERM (an orchestrator): drain — /ready says 503, new calls get 503 + Retry-After, calls in progress get
  // pbx.drain_timeout_s to finish, the rest are hung up, exit 0. A second SIGTERM exits at once.
  process.on('SIGTERM', () => {
    if (stopping) {
      log.warn({ signal: 'SIGTERM' }, 'second SIGTERM: exiting now');
      process.exit(143);
    }
    stopping = true;
    const drainMs = sb.config.live().config.pbx.drain_timeout_s * 1000;
    log.info({ signal: 'SIGTERM', drain_timeout_s: drainMs / 1000 }, 'draining');
    finish(sb.drain(drainMs).then((r) => log.info(r, 'drained')), drainMs + 15_000);
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`switchboard: failed to start: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
