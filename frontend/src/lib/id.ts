/**
 * 64-bit ids (sequence numbers, incarnations) as the node sends them
 * (docs/api.md, "64-bit ids"): a JSON number up to 2^53 - 1, a string of
 * decimal digits above, where a number would round (2^53 + 1 reads as
 * 2^53). So an id is kept as it came and only compared, shown or used in
 * a key: never added to, subtracted or compared as a number, which would be
 * wrong for a string id (and silently lossy had it been parsed).
 */
import type { Id } from './types';

/** The id as text, exactly: for keys, URLs and display. */
export function idText(id: Id): string {
  return typeof id === 'number' ? String(id) : id;
}

/** Whether two ids are the same id, whichever form each came in. */
export function sameId(a: Id | undefined, b: Id | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return idText(a) === idText(b);
}

/** An event's identity, `origin/incarnation/seq`, as its URL names it. */
export function eventKey(e: { origin: string; incarnation: Id; seq: Id }): string {
  return `${e.origin}/${idText(e.incarnation)}/${idText(e.seq)}`;
}
