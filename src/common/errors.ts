/**
 * Base error classes. Each module's `errors.ts` extends {@link SwitchboardError} with a stable `code`
 * (STYLE.md §7). Exceptions mean bugs; expected failures are `{ ok: false, error }` values.
 */

/** Base class of every error Switchboard throws; `code` is stable and safe to match on. */
export class SwitchboardError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A method was called on an object in a state that does not allow it (a bug in the caller). */
export class InvalidStateError extends SwitchboardError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SB_ERR_INVALID_STATE', message, options);
  }
}
