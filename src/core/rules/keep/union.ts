/**
 * The union of preservation members: a file is removed only when no member still keeps it. Each
 * member's verdict is a function of its own slice (read from the context `S`) and the path; the
 * union asks every member and never lets one see another's answer.
 */
import type { KeepMember } from '../../notes.ts';

/** One member's verdict over a context it reads its slice from (the hook's draft): one object per config, not per call. */
export interface Verdict<S> {
  readonly member: KeepMember;
  readonly keeps: (context: S, path: string) => boolean;
}

/** The members (other than `released`) that still keep `path`, in member order. */
export function keepers<S>(members: readonly Verdict<S>[], context: S, path: string, released: KeepMember | null): readonly KeepMember[] {
  if (members.length > MAX_MASKED) return members.filter((m) => m.member !== released && m.keeps(context, path)).map((m) => m.member);
  let mask = 0;
  for (let i = 0; i < members.length; i++) {
    const m = members[i]!;
    if (m.member !== released && m.keeps(context, path)) mask |= 1 << i;
  }
  return mask === 0 ? NONE : answerOf(members, mask);
}

const NONE: readonly KeepMember[] = Object.freeze([]);
/** Lists longer than this (never a policy's: it has at most six members) are answered without the bit set. */
const MAX_MASKED = 16;

/**
 * The answer for a set of members (bits of positions in `members`): one frozen array per list and
 * set, built the first time (a save of a composed policy asks twice; the answers are few).
 */
function answerOf<S>(members: readonly Verdict<S>[], mask: number): readonly KeepMember[] {
  let answers = ANSWERS.get(members);
  if (answers === undefined) ANSWERS.set(members, (answers = []));
  return (answers[mask] ??= Object.freeze(members.filter((_, i) => mask & (1 << i)).map((m) => m.member)));
}
const ANSWERS = new WeakMap<readonly object[], (readonly KeepMember[])[]>();
