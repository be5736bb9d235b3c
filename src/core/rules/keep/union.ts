/**
 * The union of preservation members: a file is removed only when no member still keeps it. Each
 * member's verdict is a function of its own slice and the path; the union asks every member and
 * never lets one see another's answer.
 */
import type { KeepMember } from '../../notes.ts';

export interface Verdict {
  readonly member: KeepMember;
  readonly keeps: (path: string) => boolean;
}

const NONE: readonly KeepMember[] = [];

/** The members (other than `released`) that still keep `path`, in member order. */
export function keepers(members: readonly Verdict[], path: string, released: KeepMember | null): readonly KeepMember[] {
  let out: KeepMember[] | null = null;
  for (const m of members) if (m.member !== released && m.keeps(path)) (out ??= []).push(m.member);
  return out ?? NONE;
}

/** Whether the union keeps `path`. */
export function unionKeeps(members: readonly Verdict[], path: string): boolean {
  return members.some((m) => m.keeps(path));
}
