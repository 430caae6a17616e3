/**
 * The whole Switchboard (src/switchboard.ts, what `npm start` runs) started in-process on free ports with a temp
 * data directory, for black-box tests that drive it over SIP and HTTP like users do.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { loadConfigFile, loadSettings, type PbxConfig } from '../../src/config/index.js';
import { startSwitchboard, type Switchboard, type SwitchboardOptions } from '../../src/switchboard.js';
import { freePort } from './sipp.js';

export const DEMO_CONFIG_FILE = resolve(import.meta.dirname, '../../config/default.yaml');

export interface TestSwitchboard extends Switchboard {
  sipTarget: string;
  baseUrl: string;
  stop(): Promise<void>;
}

/** Starts Switchboard with the demo configuration, changed by `mutate`. */
export async function startTestSwitchboard(opts: {
  mutate?: (c: PbxConfig) => void;
  env?: Record<string, string>;
  extra?: Partial<SwitchboardOptions>;
} = {}): Promise<TestSwitchboard> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sb-e2e-'));
  const sipPort = await freePort();
  const httpPort = await freePort();
  const settings = loadSettings({
    SWITCHBOARD_DATA_DIR: dataDir,
    SWITCHBOARD_SIP_PORT: String(sipPort),
    SWITCHBOARD_HTTP_PORT: String(httpPort),
    ...opts.env,
  });
  const config = structuredClone(loadConfigFile(DEMO_CONFIG_FILE, settings));
  opts.mutate?.(config);
  // eslint-disable-next-line no-restricted-properties -- test-only switch for debugging output
  const log = pino({ level: process.env['SB_TEST_LOG'] ?? 'silent' });
  const sb = await startSwitchboard({ settings, config, log, ...opts.extra });
  return {
    ...sb,
    sipTarget: `127.0.0.1:${sipPort}`,
    baseUrl: `http://127.0.0.1:${sb.http.port}`,
    async stop() {
      await sb.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
