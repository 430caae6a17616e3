/** The engine's public surface (STYLE.md §3: other modules import only this file). */
export { createEngine, type Engine, type EngineOptions } from './engine.js';
export type { EngineContext, RecordingsHost, VoicemailHost } from './engine-context.js';
export { UserPresence, type SharedPresence } from './engine-context.js';
export { OriginateError, type EngineFacade, type OriginateRequest, type OriginateResult, type SystemStatus,
  type EngineLive, type EngineEvents, type EngineEventMap, type LiveCall, type DeviceRegistration, type QueueState } from './facade.js';
export type { NodeHandler, HandlerOutcome } from './flows/node-handler.js';
export { dialUsers, type DialUsersOptions } from './flows/dial-users.js';
export { targetsOf } from './flows/ring-users.js';
export { Fork, type ForkOutcome, type ForkTarget } from './fork.js';
export type { Call, CallInput } from './call/call.js';
export type { GroupContext } from './records/call-recorder.js';
export type { SrfLike } from './srf-types.js';
export { createUniqueCallIdGenerator } from './unique-call-id.js';
export { QueueService, ringbackHold, mediaHoldMusic, BUILT_IN_HOLD_MUSIC, type HoldMusic, type HoldMusicPlayback, type QueueSnapshot, type AgentState, type AgentClaims, type SharedStrategyMemory, type StrategyMemoryView } from './queue/index.js';
export { StoreLocationBackend, type LocationBackend, type Binding } from './location/location-service.js';
