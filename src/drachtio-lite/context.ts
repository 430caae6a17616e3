/**
 * What the network side and the app side of drachtio-lite share: the stack, the dialog table, the open
 * transactions on both sides (keyed by the server-generated transaction ids apps see), and small helpers.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../common/index.js';
import {
  serializeMessage, type ClientTransaction, type Dialog, type SuccessRetransmitter, type Endpoint, type ServerTransaction, type SipMessage, type SipRequest, type SipStack,
} from '../sip/index.js';
import type { ClientConnection } from './client-connection.js';
import type { DialogOwner, DialogTable, LiteDialog } from './dialogs.js';
import { formatWireTime, type WireMeta } from './wire/commands.js';
import { formatHost } from '../common/index.js';
import type { RequestChecks } from './request-checks.js';

/** The UAS side's reliable-provisional state of one INVITE. */
export interface ReliableUas {
  /** RSeq of the last reliable provisional sent. */
  rseq: number;
  /** The one reliable provisional awaiting its PRACK (§3: a second MUST wait for it). */
  pending: { rseq: number; retransmitter: SuccessRetransmitter } | null;
}

/** The UAC side's early dialog (from the first reliable 1xx) and the last RSeq taken from it. */
export interface ReliableUac {
  dialog: Dialog;
  lastRSeq: number;
}

/** A network request handed to an app and awaiting its response. */
export interface NetTxn {
  readonly id: string;
  readonly owner: DialogOwner;
  readonly request: SipRequest;
  readonly txn: ServerTransaction;
  readonly source: Endpoint;
  readonly local: Endpoint;
  /** To tag for responses to a request outside a dialog. */
  readonly toTag: string;
  /** The dialog an in-dialog request belongs to. */
  readonly dialog?: LiteDialog;
  finalSent: boolean;
  /** RFC 3262: reliable provisional responses sent to this INVITE. */
  rel?: ReliableUas;
  /** The transaction listener that forgets this entry (removed again by `settle`, so a finished transaction holds none). */
  forget?: () => void;
}

/** A request an app sent, awaiting responses from the network. */
export interface AppTxn {
  readonly id: string;
  readonly owner: DialogOwner;
  /** The request as sent; once final only a skeleton of it (app-side.ts `settle`). */
  request: SipRequest;
  readonly txn: ClientTransaction;
  readonly destination: Endpoint;
  /** INVITE outside a dialog: the dialog id a 2xx will create; in-dialog: the dialog's id. */
  readonly dialogId: string;
  readonly dialog?: LiteDialog;
  final: boolean;
  canceled: boolean;
  /** A provisional response arrived (a CANCEL may go out, §9.1). */
  provisional: boolean;
  /** A CANCEL the app asked for before any provisional response, sent when one arrives. */
  deferredCancel?: SipRequest;
  /** RFC 3262: the early dialog of a reliable 1xx to this INVITE (the app's PRACK goes in it). */
  rel?: ReliableUac;
}

/** Timer base values in ms (RFC 3261 T1, T2). */
export interface LiteTimers {
  t1: number;
  t2: number;
}

/** Everything both sides need. */
export interface LiteContext {
  readonly stack: SipStack;
  readonly clock: Clock;
  readonly log: Logger;
  readonly timers: LiteTimers;
  readonly dialogs: DialogTable;
  readonly netTxns: Map<string, NetTxn>;
  /** The same entries, by server transaction (CANCEL matching). */
  readonly netByServerTxn: WeakMap<ServerTransaction, NetTxn>;
  readonly appTxns: Map<string, AppTxn>;
  /** RFC 3261 §8.2 checks on new network requests, and the Allow/Supported lists. */
  readonly checks: RequestChecks;
  /** Round-robin choice among authenticated apps routing `verb` (lower-case). */
  pickClient(verb: string): ClientConnection | undefined;
  /** Ends a dialog on the server's own account (BYE with `reason`) and tells its app by an unsolicited BYE. */
  endStale(d: LiteDialog, reason: string): void;
}

/** A fresh transaction id (drachtio uses UUIDs). */
export function newTransactionId(): string {
  return randomUUID();
}

/** Meta tokens for a message and the peer it came from or went to. */
export function metaFor(ctx: LiteContext, source: WireMeta['source'], wire: Buffer, peer: Endpoint): WireMeta {
  return { source, bytes: wire.length, protocol: peer.transport, address: peer.address, port: peer.port, time: formatWireTime(ctx.clock.now()) };
}

/**
 * The bytes of a message for an app frame. With `wire` (the bytes a transaction already sent) nothing is serialized
 * again: the app sees exactly what went on the network.
 */
export function wireBytes(msg: SipMessage, wire?: Buffer): Buffer {
  return wire ?? serializeMessage(msg);
}

/** Our Contact URI for an endpoint: `<sip:addr:port>`, with `;transport=` for anything but UDP (RFC 3261 §19.1.1's default). */
export function contactFor(local: Endpoint): string {
  return `<sip:${hostportOf(local)}${local.transport !== 'udp' ? `;transport=${local.transport}` : ''}>`;
}

/** `host:port` of a local endpoint (IPv6 in brackets), for URIs. */
export function hostportOf(local: Endpoint): string {
  return `${formatHost(local.address)}:${local.port}`;
}
