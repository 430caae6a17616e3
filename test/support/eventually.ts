/** Polls `fn` until it returns a truthy value or `timeoutMs` passes (real sockets, real events: e2e style). */
export async function eventually<T>(fn: () => T | Promise<T>, what: string, timeoutMs = 5000, pollMs = 10): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
