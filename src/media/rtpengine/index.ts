/**
 * The rtpengine media driver's public surface: the layer, its ng client and the pcap → WAV conversion. Imported
 * only by the composition root (STYLE.md §3), tests and benches.
 */
export { createRtpengineMediaLayer, type RtpengineMediaLayer, type RtpengineMediaLayerOptions } from './driver.js';
export { createNgClient, type NgAddress, type NgClient, type NgClientOptions } from './ng-client.js';
export { NgClosedError, NgCommandError, NgProtocolError, NgTimeoutError } from './errors.js';
export { convertPcapToWav, type PcapToWavOptions, type PcapToWavStats } from './pcap-to-wav.js';
