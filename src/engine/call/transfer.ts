/**
 * Blind transfer (RFC 3515 REFER, RFC 5589 §6) of a bridged call. Either party (the transferor) sends REFER whose
 * Refer-To names an extension or an external number. We accept it with 202, ring the target with the other party's
 * (the transferee's) SDP, and tell the transferor how it goes in NOTIFYs carrying message/sipfrag (RFC 3515 §2.4.5):
 * `100 Trying` at once, then the target's final status with `Subscription-State: terminated`. On answer the
 * transferee is re-INVITEd with the target's SDP and bridged to it; the transferor leaves (its own BYE, or ours after
 * {@link TRANSFEROR_GRACE_MS}). A target that does not answer leaves the bridge as it was, so the transferor can
 * take the call back. Everything stays one call (one unique_call_id); docs/engine.md, "Transfers", has the events.
 * REFER with Replaces (attended transfer) is refused with 501: not implemented yet.
 */
import type { UserConfig } from '../../config/index.js';
import { Fork } from '../fork.js';
import { dialTrunk } from '../outbound/trunk-dial.js';
import { callerFromHeader, targetsOf } from '../flows/dial-users.js';
import { Status } from '../sip-status.js';
import type { SrfDialog, SrfRequest, SrfResponse } from '../srf-types.js';
import type { Call } from './call.js';
import type { Leg } from './leg.js';
import { uacOptionHeaders } from './session-timer.js';

/** How long a transferor may stay after a successful transfer before we BYE it (RFC 5589 §6.1: it should BYE). */
export const TRANSFEROR_GRACE_MS = 5000;

/** How long an external transfer target may ring. */
const EXTERNAL_RING_MS = 60_000;

/** Calls with a transfer under way (one at a time per call: a second REFER gets 491). */
const busy = new WeakSet<Call>();

