/**
 * A typed in-process event bus. The engine publishes every state change of a call here (`leg.answered`,
 * `call.ended`, …); payload builders, the outbox writer and metrics listen. A listener that throws never breaks
 * the publisher: its error is caught, logged with the event name, and counted (STYLE.md §6).
 */

import type { Logger } from '../common/index.js';

/** A map from event name to payload type, e.g. `{ 'call.ended': { unique_call_id: string } }`. */
export type EventMap = { [name: string]: unknown };

/** A listener for one event; may be async (a rejected promise counts as a listener error too). */
export type Listener<P> = (payload: P) => void | Promise<void>;

/** The bus's public surface. */
export interface Bus<M extends EventMap> {
  /** Subscribes; returns a function that unsubscribes. */
  on<K extends keyof M & string>(name: K, listener: Listener<M[K]>): () => void;
  /** Subscribes for one delivery only. */
  once<K extends keyof M & string>(name: K, listener: Listener<M[K]>): () => void;
  off<K extends keyof M & string>(name: K, listener: Listener<M[K]>): void;
  /** Calls every listener of `name` synchronously, in subscription order; returns how many were called. */
  publish<K extends keyof M & string>(name: K, payload: M[K]): number;
  /** How many listener errors were caught since creation (sync throws and async rejections). */
  readonly listenerErrors: number;
  listenerCount(name: keyof M & string): number;
}

/** Creates a bus. `log` receives a warn line per listener error. */
export function createBus<M extends EventMap>(deps: { log: Logger }): Bus<M> {
  const listeners = new Map<string, Array<Listener<unknown>>>();
  let errors = 0;

  const fail = (name: string, err: unknown): void => {
    errors++;
    deps.log.warn({ event: name, err }, 'event listener failed');
  };

  const bus: Bus<M> = {
    on(name, listener) {
      const list = listeners.get(name) ?? [];
      list.push(listener as Listener<unknown>);
      listeners.set(name, list);
      return () => bus.off(name, listener);
    },
    once(name, listener) {
      const wrapped: Listener<M[typeof name]> = (p) => {
        bus.off(name, wrapped);
        return listener(p);
      };
      return bus.on(name, wrapped);
    },
    off(name, listener) {
      const list = listeners.get(name);
      if (!list) return;
      const i = list.indexOf(listener as Listener<unknown>);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) listeners.delete(name);
    },
    publish(name, payload) {
      const list = listeners.get(name);
      if (!list) return 0;
      // Copy: a listener may unsubscribe (once) or subscribe while we iterate.
      const snapshot = [...list];
      for (const listener of snapshot) {
        try {
          const r = listener(payload);
          if (r && typeof (r as Promise<void>).then === 'function') (r as Promise<void>).catch((err: unknown) => fail(name, err));
        } catch (err) {
          fail(name, err);
        }
      }
      return snapshot.length;
    },
    get listenerErrors() {
      return errors;
    },
    listenerCount(name) {
      return listeners.get(name)?.length ?? 0;
    },
  };
  return bus;
}
