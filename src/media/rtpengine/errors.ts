/**
 * Errors of the rtpengine driver. A refused command and a daemon that does not answer are expected outcomes of a
 * network call and reject the command's promise with one of these; `code` is stable (STYLE.md §7).
 */
import { SwitchboardError } from '../../common/index.js';

/**
 * rtpengine answered `result: error` (or `load limit`). `reason` is its `error-reason` verbatim, e.g.
 * "Unknown call-id" or "Incomplete SDP specification".
 */
export class NgCommandError extends SwitchboardError {
  constructor(readonly command: string, readonly result: string, readonly reason: string) {
    super('SB_ERR_RTPENGINE_COMMAND', `rtpengine refused '${command}': ${result === 'error' ? '' : `${result}: `}${reason}`);
  }
}

/** No answer after every retransmission (the daemon is down, overloaded or unreachable). */
export class NgTimeoutError extends SwitchboardError {
  constructor(readonly command: string, readonly target: string, readonly timeoutMs: number, readonly attempts: number) {
    super('SB_ERR_RTPENGINE_TIMEOUT', `rtpengine at ${target} did not answer '${command}' within ${timeoutMs} ms (${attempts} attempts)`);
  }
}

/** The answer could not be understood: not bencode, not a dictionary, no `result`, or a field of the wrong type. */
export class NgProtocolError extends SwitchboardError {
  constructor(message: string) {
    super('SB_ERR_RTPENGINE_PROTOCOL', message);
  }
}

/** The client was closed; pending and later commands fail with this. */
export class NgClosedError extends SwitchboardError {
  constructor(command: string) {
    super('SB_ERR_RTPENGINE_CLOSED', `rtpengine client is closed ('${command}' not sent)`);
  }
}
