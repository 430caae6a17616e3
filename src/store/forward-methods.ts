/**
 * Method forwarding for the store classes built from parts (issue 17): PostgresStore and SqliteCore hand each concern
 * (registrations, calls, outbox, admin, recordings) to one part object on the same connection, and SqliteStore hands
 * every call to its worker. Forwarding by prototype keeps one list of methods, the parts' own, instead of a second
 * one in the host class that has to be kept in step with them.
 */

/** The public members of `T` (its `#private` ones are not in `keyof`): what a host class declares it gains from a part. */
export type MethodsOf<T> = { [K in keyof T]: T[K] };

/** A part's class: built on the host's connection. */
export type PartClass<C> = new (connection: C) => object;

/**
 * Defines on `host.prototype` every method of `source` (a prototype) but the constructor and `skip`, each running
 * `call(this, name, args)`. Throws when the host already has a method of that name (two parts defining one name
 * would otherwise shadow each other silently).
 */
export function forwardMethods<H>(host: { prototype: H; name: string }, source: object, call: (self: H, name: string, args: unknown[]) => unknown,
  skip: readonly string[] = []): void {
  for (const name of Object.getOwnPropertyNames(source)) {
    if (name === 'constructor' || skip.includes(name)) continue;
    if (Object.prototype.hasOwnProperty.call(host.prototype, name)) throw new Error(`${host.name}.${name} is defined twice`);
    Object.defineProperty(host.prototype, name, {
      value: function (this: H, ...args: unknown[]) { return call(this, name, args); },
      writable: true, configurable: true,
    });
  }
}

/** Forwards every method of each of `parts` (classes) to the instance at the same index of `partsOf(this)`. */
export function forwardToParts<H, C>(host: { prototype: H; name: string }, parts: ReadonlyArray<PartClass<C>>, partsOf: (self: H) => readonly object[]): void {
  parts.forEach((part, i) => forwardMethods(host, part.prototype, (self, name, args) => {
    const target = partsOf(self)[i] as Record<string, (...a: unknown[]) => unknown>;
    return target[name]!.apply(target, args);
  }));
}
