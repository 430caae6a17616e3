/**
 * The srf `invite` route: authenticates where needed (407 for everything but a DID, so an unauthenticated
 * INVITE never reaches the trunk), routes, creates the Call with the live configuration version, and starts
 * the matching behaviour: a DID's flow, an internal call to an extension, or an outbound call via the trunk.
 */
import type { Logger } from '../../common/index.js';
import type { ConfigVersion, FlowConfig, TrunkConfig, UserConfig } from '../../config/index.js';
import type { Call } from '../call/call.js';
import type { CallTable } from '../call/call-factory.js';
import type { FlowRunner } from '../flows/flow-runner.js';
import { UasCallerSide } from '../call/caller-side.js';
import type { ConfigControl } from '../../config/index.js';
import { dialTrunk } from '../outbound/trunk-dial.js';
import type { DeviceAuthenticator } from '../registrar/device-auth.js';
import { displayNameOf, sipUriUser, Status } from '../../sip/syntax.js';
import type { SrfLike, SrfRequest, SrfResponse } from '../srf-types.js';
import { requiresAuth, route } from './router.js';
import { intervalTooSmall } from '../call/session-timer.js';
import { acceptReplacingInvite, findBridgedParty, parseReplaces } from '../call/transfer.js';
import { trunkFor } from '../outbound/trunk-select.js';


/** Options of {@link InviteRouter}. */
export interface InviteRouterOptions {
  srf: SrfLike;
  config: ConfigControl;
  auth: DeviceAuthenticator;
  calls: CallTable;
  /** Walks the flow of a DID or an extension on the new call. */
  flows: FlowRunner;
  log: Logger;
  /** False while stopping or draining: new INVITEs get 503. */
  accepting: () => boolean;
  /** While draining: the Retry-After (seconds) sent with that 503, so the caller tries again elsewhere or later. */
  retryAfterS?: () => number | undefined;
}

/** The display name and user of a From header. */
function parseFrom(req: SrfRequest): { number: string | null; name: string | null } {
  const from = req.get('From') ?? '';
  return { number: sipUriUser(from) ?? null, name: displayNameOf(from) };
}

/** Handles new INVITEs. */
export class InviteRouter {
  readonly #o: InviteRouterOptions;

  constructor(opts: InviteRouterOptions) {
    this.#o = opts;
  }

  /** The srf route handler; never throws. */
  handle(req: SrfRequest, res: SrfResponse): void {
    try {
      this.#dispatch(req, res);
    } catch (err) {
      this.#o.log.error({ err }, 'INVITE dispatch failed');
      try {
        res.send(Status.ServerInternalError);
      } catch { /* gone */ }
    }
  }

