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
import { freePort, mediaPortRange } from './sipp.js';

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
  // eslint-disable-next-line no-restricted-properties -- test-only switch for debugging output
  const log = pino({ level: process.env['SB_TEST_LOG'] ?? 'silent' });
  // A port found free can be taken by a parallel test before we bind it: try again with new ports.
  let sb: Switchboard | undefined;
  let sipPort = 0;
  for (let attempt = 1; !sb; attempt++) {
    sipPort = await freePort();
    const httpPort = await freePort();
    const settings = loadSettings({
      SWITCHBOARD_DATA_DIR: dataDir,
      SWITCHBOARD_SIP_PORT: String(sipPort),
      SWITCHBOARD_HTTP_PORT: String(httpPort),
      ...opts.env,
    });
    const config = structuredClone(loadConfigFile(DEMO_CONFIG_FILE, settings));
    const rtp = mediaPortRange();
    if (rtp) [config.media.port_min, config.media.port_max] = [rtp.min, rtp.max];
    opts.mutate?.(config);
    try {
      sb = await startSwitchboard({ settings, config, log, ...opts.extra });
    } catch (err) {
      if (attempt >= 5 || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    }
  }
  const started: Switchboard = sb;
  return {
    ...started,
    sipTarget: `127.0.0.1:${sipPort}`,
    baseUrl: `http://127.0.0.1:${started.http.port}`,
    async stop() {
      await started.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
