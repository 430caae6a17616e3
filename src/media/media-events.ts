/**
 * A typed event emitter for media objects (mediasoup's `enhancedEvents`): listeners are typed by an event map, and
 * a throwing listener is caught and reported to `onListenerError`, never thrown into the packet path.
 */

type Listener<T> = (arg: T) => void;

/** Emits the events of map `M`; subclass or compose it. */
export class MediaEventEmitter<M extends object> {
  readonly #listeners = new Map<keyof M, Array<Listener<never>>>();
  readonly #onListenerError: (err: unknown, event: keyof M) => void;

  constructor(onListenerError: (err: unknown, event: keyof M) => void = () => undefined) {
    this.#onListenerError = onListenerError;
  }

  on<E extends keyof M>(event: E, listener: Listener<M[E]>): this {
    const list = this.#listeners.get(event) ?? [];
    list.push(listener as Listener<never>);
    this.#listeners.set(event, list);
    return this;
  }

  off<E extends keyof M>(event: E, listener: Listener<M[E]>): this {
    const list = this.#listeners.get(event);
    if (list) this.#listeners.set(event, list.filter((l) => l !== listener));
    return this;
  }

  /** Calls every listener of `event` with `arg`; returns whether there was any. */
  safeEmit<E extends keyof M>(event: E, arg: M[E]): boolean {
    const list = this.#listeners.get(event);
    if (!list || list.length === 0) return false;
    for (const l of [...list]) {
      try {
        (l as Listener<M[E]>)(arg);
      } catch (err) {
        this.#onListenerError(err, event);
      }
    }
    return true;
  }

  /** Drops every listener (after `closed`). */
  removeAllListeners(): void {
    this.#listeners.clear();
  }
}
