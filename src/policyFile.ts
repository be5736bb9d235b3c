/**
 * A checkpoint policy from JSON or YAML text (Lightning's ModelCheckpoint argument names, snake_case
 * or camelCase), a file, or inline text, plus `--set key=value` overrides. Every problem is
 * reported together, each with the file, line and column of the key it is about. A `dialect:` key
 * says whose options they are (src/dialectOptions.ts); `simulate` and `compare` run every dialect
 * (parseAnyPolicyText, readAnyPolicyArg), `recommend` Lightning policies only. The logic is in
 * src/policyText.ts; this module is its synchronous API, with every dialect's check loaded.
 */
import { E } from './core/deps.cts';
import { dialectIssues } from './dialectChecks.ts';
import type { TextIssue } from './sources/structuredText.ts';
import { parseText, readArg, type AnyPolicy, type Policy } from './policyText.ts';

export { parseOverride, type AnyPolicy, type Policy } from './policyText.ts';

/** A Lightning policy from JSON/YAML text, with `--set` overrides applied on top (another dialect is refused, in its words). */
export function parsePolicyText(text: string, source: string, sets: readonly string[] = []): E.Either<TextIssue[], Policy> {
  const r = parseText(text, source, sets, false, dialectIssues);
  if (E.isLeft(r)) return r;
  if (r.right.dialect !== 'lightning') throw new Error('unreachable: dialects are refused above');
  return E.right({ name: r.right.name, config: r.right.config, source: r.right.source });
}

/** A policy of any dialect from JSON/YAML text, with `--set` overrides applied on top. */
export function parseAnyPolicyText(text: string, source: string, sets: readonly string[] = []): E.Either<TextIssue[], AnyPolicy> {
  return parseText(text, source, sets, true, dialectIssues);
}

/** A Lightning policy argument: a file path if one exists, else inline JSON/YAML (`'{monitor: val_loss, save_top_k: 3}'`). */
export function readPolicyArg(arg: string, sets: readonly string[] = []): E.Either<TextIssue[], Policy> {
  return readArg(arg, sets, parsePolicyText);
}

/** A policy argument of any dialect (`dialect: keras` and so on). */
export function readAnyPolicyArg(arg: string, sets: readonly string[] = []): E.Either<TextIssue[], AnyPolicy> {
  return readArg(arg, sets, parseAnyPolicyText);
}