/** The dialled number of a Refer-To value (`<sip:1003@pbx>`, `sip:+614…@pbx;user=phone`, `tel:+614…`), and whether it asks for Replaces. */
export function parseReferTo(value: string | undefined): { number: string; replaces: boolean } | undefined {
  if (!value) return undefined;
  const m = /<([^>]*)>/.exec(value);
  const uri = (m ? m[1]! : value.split(';')[0]!).trim();
  const scheme = /^(sips?|tel):/i.exec(uri);
  if (!scheme) return undefined;
  const rest = uri.slice(scheme[0].length);
  const replaces = /[?&]replaces=/i.test(rest);
  const user = scheme[1]!.toLowerCase() === 'tel' ? rest.split(/[;?]/)[0]! : rest.includes('@') ? rest.slice(0, rest.indexOf('@')) : '';
  let number: string;
  try {
    number = decodeURIComponent(user.split(';')[0]!);
  } catch {
    return undefined;
  }
  return /^\+?[0-9*#]{1,32}$/.test(number) ? { number, replaces } : undefined;
}

/** Listens for REFER on `dialog`, one of the call's two bridged dialogs. */
export function acceptTransfers(call: Call, dialog: SrfDialog): void {
  dialog.on('refer', (req: SrfRequest, res: SrfResponse) => {
    onRefer(call, dialog, req, res).catch((err: unknown) => call.log.error({ err }, 'transfer failed'));
  });
}

function send(res: SrfResponse, status: number, reason?: string): void {
  try {
    if (reason) res.send(status, reason);
    else res.send(status);
  } catch { /* transaction gone */ }
}

/**
 * RFC 3515 §2.4.5: NOTIFYs whose body is the status line of the referred request's latest response, sent one at a
 * time (each after the previous one's response: a transferor sees them in order, and never two outstanding).
 */
function notifier(call: Call, to: SrfDialog): (status: number, reason: string, final: boolean) => void {
  let chain: Promise<unknown> = Promise.resolve();
  return (status, reason, final) => {
    chain = chain.then(() => to.request({
      method: 'NOTIFY',
      headers: {
        Event: 'refer',
        'Subscription-State': final ? 'terminated;reason=noresource' : 'active;expires=60',
        'Content-Type': 'message/sipfrag;version=2.0',
      },
      body: `SIP/2.0 ${status} ${reason}\r\n`,
    })).catch((err: unknown) => call.log.info({ err: String(err) }, 'transfer NOTIFY failed'));
  };
}

async function onRefer(call: Call, transferor: SrfDialog, req: SrfRequest, res: SrfResponse): Promise<void> {
  const party = call.caller.dialog === transferor ? 'caller' : call.calleeDialog === transferor ? 'callee' : null;
  const transferee = party === 'caller' ? call.calleeDialog : party === 'callee' ? call.caller.dialog : null;
  if (!party || !transferee || call.state !== 'connected') return send(res, Status.Forbidden, 'Call not bridged');
  const target = parseReferTo(req.get('Refer-To') ?? req.get('r'));
  if (!target) return send(res, Status.BadRequest, 'Bad Refer-To (an extension or a number)');
  if (target.replaces) return send(res, Status.NotImplemented, 'Attended transfer (Replaces) not supported');
  if (busy.has(call)) return send(res, Status.RequestPending, 'Transfer already in progress');
  busy.add(call);
  send(res, Status.Accepted);
  const notify = notifier(call, transferor);
  notify(Status.Trying, 'Trying', false);
  call.log.info({ transferor: party, target: target.number }, 'blind transfer');
  try {
    const outcome = await dialTarget(call, target.number, transferee.remote.sdp, () => notify(Status.Ringing, 'Ringing', false));
    if (outcome.kind === 'failed') return notify(outcome.status, outcome.reason, true);
    try {
      // The transferee gets the target's SDP (media passes through: it then talks to the target directly).
      await transferee.modify(outcome.dialog.remote.sdp);
    } catch (err) {
      call.log.info({ err: String(err) }, 'transferee refused the re-INVITE: transfer abandoned');
      outcome.leg.end(call.ctx.clock.now(), 'pbx');
      void outcome.dialog.destroy().catch(() => undefined);
      if (outcome.user) call.recorder.userLeft(outcome.user.number);
      return notify(Status.ServiceUnavailable, 'Service Unavailable', true);
    }
    const transferorLeg = party === 'caller' ? call.caller.leg : call.calleeLeg!;
    if (call.isEnding) {
      void outcome.dialog.destroy().catch(() => undefined);
      return;
    }
    call.replaceParty(party, outcome.dialog, outcome.leg);
    if (outcome.user) call.holdPresence(outcome.user);
    if (transferorLeg.userNumber) call.recorder.userLeft(transferorLeg.userNumber);
    notify(Status.Ok, 'OK', true);
    releaseTransferor(call, transferor, transferorLeg, party);
  } finally {
    busy.delete(call);
  }
}

/** The transferor is out of the call: its leg ends with its BYE, or with ours after the grace time. */
function releaseTransferor(call: Call, dialog: SrfDialog, leg: Leg, party: 'caller' | 'callee'): void {
  const clock = call.ctx.clock;
  const timer = clock.setTimeout(() => {
    leg.end(clock.now(), 'pbx');
    void dialog.destroy().catch(() => undefined);
  }, TRANSFEROR_GRACE_MS);
  dialog.on('destroy', () => {
    clock.clearTimeout(timer);
    leg.end(clock.now(), party);
  });
  // A call that ends meanwhile hangs the transferor up at once.
  call.onEnded(() => {
    clock.clearTimeout(timer);
    if (!leg.ended) {
      leg.end(clock.now(), 'pbx');
      void dialog.destroy().catch(() => undefined);
    }
  });
}

type TargetOutcome =
  | { kind: 'answered'; dialog: SrfDialog; leg: Leg; user: UserConfig | null }
  | { kind: 'failed'; status: number; reason: string };

const FAILED = {
  busy: { kind: 'failed', status: Status.BusyHere, reason: 'Busy Here' },
  'no-answer': { kind: 'failed', status: Status.TemporarilyUnavailable, reason: 'Temporarily Unavailable' },
  rejected: { kind: 'failed', status: Status.Decline, reason: 'Decline' },
  failed: { kind: 'failed', status: Status.ServerInternalError, reason: 'Server Internal Error' },
  cancelled: { kind: 'failed', status: Status.RequestTerminated, reason: 'Request Terminated' },
} as const satisfies Record<string, TargetOutcome>;

/** Rings the target (an extension's devices, else the number through the first trunk) with the transferee's SDP. */
async function dialTarget(call: Call, number: string, sdp: string, onRinging: () => void): Promise<TargetOutcome> {
  const config = call.config.config;
  const from = callerFromHeader(call, call.recorder.callerId, call.recorder.callerName);
  const ext = config.users.find((u) => u.number === number);
  if (ext) {
    if (ext.dnd) return FAILED.busy;
    const targets = targetsOf(call.ctx.location, [ext]);
    if (targets.length === 0) return FAILED['no-answer'];
    call.recorder.userRinging(ext, { queue_name: null, ring_group_name: null });
    const fork = new Fork({
      srf: call.ctx.srf, clock: call.ctx.clock, log: call.log, targets, ringTimeoutMs: ext.ring_timeout_s * 1000, localSdp: sdp,
      headers: { From: from, ...uacOptionHeaders(call, true) }, onRinging,
      createLeg: (t) => call.newLeg({ kind: 'device', userNumber: t.userNumber, device: t.device, remote: t.contact }),
    });
    const outcome = await fork.run(call.signal);
    fork.dispose();
    if (outcome.kind === 'answered') {
      call.recorder.userAnswered(ext);
      return { kind: 'answered', dialog: outcome.dialog, leg: outcome.leg, user: ext };
    }
    call.recorder.userMissed(ext);
    if (outcome.kind === 'answered-3pcc') {
      void outcome.offer.destroy?.();
      return FAILED.failed;
    }
    return FAILED[outcome.kind];
  }
  const trunk = config.trunks[0];
  if (!trunk) return { kind: 'failed', status: Status.NotFound, reason: 'Not Found' };
  const o = await dialTrunk(call, {
    trunk, number, callerId: call.recorder.callerId, callerName: call.recorder.callerName, localSdp: sdp, ringTimeoutMs: EXTERNAL_RING_MS, onRinging,
  }, call.signal);
  if (o.kind === 'answered') return { kind: 'answered', dialog: o.dialog, leg: o.leg, user: null };
  if (o.kind === 'cancelled') return FAILED.cancelled;
  return { kind: 'failed', status: o.status, reason: 'Transfer target failed' };
}