  #dispatch(req: SrfRequest, res: SrfResponse): void {
    if (!this.#o.accepting()) {
      const retry = this.#o.retryAfterS?.();
      return res.send(Status.ServiceUnavailable, retry === undefined ? {} : { headers: { 'Retry-After': String(retry) } });
    }
    const version = this.#o.config.live();
    const small = intervalTooSmall(req, version.config.pbx.session_timers);
    if (small) return res.send(Status.SessionIntervalTooSmall, { headers: small });
    // RFC 3891: a new dialog that takes over one of ours (attended transfer done by the transferee's phone).
    const replaces = req.get('Replaces');
    if (replaces !== undefined) return this.#replacing(req, res, replaces);
    const dialled = (sipUriUser(req.uri) ?? '');
    const r = route(version.config, dialled);
    let device: { user: UserConfig; username: string } | null = null;
    if (requiresAuth(r)) {
      const a = this.#o.auth.check(req, 'proxy');
      if (!a.ok) return a.phrase ? res.send(a.status, a.phrase, { headers: a.headers }) : res.send(a.status, { headers: a.headers });
      device = { user: a.user, username: a.device.username };
    }
    switch (r.kind) {
      case 'not-found':
        this.#o.log.info({ dialled, why: r.why }, 'INVITE to nothing');
        return res.send(Status.NotFound);
      case 'did': {
        const from = parseFrom(req);
        const call = this.#start(version, req, res, { direction: 'inbound', callerId: from.number, callerName: from.name, destNumber: r.number.number });
        return void this.#runFlow(call, r.flow);
      }
      case 'extension': {
        const caller = device!.user;
        const call = this.#start(version, req, res, { direction: 'internal', callerId: caller.number, callerName: caller.name, destNumber: r.user.number });
        call.recorder.outboundStarted(caller);
        call.holdPresence(caller);
        const flow: FlowConfig = { id: `internal:${r.user.number}`, nodes: [{ id: 'user', type: 'user', user: r.user.number, next: null }] };
        return void this.#runFlow(call, flow);
      }
      case 'outbound':
        return this.#outbound(version, req, res, device!.user, r.number);
    }
  }

  /**
   * An INVITE with Replaces: only from an authenticated device (407 first), naming a dialog we bridge — else 481
   * (RFC 3891 §3), 486 for `early-only` (we only bridge confirmed dialogs), 400 when malformed.
   */
  #replacing(req: SrfRequest, res: SrfResponse, value: string): void {
    const a = this.#o.auth.check(req, 'proxy');
    if (!a.ok) return a.phrase ? res.send(a.status, a.phrase, { headers: a.headers }) : res.send(a.status, { headers: a.headers });
    const ref = parseReplaces(value);
    if (!ref) return res.send(Status.BadRequest, 'Bad Replaces header');
    const found = findBridgedParty(this.#o.calls.all(), ref);
    if (!found) {
      this.#o.log.info({ call_id: ref.callId, device: a.device.username }, 'INVITE with Replaces names no bridged dialog');
      return res.send(Status.CallTransactionDoesNotExist);
    }
    if (ref.earlyOnly) return res.send(Status.BusyHere);
    void acceptReplacingInvite(found, req, res, { user: a.user, username: a.device.username }).catch((err: unknown) => {
      found.call.log.error({ err }, 'INVITE with Replaces failed');
      try {
        res.send(Status.ServerInternalError);
      } catch { /* answered already */ }
    });
  }

  #start(version: ConfigVersion, req: SrfRequest, res: SrfResponse, parties: Parameters<CallTable['create']>[1]): Call {
    const call = this.#o.calls.create(version, parties);
    const leg = call.newLeg({ kind: 'caller', remote: `${req.source_address}:${req.source_port}` });
    const caller = new UasCallerSide({
      srf: this.#o.srf, req, res, leg, log: call.log, sessionTimers: version.config.pbx.session_timers,
      clock: call.ctx.clock, provisionalIntervalMs: version.config.sip.provisional_interval_s * 1000,
    });
    call.attachCaller(caller);
    req.on('cancel', () => {
      caller.cancelled();
      call.handle({ kind: 'caller-cancel' });
    });
    if (call.logs('info')) call.log.info({ direction: parties.direction, from: parties.callerId, to: parties.destNumber, config_version: version.version }, 'call started');
    return call;
  }

  async #runFlow(call: Call, flow: FlowConfig): Promise<void> {
    try {
      await this.#o.flows.run(call, flow);
    } catch (err) {
      call.log.error({ err }, 'flow failed');
      await call.end('failed', { status: Status.ServerInternalError });
    }
  }

  #outbound(version: ConfigVersion, req: SrfRequest, res: SrfResponse, user: UserConfig, number: string): void {
    const trunk = trunkFor(version.config, number);
    if (!trunk) {
      this.#o.log.warn({ number }, 'outbound call but no trunk is configured');
      return res.send(Status.ServiceUnavailable);
    }
    const callerId = user.caller_id ?? trunk.caller_id ?? user.number;
    const call = this.#start(version, req, res, { direction: 'outbound', callerId, callerName: user.name, destNumber: number });
    call.recorder.outboundStarted(user);
    call.holdPresence(user);
    void this.#runOutbound(call, trunk, user, number, callerId);
  }

  async #runOutbound(call: Call, trunk: TrunkConfig, user: UserConfig, number: string, callerId: string): Promise<void> {
    try {
      const localSdp = await call.calleeOffer([]);
      const o = await dialTrunk(call, { trunk, number, callerId, callerName: user.name, localSdp, onRinging: () => call.ringing(), onEarlyMedia: (sdp) => call.earlyMedia(sdp) }, call.signal);
      if (o.kind === 'answered') {
        call.recorder.outboundAnswered(user);
        await call.connect(o.dialog, o.leg, null);
        return;
      }
      if (!call.isEnding) await call.end('trunk-failed', { status: o.kind === 'failed' ? o.status : Status.RequestTerminated });
    } catch (err) {
      call.log.error({ err }, 'outbound call failed');
      await call.end('failed', { status: Status.ServerInternalError });
    }
  }
}
