/**
 * A union codec told apart by one field (`type`, `rule`, `kind`): decoding picks the member by that
 * field, so an error names the member's own field instead of every member's mismatch.
 */
import { t } from './deps.cts';

export function tagged<M extends Record<string, t.Mixed>>(name: string, tag: string, members: M): t.Type<t.TypeOf<M[keyof M]>, t.OutputOf<M[keyof M]>, unknown> {
  const names = Object.keys(members);
  return new t.Type<t.TypeOf<M[keyof M]>, t.OutputOf<M[keyof M]>, unknown>(
    name,
    (u): u is t.TypeOf<M[keyof M]> => typeof u === 'object' && u !== null && names.some((n) => members[n]!.is(u)),
    (u, c) => {
      if (typeof u !== 'object' || u === null || Array.isArray(u)) return t.failure(u, c, `an object with a "${tag}" field`);
      const v = (u as Record<string, unknown>)[tag];
      const member = typeof v === 'string' && Object.hasOwn(members, v) ? members[v] : undefined;
      if (member === undefined) return t.failure(v, t.appendContext(c, tag, t.string, v), `one of ${names.join(', ')}`);
      return member.validate(u, c);
    },
    (a) => {
      const v = (a as Record<string, unknown>)[tag] as string;
      return members[v]!.encode(a);
    },
  );
}
