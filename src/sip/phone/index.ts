/** The test phone: a user agent on `SipStack` for tests and benchmarks. */
export { TestPhone, type TestPhoneOptions, type IncomingPolicy, type PhoneEvent, type RegisterResult } from './test-phone.js';
export { OutgoingCall, type CallOptions } from './outgoing-call.js';
export { IncomingCall, type AnswerOptions } from './incoming-call.js';
export { PhoneCall, type CallState, type EndInfo } from './phone-call.js';
export { createOffer, createAnswer, audioPayloads, type MediaAddress } from './sdp.js';
