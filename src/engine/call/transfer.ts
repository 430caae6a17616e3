/**
 * Blind transfer (RFC 3515 REFER, RFC 5589 §6) of a bridged call. Either party (the transferor) sends REFER whose
 * Refer-To names an extension or an external number. We accept it with 202, ring the target with the other party's
 * (the transferee's) SDP, and tell the transferor how it goes in NOTIFYs carrying message/sipfrag (RFC 3515 §2.4.5):
 * `100 Trying` at once, then the target's final status with `Subscription-State: terminated`. On answer the
 * transferee is re-INVITEd with the target's SDP and bridged to it; the transferor leaves (its own BYE, or ours after
 * {@link TRANSFEROR_GRACE_MS}). A target that does not answer leaves the bridge as it was, so the transferor can
 * take the call back. Everything stays one call (one unique_call_id); docs/engine.md, "Transfers", has the events.
 * Attended transfer: a REFER whose Refer-To carries Replaces naming the transferor's dialog of another bridged call
 * ({@link attended}), and an INVITE with a Replaces header naming a bridged dialog ({@link acceptReplacingInvite}).
 */
import type { UserConfig } from '../../config/index.js';
import { Fork } from '../fork.js';
import { dialTrunk } from '../outbound/trunk-dial.js';
import { callerFromHeader } from '../flows/dial-users.js';
import { targetsOf } from '../flows/ring-users.js';
import { Status } from '../../sip/syntax.js';
import type { SrfDialog, SrfRequest, SrfResponse } from '../srf-types.js';
import type { Bridge, Party } from './bridge.js';
import type { Call } from './call.js';
import type { Leg } from './leg.js';
import { callerAnswerHeaders, uacOptionHeaders } from './session-timer.js';
import { otherRole, type MediaLegRole } from '../../media/index.js';
import { trunkFor } from '../outbound/trunk-select.js';

/** How long a transferor may stay after a successful transfer before we BYE it (RFC 5589 §6.1: it should BYE). */
export const TRANSFEROR_GRACE_MS = 5000;

/** How long an external transfer target may ring. */
const EXTERNAL_RING_MS = 60_000;

/**
 * A Refer-To value (`<sip:1003@pbx>`, `sip:+614…@pbx;user=phone`, `tel:+614…`, `<sip:1003@pbx?Replaces=…>`): the dialled
 * number (null when the URI has none, allowed with Replaces: phones often put the target's contact there) and the
 * decoded Replaces header value (RFC 3891 §7.1 URI header), or null. Undefined when it is neither a number nor a
 * Replaces.
 */
