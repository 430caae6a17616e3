import { describe, expect, it } from 'vitest';
import {
  failReply, formatWireTime, okReply, parseCommand, requestSentReply, responseSentReply, sipMessageFrame, type WireMeta,
} from '../../../../src/drachtio-lite/wire/commands.js';

const meta: WireMeta = { source: 'network', bytes: 10, protocol: 'udp', address: '127.0.0.1', port: 5062, time: '10:00:00.000000' };

describe('client commands', () => {
  it('parses authenticate with tags', () => {
    expect(parseCommand('m1|authenticate|cymru|a,b')).toEqual({ ok: true, command: { kind: 'authenticate', msgId: 'm1', secret: 'cymru', tags: ['a', 'b'] } });
    expect(parseCommand('m1|authenticate|cymru|')).toMatchObject({ ok: true, command: { tags: [] } });
  });

  it('parses route, remove_route and ping', () => {
    expect(parseCommand('m|route|invite')).toEqual({ ok: true, command: { kind: 'route', msgId: 'm', verb: 'invite' } });
    expect(parseCommand('m|remove_route|options')).toMatchObject({ ok: true, command: { kind: 'remove_route', verb: 'options' } });
    expect(parseCommand('m|ping')).toEqual({ ok: true, command: { kind: 'ping', msgId: 'm' } });
    expect(parseCommand('m|route|').ok).toBe(false);
  });

  it('parses sip commands with txn id, dialog id, route url and the raw message', () => {
    const r = parseCommand('m|sip|t1|d1|sip:proxy.example;lr\r\nINVITE sip:a@b SIP/2.0\r\n\r\n');
    expect(r).toEqual({ ok: true, command: { kind: 'sip', msgId: 'm', txnId: 't1', dialogId: 'd1', routeUrl: 'sip:proxy.example;lr', sip: 'INVITE sip:a@b SIP/2.0\r\n\r\n' } });
    expect(parseCommand('m|sip||\r\nBYE sip:x SIP/2.0\r\n\r\n')).toMatchObject({ ok: true, command: { txnId: '', dialogId: '', routeUrl: '' } });
    expect(parseCommand('m|sip||').ok).toBe(false);
  });

  it('rejects a payload without a type and keeps unknown types as values', () => {
    expect(parseCommand('lonely').ok).toBe(false);
    expect(parseCommand('m|frobnicate')).toEqual({ ok: true, command: { kind: 'unknown', msgId: 'm', type: 'frobnicate' } });
  });
});

describe('server messages at the token positions drachtio-srf reads', () => {
  it('meta time: HH:MM:SS.microseconds (UTC), the same text for the same millisecond', () => {
    const t = Date.UTC(2026, 11, 3, 9, 5, 7, 42);
    expect(formatWireTime(t)).toBe('09:05:07.042000');
    expect(formatWireTime(t)).toBe('09:05:07.042000');
    expect(formatWireTime(t + 1)).toBe('09:05:07.043000');
    expect(formatWireTime(t)).toBe('09:05:07.042000');
  });

  it('OK / NO replies', () => {
    expect(okReply('c1').split('|').slice(1)).toEqual(['response', 'c1', 'OK']);
    const ok = okReply('c1', 'udp/127.0.0.1:5060', 'v0.9.0').split('|');
    expect(ok.slice(1)).toEqual(['response', 'c1', 'OK', 'udp/127.0.0.1:5060', 'v0.9.0']);
    expect(failReply('c1', 'no|pipes\r\nhere').split('|').slice(1)).toEqual(['response', 'c1', 'NO', 'no pipes  here']);
  });

  it('request echo: transaction id at token 10, and the leader ends in CRLF (the SIP bytes follow it)', () => {
    const s = requestSentReply('c1', { ...meta, source: 'application' }, 'txn-1');
    expect(s.endsWith('|\r\n')).toBe(true);
    expect(s.indexOf('\r')).toBe(s.length - 2);
    const t = s.slice(0, s.indexOf('\r')).split('|');
    expect(t[1]).toBe('response');
    expect(t[3]).toBe('OK');
    expect(t[4]).toBe('application');
    expect(t[10]).toBe('txn-1');
  });

  it('response echo: dialog id at token 11 and not "continue" at token 12', () => {
    const s = responseSentReply('c1', { ...meta, source: 'application' }, 'txn-1', 'cid;from-tag=x');
    expect(s.endsWith('|\r\n')).toBe(true);
    const t = s.slice(0, s.indexOf('\r')).split('|');
    expect(t[10]).toBe('txn-1');
    expect(t[11]).toBe('cid;from-tag=x');
    expect(t[12]).not.toBe('continue');
  });

  it('network sip frame: source, protocol, address, port, txn, dialog, receivedOn', () => {
    const s = sipMessageFrame(meta, 'txn-2', 'cid;from-tag=y', { address: '127.0.0.1', port: 5060 });
    expect(s.endsWith('|\r\n')).toBe(true);
    const t = s.slice(0, s.indexOf('\r')).split('|');
    expect([t[1], t[2], t[4], t[5], t[6], t[8], t[9], t[10], t[11]]).toEqual(['sip', 'network', 'udp', '127.0.0.1', '5062', 'txn-2', 'cid;from-tag=y', '127.0.0.1', '5060']);
  });
});
