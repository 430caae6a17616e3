/**
 * `npm start`: load settings (SWITCHBOARD_* / DRACHTIO_*), load and validate the configuration file, start
 * Switchboard, and shut down cleanly on SIGINT/SIGTERM. Bad configuration exits 1 with every problem named.
 * The process guard (common/process-guard.ts) logs an unhandled rejection and keeps serving, and turns an uncaught
 * exception into a clean shutdown and exit 70, for a supervisor to restart us.
 */
import { createLogger } from './common/log.js';
import { installProcessGuard } from './common/process-guard.js';
import { checkMediaFiles, ConfigError, configWarnings, loadConfigFile, loadSettings } from './config/index.js';
import { startSwitchboard } from './switchboard.js';

async function main(): Promise<void> {
  let settings;
  let config;
  try {
    settings = loadSettings(process.env);
    config = loadConfigFile(settings.configPath, settings);
    const missing = checkMediaFiles(config, settings.configPath);
    if (missing.length > 0) throw new ConfigError(missing);
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
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    sb.close().then(() => process.exit(0), (err: unknown) => { log.error({ err }, 'shutdown failed'); process.exit(1); });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  process.stderr.write(`switchboard: failed to start: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
