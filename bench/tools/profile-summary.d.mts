/** Types of profile-summary.mjs for the TypeScript benches. */
export interface ProfileSummary {
  /** Microseconds sampled, and those not idle. */
  total: number;
  busy: number;
  /** [category, µs of self time], largest first. */
  modules: Array<[string, number]>;
  functions: Array<[string, number]>;
}
export function summarizeProfile(profile: unknown): ProfileSummary;
/** Sampled bytes allocated: total, [category, bytes] and [function, bytes], largest first. */
export interface AllocationSummary {
  total: number;
  modules: Array<[string, number]>;
  functions: Array<[string, number]>;
}
export function summarizeAllocations(profile: unknown): AllocationSummary;
