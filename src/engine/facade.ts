/**
 * What the API (and main.ts) may ask of the engine. The API never sees srf objects, SIP messages or media.
 */

import type { ConfigControl } from '../config/index.js';

export interface OriginateRequest {
  /** Extension of the user whose devices ring first. */
  user_number: string;
  /** E.164 with '+'. */
  number_to_call: string;
  /** E.164 presented to the destination; defaults to the user's caller_id. */
  caller_id?: string;
}

export interface OriginateResult {
  unique_call_id: string;
  user_name: string;
  user_number: string;
  caller_id: string | null;
  dest_number: string;
}

/** Why an originate was refused: the API maps these to 404 / 409 / 503. */
export type OriginateErrorCode = 'user_not_found' | 'no_registered_device' | 'no_trunk' | 'engine_unavailable';

export class OriginateError extends Error {
  readonly code: OriginateErrorCode;
  constructor(code: OriginateErrorCode, message: string) {
    super(message);
    this.name = 'OriginateError';
    this.code = code;
  }
}

export interface SystemStatus {
  version: string;
  uptime_s: number;
  registered_devices: number;
  active_calls: number;
  config_version: number;
}

export interface EngineFacade {
  /** Resolves once the user's devices are ringing. */
  originate(req: OriginateRequest): Promise<OriginateResult>;
  status(): Promise<SystemStatus>;
  readonly config: ConfigControl;
}

/** A call in progress as the console's dashboard shows it. */
export interface LiveCall {
  unique_call_id: string;
  state: 'routing' | 'ringing' | 'connected' | 'ending' | 'ended';
  direction: 'inbound' | 'outbound' | 'internal';
  caller_id: string | null;
  caller_name: string | null;
  dest_number: string | null;
  /** ISO 8601 UTC. */
  started_at: string;
}

/** One live binding of a device. */
export interface DeviceRegistration {
  username: string;
  contact: string;
  /** ISO 8601 UTC. */
  expires_at: string;
}

/** Queue state: callers waiting per queue (unique_call_ids, in order) and every agent's state. */
export interface QueueState {
  waiting: Record<string, string[]>;
  agents: Record<string, string>;
}

/**
 * The engine's typed live event stream: what changed, never polled. Subscribers re-read the live views
 * ({@link EngineLive}) or the store (`call.committed`: history rows and outbox events of that call are stored).
 */
export interface EngineEventMap {
  'call.changed': { unique_call_id: string; state: LiveCall['state'] };
  'call.committed': { unique_call_id: string };
  /** A call ended and its final record was written (`status` as the history shows it: answered, missed, …). */
  'call.ended': { unique_call_id: string; direction: LiveCall['direction']; status: string };
  'registration.changed': { username: string };
  'queue.changed': { queue: string | null };
  [name: string]: unknown;
}

/** Subscribe-only view of the engine's event stream. */
export interface EngineEvents {
  /** Subscribes; returns the function that unsubscribes. A listener that throws never breaks the engine. */
  on<K extends keyof EngineEventMap & string>(name: K, listener: (payload: EngineEventMap[K]) => void): () => void;
}

/** The live state the web console shows, and the one control it has over calls. */
export interface EngineLive {
  readonly events: EngineEvents;
  liveCalls(): LiveCall[];
  /** Hangs up a call in progress; false when there is no such call. */
  hangup(uniqueCallId: string): boolean;
  registrations(): DeviceRegistration[];
  queueState(): QueueState;
}
