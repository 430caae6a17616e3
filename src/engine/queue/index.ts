/** Call distribution (issue #4): live queue state, agent states, strategies and the hold-music hook. */
export { QueueService, type QueueServiceOptions, type QueueCallerHooks, type QueueEntry, type JoinResult, type QueueSnapshot, type EntryState } from './queue-service.js';
export { AgentBoard, AGENT_EDGES, type AgentState, type AgentView } from './agent-state.js';
export { pickAgents, type StrategyInput, type StrategyPick } from './strategies.js';
export { SHARED_STRATEGIES, type SharedStrategyMemory, type StrategyMemoryView } from './strategy-memory.js';
export { ringbackHold, mediaHoldMusic, BUILT_IN_HOLD_MUSIC, type HoldMusic, type HoldMusicPlayback } from './hold-music.js';
export { GroupCallLog } from './group-record.js';
export type { AgentClaims } from './agent-claims.js';
