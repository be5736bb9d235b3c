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

const NONE: readonly KeepMember[] = [];

/** The members (other than `released`) that still keep `path`, in member order. */
export function keepers<S>(members: readonly Verdict<S>[], context: S, path: string, released: KeepMember | null): readonly KeepMember[] {
  let out: KeepMember[] | null = null;
  for (const m of members) if (m.member !== released && m.keeps(context, path)) (out ??= []).push(m.member);
  return out ?? NONE;
}
