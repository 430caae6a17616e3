/**
 * The transaction layer (RFC 3261 §17): creates the four machines, keys them, matches incoming messages to
 * them (§17.1.3, §17.2.3 including the RFC 2543 fallback) and forgets each one when it terminates.
 */
import { ownString } from '../../common/index.js';
import type { SipRequest, SipResponse } from '../message.js';
import { MAGIC_COOKIE, readTopVia, type TopVia } from '../transport/via.js';
import { InviteClientTransaction } from './invite-client-transaction.js';
import { InviteServerTransaction } from './invite-server-transaction.js';
import { NonInviteClientTransaction } from './non-invite-client-transaction.js';
import { NonInviteServerTransaction } from './non-invite-server-transaction.js';
import type { TransactionContext } from './transaction.js';

/** Either client machine. */
export type ClientTransaction = InviteClientTransaction | NonInviteClientTransaction;
/** Either server machine. */
export type ServerTransaction = InviteServerTransaction | NonInviteServerTransaction;

/** CSeq method (the second token of the CSeq header), upper-case. */
export function cseqMethod(msg: SipRequest | SipResponse): string {
  const c = msg.get('cseq') ?? '';
  const sp = c.trim().lastIndexOf(' ');
  return (sp < 0 ? '' : c.trim().slice(sp + 1)).trim().toUpperCase();
}

/** CSeq sequence number, or NaN. */
export function cseqNumber(msg: SipRequest | SipResponse): number {
  const c = (msg.get('cseq') ?? '').trim();
  const sp = c.indexOf(' ');
  return Number(sp < 0 ? c : c.slice(0, sp));
}

function tagOf(value: string | undefined): string {
  if (!value) return '';
  const i = value.toLowerCase().lastIndexOf(';tag=');
  if (i < 0) return '';
  const rest = value.slice(i + 5);
  const end = rest.search(/[;>\s]/);
  return end < 0 ? rest : rest.slice(0, end);
}

/** §17.1.3: a response matches a client transaction by top Via branch and CSeq method. */
export function clientKey(branch: string, method: string): string {
  return `${branch}|${method}`;
}

/**
 * §17.2.3: server transaction key. With the magic cookie: branch + sent-by + method (ACK matches INVITE).
 * Without it (RFC 2543 peers): Request-URI, From tag, Call-ID, CSeq number and the top Via.
 */
export function serverKey(req: SipRequest, via: TopVia, viaText: string, asMethod = req.method): string {
  const method = asMethod === 'ACK' ? 'INVITE' : asMethod;
  if (via.branch?.startsWith(MAGIC_COOKIE)) {
    return `${via.branch}|${via.host}:${via.port ?? ''}|${method}`;
  }
  return `2543|${req.uri}|${tagOf(req.get('from'))}|${req.callId ?? ''}|${cseqNumber(req)}|${viaText}|${method}`;
}

/** Factory inputs for a transaction's context (one per transport/peer). */
export type ContextFactory = (txnKey: string) => TransactionContext;

/**
 * Holds live transactions in maps keyed per §17. Transactions remove themselves on `terminated` (`on`, not
 * `once`: a transaction emits it once and then drops its listeners, and `once` costs three more objects for
 * each of the ~130,000 finished transactions a busy UDP B2BUA holds).
 */
export class TransactionLayer {
  readonly #clients = new Map<string, ClientTransaction>();
  readonly #servers = new Map<string, ServerTransaction>();
  /** Every transaction ever created (for the stack's stats). */
  created = 0;

  /** Live client transactions. */
  get clientCount(): number {
    return this.#clients.size;
  }
  /** Live server transactions. */
  get serverCount(): number {
    return this.#servers.size;
  }

  /** Creates (but does not start) a client transaction for a request whose top Via carries `branch`. */
  createClient(req: SipRequest, branch: string, ctx: TransactionContext): ClientTransaction {
    const key = clientKey(branch, req.method);
    const txn = req.method === 'INVITE'
      ? new InviteClientTransaction(req, key, ctx)
      : new NonInviteClientTransaction(req, key, ctx);
    this.#clients.set(key, txn);
    this.created++;
    txn.on('terminated', () => {
      if (this.#clients.get(key) === txn) this.#clients.delete(key);
    });
    return txn;
  }

  /**
   * Creates a server transaction for a new request under its key. The key is kept as its own copy: built from the
   * branch and sent-by, it is a chain of slices of the request's header text, and would pin that whole text for as
   * long as the transaction waits out its timers (Timer J: 32 s on UDP).
   */
  createServer(req: SipRequest, requestKey: string, ctx: TransactionContext): ServerTransaction {
    const key = ownString(requestKey);
    const txn = req.method === 'INVITE'
      ? new InviteServerTransaction(req, key, ctx)
      : new NonInviteServerTransaction(req, key, ctx);
    this.#servers.set(key, txn);
    this.created++;
    txn.on('terminated', () => {
      if (this.#servers.get(key) === txn) this.#servers.delete(key);
    });
    return txn;
  }

  /** Whether a live client transaction uses this branch (any method). */
  hasClientBranch(branch: string, method: string): boolean {
    return this.#clients.has(clientKey(branch, method));
  }

  /** §17.1.3: the client transaction a response belongs to, if any. */
  matchResponse(res: SipResponse): ClientTransaction | undefined {
    const via = readTopVia(res);
    if (!via?.branch) return undefined;
    return this.#clients.get(clientKey(via.branch, cseqMethod(res)));
  }

  /** §17.2.3: the server transaction a request (or its ACK) belongs to, under a precomputed key. */
  getServer(key: string): ServerTransaction | undefined {
    return this.#servers.get(key);
  }

  /**
   * §9.2: the INVITE server transaction a CANCEL targets: "the same matching rules as for other requests,
   * except that the method of the request is ignored" (so the INVITE's key with the CANCEL's Via).
   */
  matchCancelTarget(cancel: SipRequest, via: TopVia, viaText: string): InviteServerTransaction | undefined {
    const txn = this.#servers.get(serverKey(cancel, via, viaText, 'INVITE'));
    return txn instanceof InviteServerTransaction ? txn : undefined;
  }

  /** Every live transaction (for shutdown). */
  all(): Array<ClientTransaction | ServerTransaction> {
    return [...this.#clients.values(), ...this.#servers.values()];
  }
}
