import { describe, expect, it } from 'vitest';
import { buildAudioSdp, parseAudioSdp } from '../../../../src/media/embedded/sdp.js';

const sdp = (lines: string[]) => [...lines, ''].join('\r\n');
const head = ['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0'];

describe('embedded SDP (RFC 4566 / RFC 3264)', () => {
  it('reads the audio stream: address, port, G.711 codecs in order, telephone-event, direction, ptime', () => {
    const r = parseAudioSdp(sdp([...head, 'm=audio 4000 RTP/AVP 8 0 18 101', 'a=rtpmap:18 G729/8000', 'a=rtpmap:101 telephone-event/8000', 'a=ptime:30', 'a=sendonly']));
    expect(r).toEqual({ ok: true, audio: {
      address: '192.0.2.1', port: 4000, codecs: [{ pt: 8, law: 'pcma' }, { pt: 0, law: 'pcmu' }], telephoneEventPt: 101, direction: 'sendonly', ptime: 30, mediaIndex: 0,
      media: [{ type: 'audio', protocol: 'RTP/AVP', payloads: '8 0 18 101' }],
    } });
  });

  it('takes G.711 under a dynamic payload type, media-level c= and direction over session level', () => {
    const r = parseAudioSdp(sdp([...head, 'a=inactive', 'm=video 5000 RTP/AVP 96', 'm=audio 4000 RTP/AVP 97', 'c=IN IP4 198.51.100.7', 'a=rtpmap:97 pcmu/8000', 'a=recvonly']));
    expect(r.ok && r.audio).toMatchObject({ address: '198.51.100.7', codecs: [{ pt: 97, law: 'pcmu' }], direction: 'recvonly', mediaIndex: 1, telephoneEventPt: null });
    const s = parseAudioSdp(sdp([...head, 'a=inactive', 'm=audio 4000 RTP/AVP 0']));
    expect(s.ok && s.audio.direction).toBe('inactive');
  });

  it('treats c=0.0.0.0 as RFC 2543 hold (we must not send to it)', () => {
    const r = parseAudioSdp(sdp(['v=0', 'o=- 1 2 IN IP4 0.0.0.0', 's=-', 'c=IN IP4 0.0.0.0', 't=0 0', 'm=audio 4000 RTP/AVP 0']));
    expect(r.ok && r.audio.direction).toBe('sendonly');
  });

  it.each([
    ['empty', '', /empty/],
    ['not SDP', 'hello', /no v=0 or no m= line/],
    ['no audio', sdp([...head, 'm=video 5000 RTP/AVP 96']), /no m=audio stream/],
    ['declined audio', sdp([...head, 'm=audio 0 RTP/AVP 0']), /declined \(port 0\)/],
    ['SRTP profile', sdp([...head, 'm=audio 4000 RTP/SAVP 0']), /RTP\/SAVP is not RTP\/AVP/],
    ['no G.711', sdp([...head, 'm=audio 4000 RTP/AVP 18 9']), /no PCMU\/PCMA \(payload types 18 9\)/],
    ['wrong clock rate', sdp([...head, 'm=audio 4000 RTP/AVP 96', 'a=rtpmap:96 PCMU/16000']), /no PCMU\/PCMA/],
    ['no c= line', sdp(['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 't=0 0', 'm=audio 4000 RTP/AVP 0']), /no c= line/],
    ['oversized', `${'a'.repeat(17000)}`, /exceeds 16384/],
  ])('rejects %s with a reason', (_n, text, msg) => {
    const r = parseAudioSdp(text);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.message).toMatch(msg);
  });

  it('writes an SDP that reads back the same, and declines other streams with port 0 when answering', () => {
    const text = buildAudioSdp({ sessionId: 42, sessionVersion: 3, address: '203.0.113.5', port: 30000, codecs: [{ pt: 0, law: 'pcmu' }, { pt: 8, law: 'pcma' }], telephoneEventPt: 101, direction: 'recvonly', ptime: 20,
      answerTo: { media: [{ type: 'video', protocol: 'RTP/AVP', payloads: '96' }, { type: 'audio', protocol: 'RTP/AVP', payloads: '0 8' }], mediaIndex: 1 } });
    expect(text).toMatch(/^o=switchboard 42 3 IN IP4 203\.0\.113\.5\r$/m);
    expect(text).toMatch(/^m=video 0 RTP\/AVP 96\r\nm=audio 30000 RTP\/AVP 0 8 101\r$/m);
    expect(text).toMatch(/^a=fmtp:101 0-16\r$/m);
    expect(parseAudioSdp(text)).toMatchObject({ ok: true, audio: { address: '203.0.113.5', port: 30000, codecs: [{ pt: 0, law: 'pcmu' }, { pt: 8, law: 'pcma' }], telephoneEventPt: 101, direction: 'recvonly', ptime: 20, mediaIndex: 1 } });
  });
});
