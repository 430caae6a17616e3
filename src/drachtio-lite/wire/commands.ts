/**
 * The text inside a frame: client commands (what drachtio-srf sends) and server messages (what it parses).
 *
 * A payload is `|`-separated leader tokens, token 0 being the sender's fresh message id, optionally followed by
 * CRLF and a raw SIP message. Token positions are fixed by drachtio-srf's `lib/drachtio-agent.js`:
 * - network SIP to the app: `id|sip|source|bytes|proto|addr|port|time|txnId|dialogId|[recvAddr|recvPort|]` + CRLF + SIP
 * - a reply: `id|response|clientMsgId|OK|…` or `…|NO|reason`; for `sip` commands the OK carries
 *   `source|bytes|proto|addr|port|time|txnId|…|Msg sent:|` + CRLF + the SIP message as sent.
 */
import { randomUUID } from 'node:crypto';
import type { TransportProtocol } from '../../sip/index.js';

const CRLF = '\r\n';

/** `authenticate|secret|tag1,tag2`. */
export interface AuthenticateCommand { kind: 'authenticate'; msgId: string; secret: string; tags: string[] }
/** `route|verb` / `remove_route|verb`. */
export interface RouteCommand { kind: 'route' | 'remove_route'; msgId: string; verb: string }
/** `ping`. */
export interface PingCommand { kind: 'ping'; msgId: string }
/**
 * `sip|txnId|dialogId[|routeUrl]` + SIP: a response to a network request (txnId), an in-dialog request
 * (dialogId), a CANCEL (txnId of the INVITE), or a new request (neither; routeUrl = outbound proxy).
 */
export interface SipCommand { kind: 'sip'; msgId: string; txnId: string; dialogId: string; routeUrl: string; sip: string }
/** `proxy|…`: not supported by drachtio-lite (DESIGN.md decision 1 keeps call logic off it). */
export interface ProxyCommand { kind: 'proxy'; msgId: string }
/** Anything else with a message id. */
export interface UnknownCommand { kind: 'unknown'; msgId: string; type: string }

/** Every client command. */
export type ClientCommand = AuthenticateCommand | RouteCommand | PingCommand | SipCommand | ProxyCommand | UnknownCommand;

/** Why a payload is not a command. */
export interface CommandError { code: 'SB_ERR_WIRE_COMMAND'; message: string }

/** Parses one client payload. Never throws. */
export function parseCommand(payload: string): { ok: true; command: ClientCommand } | { ok: false; error: CommandError } {
  const crlf = payload.indexOf(CRLF);
  const leader = crlf === -1 ? payload : payload.slice(0, crlf);
  const rest = crlf === -1 ? '' : payload.slice(crlf + 2);
  const tokens = leader.split('|');
  const msgId = tokens[0] ?? '';
  const type = tokens[1];
  if (!msgId || type === undefined) {
    return { ok: false, error: { code: 'SB_ERR_WIRE_COMMAND', message: `command needs a message id and a type, got ${tokens.length} token(s)` } };
  }
  switch (type) {
    case 'authenticate':
      return { ok: true, command: { kind: 'authenticate', msgId, secret: tokens[2] ?? '', tags: (tokens[3] ?? '').split(',').filter(Boolean) } };
    case 'route':
    case 'remove_route': {
      const verb = (tokens[2] ?? '').trim();
      if (!verb) return { ok: false, error: { code: 'SB_ERR_WIRE_COMMAND', message: `${type} needs a verb` } };
      return { ok: true, command: { kind: type, msgId, verb } };
    }
    case 'ping':
      return { ok: true, command: { kind: 'ping', msgId } };
    case 'sip':
      if (!rest) return { ok: false, error: { code: 'SB_ERR_WIRE_COMMAND', message: 'sip command carries no SIP message' } };
      return { ok: true, command: { kind: 'sip', msgId, txnId: tokens[2] ?? '', dialogId: tokens[3] ?? '', routeUrl: tokens[4] ?? '', sip: rest } };
    case 'proxy':
      return { ok: true, command: { kind: 'proxy', msgId } };
    default:
      return { ok: true, command: { kind: 'unknown', msgId, type } };
  }
}

/** Where a message came from or went to, as the leader's meta tokens describe it. */
export interface WireMeta {
  source: 'network' | 'application';
  /** Byte length of the SIP message. */
  bytes: number;
  protocol: TransportProtocol;
  address: string;
  port: number;
  /** Time stamp text (drachtio-srf stores it as `stackTime`, never parses it). */
  time: string;
}

let lastWireMs = NaN;
let lastWireTime = '';

/**
 * `HH:MM:SS.mmmmmm`, the shape drachtio-server uses for its meta time token. Every frame carries one, and under
 * load many frames share a millisecond, so the last one formatted is reused.
 */
export function formatWireTime(ms: number): string {
  if (ms === lastWireMs) return lastWireTime;
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  lastWireMs = ms;
  lastWireTime = `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.${p(d.getUTCMilliseconds() * 1000, 6)}`;
  return lastWireTime;
}

function metaTokens(m: WireMeta): string {
  return `${m.source}|${m.bytes}|${m.protocol}|${m.address}|${m.port}|${m.time}`;
}

/** A fresh server message id. */
export function newMessageId(): string {
  return randomUUID();
}

/** `id|response|clientMsgId|OK[|tokens…]`. */
export function okReply(clientMsgId: string, ...tokens: string[]): string {
  const head = `${newMessageId()}|response|${clientMsgId}|OK`;
  return tokens.length === 0 ? head : `${head}|${tokens.join('|')}`;
}

/** `id|response|clientMsgId|NO|reason`: drachtio-srf treats anything but OK as a failure with `reason`. */
export function failReply(clientMsgId: string, reason: string): string {
  return [newMessageId(), 'response', clientMsgId, 'NO', reason.replace(/[|\r\n]/g, ' ')].join('|');
}

/**
 * The leader of the OK to a `sip` command that sent a request: `…|OK|meta|txnId|Msg sent:|` + CRLF; the request as
 * sent follows it (ClientConnection.send's `sip`). drachtio-srf reads the transaction id at token 10 and builds its
 * Request from the echoed message.
 */
export function requestSentReply(clientMsgId: string, meta: WireMeta, txnId: string): string {
  return `${okReply(clientMsgId, metaTokens(meta), txnId, 'Msg sent:')}|${CRLF}`;
}

/**
 * The leader of the OK to a `sip` command that sent a response: `…|OK|meta|txnId|dialogId||Msg sent:|` + CRLF;
 * the response as sent follows it. drachtio-srf takes the dialog id of a 200 to INVITE from token 11.
 */
export function responseSentReply(clientMsgId: string, meta: WireMeta, txnId: string, dialogId: string): string {
  return `${okReply(clientMsgId, metaTokens(meta), txnId, dialogId, '', 'Msg sent:')}|${CRLF}`;
}

/**
 * The leader of a SIP message for the app: `id|sip|meta|txnId|dialogId|[recvAddr|recvPort|]` + CRLF; the SIP
 * message follows it. Network requests carry the local address they arrived on (drachtio-srf's `req.receivedOn`).
 */
export function sipMessageFrame(meta: WireMeta, txnId: string, dialogId: string, receivedOn?: { address: string; port: number }): string {
  const recv = receivedOn ? `${receivedOn.address}|${receivedOn.port}|` : '';
  return `${newMessageId()}|sip|${metaTokens(meta)}|${txnId}|${dialogId}|${recv}${CRLF}`;
}
