/**
 * Turns rtpengine's pcap recording of a call into our WAV: stereo (left = caller, right = callee) or one party mono,
 * 8 kHz 16-bit, through the same {@link RecordingTimeline} and {@link WavFileWriter} the embedded endpoint uses.
 *
 * Which packets are whose: rtpengine records what it receives, so a caller's packet is one sent to the port
 * rtpengine offered the caller (in the SDP answer it returned for the caller), and a callee's packet one sent to
 * the port in the offer it returned for the callee. The driver knows those ports and passes them in.
 *
 * Where a packet goes on the timeline: its RTP timestamp, anchored to the arrival time of the first packet of its
 * stream (SSRC). RTP timestamps keep packets of a talk spurt in step whatever the arrival jitter; the arrival anchor
 * puts the two parties in step with each other and with the call (RFC 3550 §5.1: timestamps of different streams
 * are unrelated). When a stream's timestamps drift from its arrival times by more than {@link REANCHOR_FRAMES}
 * (a sender restarted, a timestamp jump after hold), the stream is anchored again. Frames nobody sent (hold, loss,
 * a stream that stopped) are silence.
 */
import { createReadStream } from 'node:fs';
import { g711Decode, g711LawOf } from '../codec/g711.js';
import type { MediaLegRole, RecordingChannels, RecordingResult } from '../media-layer.js';
import { RecordingTimeline } from '../wav/recording-timeline.js';
import { WavFileWriter } from '../wav/wav-writer.js';
import { PcapParser, type PcapUdpPacket } from './pcap.js';

const RATE = 8000;
/** 250 ms: more than any sane jitter, less than a noticeable offset between the parties. */
const REANCHOR_FRAMES = RATE / 4;

export interface PcapToWavOptions {
  pcapPath: string;
  /** The WAV to write (truncated if it exists). */
  wavPath: string;
  /** rtpengine's local RTP ports each party sends to. */
  ports: { readonly caller: readonly number[]; readonly callee: readonly number[] };
  channels: RecordingChannels;
  /** Epoch ms the WAV starts at (the recording start); default: the first packet. Earlier packets are left out. */
  startMs?: number;
  /** Epoch ms the WAV ends at (the recording stop); default: the end of the last packet. Later packets are left out. */
  endMs?: number;
  /** Epoch ms intervals [from, to) whose packets are left out (hold: silence, as the embedded endpoint records it). */
  silentMs?: ReadonlyArray<readonly [number, number]>;
}

/** Counts of what the conversion met, beside the WAV. */
export interface PcapToWavStats {
  packets: { caller: number; callee: number };
  /** Packets on other ports (RTCP, a third party) or outside the recording window. */
  ignored: number;
  malformed: number;
  /** Audio packets with a payload type other than PCMU/PCMA (telephone-event is expected and not counted). */
  otherPayloadType: number;
  /** Samples that arrived too late for the part of the timeline already written. */
  lateSamples: number;
  /** Packets that arrived while the call was on hold (left out: silence). */
  held: number;
}

interface StreamAnchor { frame: number; ts: number }

/** RTP payload of a packet (RFC 3550 §5.1: CSRCs, header extension, padding skipped), or null when malformed. */
export function rtpPayload(p: Buffer): { pt: number; ssrc: number; ts: number; payload: Buffer } | null {
  if (p.length < 12 || p[0]! >> 6 !== 2) return null;
  let off = 12 + 4 * (p[0]! & 0x0f);
  if (p[0]! & 0x10) {
    if (p.length < off + 4) return null;
    off += 4 + 4 * p.readUInt16BE(off + 2);
  }
  let end = p.length;
  if (p[0]! & 0x20) {
    const pad = p[end - 1]!;
    if (pad === 0) return null;
    end -= pad;
  }
  if (off > end) return null;
  return { pt: p[1]! & 0x7f, ssrc: p.readUInt32BE(8), ts: p.readUInt32BE(4), payload: p.subarray(off, end) };
}

/**
 * Converts a pcap recording to a WAV. Never throws for bad content: a malformed or truncated capture gives a WAV of
 * what could be read, and `problems` says why (`pcap-truncated`, `pcap-unreadable`, `rtp-malformed`,
 * `rtp-payload-type`, `stream-stopped` is the caller's to add). Rejects only when the WAV cannot be created.
 */
