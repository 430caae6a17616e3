// What the console reads from the server (the admin API's and the console API's answers), as far as it uses them.

export interface SessionInfo { name: string; csrf_token: string; expires_at: string }

export interface Device { username: string; digest?: string; password_set?: boolean }
export interface User { number: string; name: string; devices: Device[]; [k: string]: unknown }

export interface LiveCall { unique_call_id: string; state: string; caller_id: string | null; caller_name: string | null; dest_number: string; started_at: string }
export interface DashboardSnapshot {
  devices: { username: string; user_name: string; user_number: string; registered: boolean; contacts: string[] }[];
  calls: LiveCall[];
  queues: { name: string; waiting: string[]; agents: { number: string; name: string | null; state: string }[] }[];
}

export interface Diff { live_version: number; changes: { path: string; op: string; live?: unknown; staged?: unknown }[] }

export interface WebhookSettings { url: string; enabled: boolean; events: string[]; secret_token_set?: boolean }
export interface CatalogueEntry { type: string; description: string; sample: Record<string, unknown>; fields: Record<string, string> }
export interface Delivery { delivery_id: string; type: string; unique_call_id: string; endpoint_url: string; status: string; attempts: number }

export interface ApiAccessInfo { whitelisted_ips: string[] }
export interface BuilderAnswer { method: string; url: string; status: number; body: unknown }

/** A row of get-user-calls (the call history). */
export interface HistoryRow {
  unique_call_id: string; type: string; status?: string; caller_id: string | null; caller_name: string | null; dest_number: string;
  user_name: string; user_number: string; call_start_at: string; conversation_duration: number;
}

export interface Recording { recording_id: string; unique_call_id: string; user_number: string | null; direction: string; duration_ms: number; created_at: string }
export interface VoicemailMessage {
  message_id: string; user_number: string; unique_call_id: string; caller_id: string | null; caller_name: string | null;
  recorded_at: string; duration_ms: number; heard: boolean;
}
