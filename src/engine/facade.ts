/**
 * What the API (and main.ts) may ask of the engine. The API never sees srf objects, SIP messages or media.
 */

import type { ConfigVersion, PbxConfig } from '../config/types.js';

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

/** Result of staging-and-applying: the new version, or every validation error. */
export type ApplyResult = { ok: true; version: number } | { ok: false; errors: string[] };

/** The configuration versions the engine runs on (SPEC "apply configuration"). */
export interface ConfigControl {
  live(): ConfigVersion;
  staged(): Promise<PbxConfig>;
  /** Replaces the staged configuration (not validated until apply). */
  stage(config: PbxConfig): Promise<void>;
  /** Validates the staged configuration and makes it live atomically as a new version. */
  apply(): Promise<ApplyResult>;
}

export interface EngineFacade {
  /** Resolves once the user's devices are ringing. */
  originate(req: OriginateRequest): Promise<OriginateResult>;
  status(): Promise<SystemStatus>;
  readonly config: ConfigControl;
}