export async function convertPcapToWav(opts: PcapToWavOptions): Promise<RecordingResult & { stats: PcapToWavStats }> {
  const roles: MediaLegRole[] = opts.channels === 'both' ? ['caller', 'callee'] : [opts.channels];
  const channelOf = new Map<number, { role: MediaLegRole; channel: number }>();
  roles.forEach((role, channel) => { for (const p of opts.ports[role]) channelOf.set(p, { role, channel }); });
  const writer = await WavFileWriter.open(opts.wavPath, { channels: roles.length as 1 | 2, sampleRate: RATE });
  const timeline = new RecordingTimeline(writer);
  const stats: PcapToWavStats = { packets: { caller: 0, callee: 0 }, ignored: 0, malformed: 0, otherPayloadType: 0, lateSamples: 0, held: 0 };
  const problems = new Set<string>();
  const anchors = new Map<string, StreamAnchor>();
  const startUs = opts.startMs !== undefined ? Math.round(opts.startMs * 1000) : undefined;
  const endUs = opts.endMs !== undefined ? Math.round(opts.endMs * 1000) : undefined;
  let originUs = startUs;
  const silentUs = (opts.silentMs ?? []).map(([a, b]) => [a * 1000, b * 1000] as const);
  let lastFrame = 0;
  const pcm = new Int16Array(2048);

  const onPacket = (pkt: PcapUdpPacket): void => {
    const owner = channelOf.get(pkt.dst.port);
    if (!owner || (startUs !== undefined && pkt.timeUs < startUs) || (endUs !== undefined && pkt.timeUs >= endUs)) { stats.ignored++; return; }
    if (silentUs.some(([a, b]) => pkt.timeUs >= a && pkt.timeUs < b)) { stats.held++; return; }
    const second = pkt.payload[1];
    if (second !== undefined && second >= 200 && second <= 204) { stats.ignored++; return; } // RTCP on a muxed port (RFC 5761 §4)
    const rtp = rtpPayload(pkt.payload);
    if (!rtp) { stats.malformed++; problems.add('rtp-malformed'); return; }
    const law = g711LawOf(rtp.pt);
    if (!law) {
      if (rtp.pt < 96) { stats.otherPayloadType++; problems.add('rtp-payload-type'); }
      return; // dynamic types: telephone-event (DTMF is reported as events, not recorded as tones)
    }
    stats.packets[owner.role]++;
    originUs ??= pkt.timeUs;
    const arrival = Math.round(((pkt.timeUs - originUs) * RATE) / 1_000_000);
    const key = `${owner.role}/${rtp.ssrc}`;
    let anchor = anchors.get(key);
    let frame = anchor ? anchor.frame + ((rtp.ts - anchor.ts) | 0) : arrival;
    if (!anchor || Math.abs(frame - arrival) > REANCHOR_FRAMES) {
      anchor = { frame: arrival, ts: rtp.ts };
      anchors.set(key, anchor);
      frame = arrival;
    }
    const n = rtp.payload.length;
    const out = n <= pcm.length ? pcm.subarray(0, n) : new Int16Array(n);
    g711Decode(law, rtp.payload, out);
    if (frame < 0) return;
    timeline.put(owner.channel, frame, out);
    if (frame + n > lastFrame) lastFrame = frame + n;
  };

  const parser = new PcapParser();
  try {
    for await (const chunk of createReadStream(opts.pcapPath, { highWaterMark: 1 << 20 })) {
      for (const pkt of parser.push(chunk as Buffer)) onPacket(pkt);
      if (parser.error) break;
    }
    const err = parser.end();
    if (err) problems.add(/cut short/.test(err.message) ? 'pcap-truncated' : 'pcap-unreadable');
  } catch {
    problems.add('pcap-unreadable');
  }
  const endFrame = endUs !== undefined && originUs !== undefined ? Math.round(((endUs - originUs) * RATE) / 1_000_000) : lastFrame;
  const closed = await timeline.close(Math.max(0, endFrame));
  stats.lateSamples = timeline.droppedSamples;
  for (const p of closed.problems) problems.add(p);
  return { path: closed.path, durationMs: closed.durationMs, sizeBytes: closed.sizeBytes, sha256: closed.sha256, problems: [...problems], stats };
}
