/**
 * A copy of a string that shares no memory with the text it was cut from.
 *
 * V8 represents a substring of 13 characters or more as a slice of its parent, and a concatenation as a pair of its
 * parts, so a value cut out of a parsed message (a Call-ID, a branch, a key built from them) keeps the whole message
 * text alive. Values kept long after their message (a transaction waiting out Timer J, a registration binding) are
 * copied with this first.
 */
export function ownString(s: string): string {
  // `' ' + s` is a new two-part string; slicing it flattens the parts into one new buffer, which the result points
  // into: nothing of `s` is referenced afterwards.
  return (' ' + s).slice(1);
}
