/**
 * The rtpengine recording's hold intervals: each party's direction from the SDP it sent (RFC 3264 §5.1: media level,
 * else session level, else sendrecv; c=0.0.0.0 is the old-style hold of §8.4), and a hold lasts while any party is
 * not sendrecv.
 */
import { describe, expect, it } from 'vitest';
import { audioDirection, HoldTimeline } from '../../../../src/media/rtpengine/hold-timeline.js';

const sdp = (lines: string[]) => ['v=0', 'o=- 1 1 IN IP4 10.0.0.1', 's=-', ...lines].join('\r\n') + '\r\n';

describe('audioDirection', () => {
  it('reads the first audio stream\'s attribute, else the session\'s, else sendrecv', () => {
    expect(audioDirection(sdp(['c=IN IP4 10.0.0.1', 't=0 0', 'm=audio 4000 RTP/AVP 0', 'a=sendonly']))).toBe('sendonly');
    expect(audioDirection(sdp(['c=IN IP4 10.0.0.1', 't=0 0', 'a=inactive', 'm=audio 4000 RTP/AVP 0']))).toBe('inactive');
    expect(audioDirection(sdp(['c=IN IP4 10.0.0.1', 't=0 0', 'a=recvonly', 'm=audio 4000 RTP/AVP 0', 'a=sendrecv']))).toBe('sendrecv');
    expect(audioDirection(sdp(['c=IN IP4 10.0.0.1', 't=0 0', 'm=audio 4000 RTP/AVP 0', 'm=video 4002 RTP/AVP 96', 'a=sendonly']))).toBe('sendrecv');
    expect(audioDirection(sdp(['c=IN IP4 10.0.0.1', 't=0 0', 'm=audio 4000 RTP/AVP 0']))).toBe('sendrecv');
  });

  it('MUST treat c=0.0.0.0 as hold (RFC 3264 §8.4)', () => {
    expect(audioDirection(sdp(['c=IN IP4 0.0.0.0', 't=0 0', 'm=audio 4000 RTP/AVP 0']))).toBe('inactive');
  });
});

describe('HoldTimeline', () => {
  it('holds from the first party off sendrecv until every party is back; a running hold ends at now', () => {
    const t = new HoldTimeline();
    t.note('caller', 'sendrecv', 0);
    t.note('callee', 'sendrecv', 10);
    t.note('caller', 'sendonly', 1000);
    t.note('callee', 'recvonly', 1050);
    t.note('caller', 'sendrecv', 2000);
    expect(t.intervals(5000)).toEqual([[1000, 5000]]);
    t.note('callee', 'sendrecv', 2040);
    expect(t.intervals(5000)).toEqual([[1000, 2040]]);
    t.note('callee', 'inactive', 3000);
    expect(t.intervals(5000)).toEqual([[1000, 2040], [3000, 5000]]);
  });
});
