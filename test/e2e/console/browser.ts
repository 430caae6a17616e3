/** Chromium for the console tests: Debian's package (scripts/test.sh installs it), and a fresh build of the console. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'vite';

export const CHROMIUM = '/usr/bin/chromium';

/** Flags for a quiet, sandbox-free headless chromium (playwright-core adds --headless and --user-data-dir). */
export function chromiumArgs(): string[] {
  return ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
}

/**
 * Chromium for WebRTC on loopback (the softphone tests and bench): fake devices without a permission prompt, autoplay
 * of the remote audio; host candidates on 127.0.0.1 (Chromium skips loopback unless told) and under their real
 * address, not an mDNS `.local` name rtpengine cannot resolve.
 */
export function webrtcChromiumArgs(): string[] {
  return [
    ...chromiumArgs(), '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', '--autoplay-policy=no-user-gesture-required',
    '--allow-loopback-in-peer-connection', '--disable-features=WebRtcHideLocalIpsWithMdns',
  ];
}

/** Builds the console from its sources into a temp folder, so the test runs what the sources say. */
export async function buildConsole(): Promise<string> {
  const outDir = mkdtempSync(join(tmpdir(), 'sb-console-dist-'));
  await build({ configFile: resolve(import.meta.dirname, '../../../console/vite.config.js'), logLevel: 'warn', build: { outDir, emptyOutDir: true } });
  return outDir;
}
