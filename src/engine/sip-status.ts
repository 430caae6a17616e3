/** SIP status codes the engine sends or matches on (STYLE.md §4: logic never holds a bare literal). */
export const Status = Object.freeze({
  Trying: 100,
  Ringing: 180,
  SessionProgress: 183,
  Ok: 200,
  Accepted: 202,
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  ProxyAuthenticationRequired: 407,
  RequestTimeout: 408,
  SessionIntervalTooSmall: 422,
  IntervalTooBrief: 423,
  TemporarilyUnavailable: 480,
  CallDoesNotExist: 481,
  BusyHere: 486,
  RequestTerminated: 487,
  RequestPending: 491,
  NotAcceptableHere: 488,
  ServerInternalError: 500,
  NotImplemented: 501,
  ServiceUnavailable: 503,
  BusyEverywhere: 600,
  Decline: 603,
} as const);

export type StatusCode = (typeof Status)[keyof typeof Status];