export function parseReferTo(value: string | undefined): { number: string | null; replaces: string | null } | undefined {
  if (!value) return undefined;
  const m = /<([^>]*)>/.exec(value);
  const uri = (m ? m[1]! : value.split(';')[0]!).trim();
  const scheme = /^(sips?|tel):/i.exec(uri);
  if (!scheme) return undefined;
  const q = uri.indexOf('?');
  const rest = uri.slice(scheme[0].length, q < 0 ? undefined : q);
  let replaces: string | null = null;
  if (q >= 0) {
    for (const h of uri.slice(q + 1).split('&')) {
      const eq = h.indexOf('=');
      if (eq < 0 || h.slice(0, eq).toLowerCase() !== 'replaces') continue;
      try {
        replaces = decodeURIComponent(h.slice(eq + 1));
      } catch {
        return undefined;
      }
    }
  }
  const user = scheme[1]!.toLowerCase() === 'tel' ? rest.split(/[;?]/)[0]! : rest.includes('@') ? rest.slice(0, rest.indexOf('@')) : '';
  let number: string | null;
  try {
    number = decodeURIComponent(user.split(';')[0]!);
  } catch {
    number = null;
  }
  if (number !== null && !/^\+?[0-9*#]{1,32}$/.test(number)) number = null;
  if (number === null && replaces === null) return undefined;
  return { number, replaces };
}

/** A dialog named by a Replaces header (RFC 3891 §6.1): Call-ID, to-tag, from-tag, early-only. */
export interface DialogRef {
  callId: string;
  toTag: string;
  fromTag: string;
  earlyOnly: boolean;
}

/** Parses a Replaces header value (`abc@host;to-tag=1;from-tag=2[;early-only]`); undefined when malformed. */
export function parseReplaces(value: string | undefined): DialogRef | undefined {
  if (!value || value.length > 1024) return undefined;
  const [callId, ...params] = value.split(';').map((x) => x.trim());
  if (!callId) return undefined;
  let toTag: string | undefined;
  let fromTag: string | undefined;
  let earlyOnly = false;
  for (const p of params) {
    const eq = p.indexOf('=');
    const name = (eq < 0 ? p : p.slice(0, eq)).toLowerCase();
    const v = eq < 0 ? '' : p.slice(eq + 1).trim();
    if (name === 'to-tag') toTag = v;
    else if (name === 'from-tag') fromTag = v;
    else if (name === 'early-only') earlyOnly = true;
  }
  return toTag && fromTag ? { callId, toTag, fromTag, earlyOnly } : undefined;
}

/**
 * The bridged party whose dialog `ref` names, among `calls`. RFC 3891 §3 reads the tags from the recipient's side
 * (to-tag = our tag); a transferor builds them from its own side of the same dialog, so both orders are accepted —
 * the Call-ID and both tags must still match, which only a party to that dialog knows.
 */
export function findBridgedParty(calls: Iterable<Call>, ref: DialogRef): BridgedParty | undefined {
  for (const call of calls) {
    const bridge = call.bridge;
    if (call.state !== 'connected' || !bridge) continue;
    for (const party of ['caller', 'callee'] as const) {
      const { dialog } = bridge.party(party);
      if (dialog.sip.callId !== ref.callId) continue;
      const tags = [dialog.sip.localTag, dialog.sip.remoteTag];
      if (tags.includes(ref.toTag) && tags.includes(ref.fromTag) && ref.toTag !== ref.fromTag && bridge.partyOf(dialog)) return { call, bridge, party };
    }
  }
  return undefined;
}

/** A party of a connected call's bridge. */
export interface BridgedParty { call: Call; bridge: Bridge; party: Party }

/** The calls not yet ended (attended transfer finds the dialog a Replaces names among them). */
export type ActiveCalls = () => Iterable<Call>;

/** Listens for REFER on `dialog`, one of the call's two bridged dialogs. */
export function acceptTransfers(call: Call, dialog: SrfDialog, calls: ActiveCalls): void {
  dialog.on('refer', (req: SrfRequest, res: SrfResponse) => {
    onRefer(call, dialog, req, res, calls).catch((err: unknown) => call.log.error({ err }, 'transfer failed'));
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

const otherSide = (p: 'caller' | 'callee'): 'caller' | 'callee' => (p === 'caller' ? 'callee' : 'caller');

async function onRefer(call: Call, transferor: SrfDialog, req: SrfRequest, res: SrfResponse, calls: ActiveCalls): Promise<void> {
  const bridge = call.bridge;
  const party = bridge?.partyOf(transferor) ?? null;
  if (!bridge || !party) return send(res, Status.Forbidden, 'Call not bridged');
  const transferee = bridge.party(otherSide(party)).dialog;
  const target = parseReferTo(req.get('Refer-To') ?? req.get('r'));
  if (!target) return send(res, Status.BadRequest, 'Bad Refer-To (an extension or a number)');
  if (target.replaces !== null) return attended({ call, bridge, party }, req, res, target.replaces, calls);
  if (bridge.transferring) return send(res, Status.RequestPending, 'Transfer already in progress');
  bridge.transferring = true;
  send(res, Status.Accepted);
  const notify = notifier(call, transferor);
  notify(Status.Trying, 'Trying', false);
  call.log.info({ transferor: party, target: target.number }, 'blind transfer');
  try {
    // A recorded call keeps its media session: the target is offered from it (the transferor's side of the session),
    // the transferee keeps talking to it, and the recording goes on. Otherwise the transferee's own SDP.
    const media = anchoredOffer(call, bridge, party);
    const offer = (await media?.offer) ?? null;
    const outcome = await dialTarget(call, target.number!, offer ?? transferee.remote.sdp, () => notify(Status.Ringing, 'Ringing', false));
    if (outcome.kind === 'failed') {
      if (offer !== null) await media!.restore();
      return notify(outcome.status, outcome.reason, true);
    }
    try {
      if (offer !== null) await media!.answered(outcome.dialog.remote.sdp);
      // The transferee gets the target's SDP (media passes through: it then talks to the target directly).
      else await transferee.modify(outcome.dialog.remote.sdp);
    } catch (err) {
      call.log.info({ err: String(err) }, 'transferee refused the re-INVITE (or the media session the answer): transfer abandoned');
      outcome.leg.end(call.ctx.clock.now(), 'pbx');
      void outcome.dialog.destroy().catch(() => undefined);
      if (outcome.user) call.recorder.userLeft(outcome.user.number);
      if (offer !== null) await media!.restore();
      return notify(Status.ServiceUnavailable, 'Service Unavailable', true);
    }
    const transferorLeg = bridge.party(party).leg;
    const transferorUser = userOfParty(call, bridge, party);
    if (call.isEnding) {
      void outcome.dialog.destroy().catch(() => undefined);
      return;
    }
    bridge.replace(party, outcome.dialog, outcome.leg, offer !== null);
    if (offer !== null) call.log.info({ recording: bridge.media?.recording ?? false }, 'transferred on the media session');
    if (outcome.user) call.holdPresence(outcome.user);
    if (transferorUser) call.recorder.userLeft(transferorUser);
    notify(Status.OK, 'OK', true);
    releaseTransferor(call, transferor, transferorLeg, party);
  } finally {
    bridge.transferring = false;
  }
}

/**
 * The media session's side of `replaced` (a bridged party about to be replaced), when the call is anchored: `offer` is
 * the session's offer for the newcomer (made from the staying party's SDP), `answered` takes the newcomer's answer,
 * and `restore` gives the session back the replaced party's SDP when the newcomer never came. Null: SDP passes through.
 */
function anchoredOffer(call: Call, bridge: Bridge, replaced: Party): { offer: Promise<string | null>; answered(sdp: string): Promise<void>; restore(): Promise<void> } | null {
  const media = bridge.media;
  if (!media) return null;
  const role: MediaLegRole = replaced;
  const stays = bridge.party(otherRole(role)).dialog;
  const old = bridge.party(role).dialog;
  return {
    offer: media.offer(otherRole(role), stays.remote.sdp).catch((err: unknown) => {
      call.log.warn({ err }, 'media session refused the transfer offer: the new party gets the SDP as it is (not recorded)');
      return null;
    }),
    answered: async (sdp) => { await media.answer(role, sdp); },
    restore: async () => {
      try {
        await media.offer(otherRole(role), stays.remote.sdp);
        await media.answer(role, old.remote.sdp);
      } catch (err) {
        call.log.warn({ err }, 'media session not restored after a failed transfer');
      }
    },
  };
}

/** The user on a bridged party: the placing user on the caller side, the leg's user on the callee side. */
function userOfParty(call: Call, bridge: Bridge, party: Party): string | null {
  return party === 'caller' ? call.recorder.placingUser?.number ?? null : bridge.party(party).leg.userNumber;
}

/**
 * Attended transfer (RFC 5589 §7): the transferor (on `party` of `call`, the call it REFERs in) names in Replaces its
 * dialog of another bridged call (the consultation). The transferee (the other party here) and the target (the
 * other party there) are re-INVITEd with each other's SDP (media then flows between them directly), the target
 * moves into this call in the transferor's place, the consultation call ends (its transferor dialog gets our BYE),
 * and the transferor is told in NOTIFYs, then released as after a blind transfer.
 */
async function attended(at: BridgedParty, req: SrfRequest, res: SrfResponse, replaces: string, calls: ActiveCalls): Promise<void> {
  const { call, bridge, party } = at;
  const ref = parseReplaces(replaces);
  if (!ref) return send(res, Status.BadRequest, 'Bad Replaces in Refer-To (Call-ID;to-tag=…;from-tag=…)');
  const found = findBridgedParty(calls(), ref);
  if (!found || found.call === call) return send(res, Status.Forbidden, 'Replaces names no other bridged call');
  const consult = found.call;
  if (bridge.transferring || found.bridge.transferring) return send(res, Status.RequestPending, 'Transfer already in progress');
  bridge.transferring = true;
  found.bridge.transferring = true;
  send(res, Status.Accepted);
  const transferor = bridge.party(party).dialog;
  const notify = notifier(call, transferor);
  notify(Status.Trying, 'Trying', false);
  const targetSide = otherSide(found.party);
  call.log.info({ transferor: party, consultation: consult.uniqueCallId }, 'attended transfer');
  try {
    const transferee = bridge.party(otherSide(party)).dialog;
    const target = found.bridge.party(targetSide);
    // A recorded call that goes on keeps its media session: the target is re-INVITEd with the session's offer (the
    // transferor's side), the transferee keeps talking to the session, the recording goes on.
    const media = anchoredOffer(call, bridge, party);
    const offer = (await media?.offer) ?? null;
    if (offer !== null) {
      const targetBefore = target.dialog.local.sdp;
      let answer: string;
      try {
        answer = await target.dialog.modify(offer);
      } catch (err) {
        call.log.info({ err: String(err) }, 'transfer target refused the re-INVITE: attended transfer abandoned');
        await media!.restore();
        return notify(Status.ServiceUnavailable, 'Service Unavailable', true);
      }
      try {
        await media!.answered(answer);
      } catch (err) {
        call.log.info({ err: String(err) }, 'media session refused the target\'s answer: attended transfer abandoned');
        await target.dialog.modify(targetBefore).catch(() => undefined);
        await media!.restore();
        return notify(Status.ServiceUnavailable, 'Service Unavailable', true);
      }
    } else {
      const before = transferee.local.sdp;
      let transfereeSdp: string;
      try {
        transfereeSdp = await transferee.modify(target.dialog.remote.sdp);
      } catch (err) {
        call.log.info({ err: String(err) }, 'transferee refused the re-INVITE: attended transfer abandoned');
        return notify(Status.ServiceUnavailable, 'Service Unavailable', true);
      }
      try {
        await target.dialog.modify(transfereeSdp);
      } catch (err) {
        call.log.info({ err: String(err) }, 'transfer target refused the re-INVITE: attended transfer abandoned');
        // Back to what the transferee had (best effort: it may have gone meanwhile).
        await transferee.modify(before).catch(() => undefined);
        return notify(Status.ServiceUnavailable, 'Service Unavailable', true);
      }
    }
    if (call.isEnding || consult.isEnding) return notify(Status.RequestTerminated, 'Request Terminated', true);
    const targetUserNumber = userOfParty(consult, found.bridge, targetSide);
    const targetUser = targetUserNumber ? call.config.config.users.find((u) => u.number === targetUserNumber) ?? null : null;
    const transferorLeg = bridge.party(party).leg;
    const transferorUser = userOfParty(call, bridge, party);
    const dialog = found.bridge.detach(targetSide);
    const now = call.ctx.clock.now();
    const leg = call.newLeg({
      kind: target.leg.kind === 'caller' ? (targetUser ? 'device' : 'trunk') : target.leg.kind,
      userNumber: targetUser?.number ?? null, device: target.leg.device, remote: target.leg.remote,
    });
    leg.answered(now);
    bridge.replace(party, dialog, leg, offer !== null);
    if (targetUser) {
      call.recorder.userRinging(targetUser, { queue_name: null, ring_group_name: null });
      call.recorder.userAnswered(targetUser);
      call.holdPresence(targetUser);
    }
    if (transferorUser) call.recorder.userLeft(transferorUser);
    void consult.end('transferred', { by: 'pbx' });
    notify(Status.OK, 'OK', true);
    releaseTransferor(call, transferor, transferorLeg, party);
  } finally {
    bridge.transferring = false;
    found.bridge.transferring = false;
  }
}

/**
 * An INVITE with Replaces (RFC 3891) naming a bridged dialog of `found.call`: the new party (an authenticated device
 * of `user`) takes that dialog's party's place. The party who stays is re-INVITEd with the newcomer's offer, the
 * newcomer is answered with its answer, and the replaced dialog gets our BYE. Answers the INVITE in every case.
 */
export async function acceptReplacingInvite(found: BridgedParty, req: SrfRequest, res: SrfResponse,
  device: { user: UserConfig; username: string }): Promise<void> {
  const { call, bridge, party } = found;
  const offer = req.body ? req.body : undefined;
  if (offer === undefined) return send(res, Status.NotAcceptableHere, 'INVITE with Replaces needs an SDP offer');
  if (bridge.transferring) return send(res, Status.RequestPending, 'Transfer already in progress');
  bridge.transferring = true;
  try {
    const stays = bridge.party(otherSide(party)).dialog;
    const replaced = bridge.party(party);
    // A recorded call: the newcomer's offer goes through the media session (the replaced party's side), which goes on.
    const media = bridge.media;
    let answer: string;
    try {
      if (media) {
        const role: MediaLegRole = party;
        answer = await media.answer(otherRole(role), await stays.modify(await media.offer(role, offer)));
      } else {
        answer = await stays.modify(offer);
      }
    } catch (err) {
      call.log.info({ err: String(err) }, 'the remaining party (or the media session) refused the offer: Replaces refused');
      return send(res, Status.NotAcceptableHere);
    }
    const dialog = await call.ctx.srf.createUAS(req, res, {
      localSdp: answer, headers: { 'Content-Type': 'application/sdp', ...callerAnswerHeaders(req, call.config.config.pbx.session_timers) },
    });
    if (call.isEnding) {
      void dialog.destroy().catch(() => undefined);
      return;
    }
    const replacedUser = userOfParty(call, bridge, party);
    const now = call.ctx.clock.now();
    const leg = call.newLeg({ kind: 'device', userNumber: device.user.number, device: device.username, remote: `${req.source_address}:${req.source_port}` });
    leg.answered(now);
    call.log.info({ replaced: party, device: device.username }, 'dialog replaced (INVITE with Replaces)');
    bridge.replace(party, dialog, leg, media !== null);
    call.recorder.userRinging(device.user, { queue_name: null, ring_group_name: null });
    call.recorder.userAnswered(device.user);
    call.holdPresence(device.user);
    if (replacedUser) call.recorder.userLeft(replacedUser);
    replaced.leg.end(now, 'pbx');
    void replaced.dialog.destroy().catch(() => undefined);
  } finally {
    bridge.transferring = false;
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
      headers: { From: from, ...uacOptionHeaders(call.config.config.pbx.session_timers, true) }, onRinging,
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
  const trunk = trunkFor(config, number);
  if (!trunk) return { kind: 'failed', status: Status.NotFound, reason: 'Not Found' };
  const o = await dialTrunk(call, {
    trunk, number, callerId: call.recorder.callerId, callerName: call.recorder.callerName, localSdp: sdp, ringTimeoutMs: EXTERNAL_RING_MS, onRinging,
  }, call.signal);
  if (o.kind === 'answered') return { kind: 'answered', dialog: o.dialog, leg: o.leg, user: null };
  if (o.kind === 'cancelled') return FAILED.cancelled;
  return { kind: 'failed', status: o.status, reason: 'Transfer target failed' };
}
