/**
 * The media drivers an e2e file runs against (issue 10: "everything against the embedded endpoint and against
 * rtpengine"): `describe.each(mediaDrivers())` and, per driver, `start()` in beforeAll, `configure(c)` in the PBX's
 * mutate, `stop()` in afterAll. rtpengine is a real rtpengine-daemon started here (free ng port and RTP range, DTMF
 * events to a free port), stopped by PID. Under CI=true a daemon that cannot run fails the file (requireRtpengine).
 */
import type { PbxConfig } from '../../src/config/index.js';
import { requireRtpengine, startRtpengine, type RtpengineDaemon } from './rtpengine.js';
import { freePort } from './sipp.js';

export interface MediaDriverUnderTest {
  readonly name: 'embedded' | 'rtpengine';
  /** The driver reports `silence` (voicemail's silence cut); rtpengine never sees the audio, so it cannot. */
  readonly detectsSilence: boolean;
  start(): Promise<void>;
  /** Points the configuration at this driver. */
  configure(c: PbxConfig): void;
  /** Whether an RTP port in an SDP from the PBX is this driver's (the media really went through it). */
  ownsPort(port: number): boolean;
  stop(): Promise<void>;
}

function embedded(): MediaDriverUnderTest {
  let range: [number, number] = [0, -1];
  return {
    name: 'embedded', detectsSilence: true,
    async start() {},
    configure(c) { c.media.driver = 'embedded'; range = [c.media.port_min, c.media.port_max]; },
    ownsPort: (port) => port >= range[0] && port <= range[1],
    async stop() {},
  };
}

function rtpengine(): MediaDriverUnderTest {
  let daemon: RtpengineDaemon | undefined;
  let dtmfPort = 0;
  return {
    name: 'rtpengine', detectsSilence: false,
    async start() {
      dtmfPort = await freePort();
      daemon = await startRtpengine({ ports: 100, dtmfLogDest: { host: '127.0.0.1', port: dtmfPort } });
    },
    configure(c) {
      if (!daemon) throw new Error('rtpengine driver not started');
      c.media.driver = 'rtpengine';
      c.media.rtpengine = { ng_host: daemon.ng.host, ng_port: daemon.ng.port, recording_dir: daemon.recordingDir, dtmf_port: dtmfPort };
    },
    ownsPort: (port) => daemon !== undefined && port >= daemon.portMin && port <= daemon.portMax,
    async stop() { await daemon?.stop(); },
  };
}

/** Both drivers when rtpengine-daemon can run here (always under CI=true), else the embedded one only. */
export function mediaDrivers(): MediaDriverUnderTest[] {
  return requireRtpengine() ? [embedded(), rtpengine()] : [embedded()];
}
