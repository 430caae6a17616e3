// --- message layer (parser, serializer, URIs, headers, framing, digest, status) ---
export * from './message.js';
export * from './errors.js';
export * from './uri.js';
export * from './headers.js';
export * from './session-expires.js';
export * from './parser.js';
export * from './serializer.js';
export * from './stream-framer.js';
export * from './status.js';
export * from './digest.js';
// --- transports, transactions, dialogs, stack ---
export { SipStack, type SipStackOptions, type SipStackStats, type RequestContext, type ClientTransaction, type ServerTransaction } from './stack.js';
export type { ListenSpec } from './transport/layer.js';
export { isDialable, isReliable, transportProtocolOf, TRANSPORT_PROTOCOLS, type Transport, type TransportProtocol } from './transport/transport.js';
export { SIP_SUBPROTOCOL, type WsStats } from './transport/ws.js';
export { DEFAULT_TCP_LIMITS, MAX_ALIASES_PER_CONNECTION, type TcpLimits, type TcpStats, type TcpDropReason } from './transport/tcp.js';
export { computeTimers, DEFAULT_TIMERS, type TimerConfig, type TimerValues } from './transaction/timers.js';
export { InviteClientTransaction, type IctState } from './transaction/invite-client-transaction.js';
export { InviteServerTransaction, type IstState } from './transaction/invite-server-transaction.js';
export { NonInviteClientTransaction, type NictState } from './transaction/non-invite-client-transaction.js';
export { NonInviteServerTransaction, type NistState } from './transaction/non-invite-server-transaction.js';
export { Dialog, SuccessRetransmitter, dialogIdFor, type DialogRole, type DialogState, type InDialogRequestOptions } from './dialog.js';
