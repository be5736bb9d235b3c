/**
 * The policy reader's logic, with the check of a Keras, Orbax or transformers policy passed in, so
 * that the CLI loads those frameworks' option codecs only when a policy names one
 * (readAnyPolicyArgLazy); src/policyFile.ts is the same API with the checks loaded up front.
 *
 * A checkpoint policy from JSON or YAML text (Lightning's ModelCheckpoint argument names, snake_case
 * or camelCase), a file, or inline text, plus `--set key=value` overrides. Every problem is
 * reported together, each with the file, line and column of the key it is about. A `dialect:` key
 * says whose options they are (src/dialectOptions.ts); `simulate` and `compare` run every dialect
 * (parseAnyPolicyText, readAnyPolicyArg), `recommend` Lightning policies only.
 */
import { readFileSync, statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { E } from './core/deps.cts';
import { decodeConfig, type PolicyConfig } from './core/config.ts';
import { DIALECTS, isDialect, loadDialectCheck, type Dialect, type DialectCheck } from './dialectOptions.ts';
import { parseStructured, type StructuredText, type TextIssue } from './sources/structuredText.ts';
import { notTextProblem } from './sources/text.ts';

export interface Policy {
  /** a display name: the `name` key, else the file name without its extension */
  readonly name: string;
  readonly config: PolicyConfig;
  /** where it came from (a path, or "inline") */
  readonly source: string;
}

/** A policy of any dialect: Lightning's decoded config, or another framework's options as checked in its words. */
export type AnyPolicy =
  | (Policy & { readonly dialect: 'lightning' })
  | { readonly dialect: Exclude<Dialect, 'lightning'>; readonly name: string; readonly options: Readonly<Record<string, unknown>>; readonly source: string };

type Decoded = { name: string | null; config: PolicyConfig } | { name: string | null; dialect: Exclude<Dialect, 'lightning'>; options: Record<string, unknown> };

/** `key=value` with the value read as a YAML scalar (`3`, `true`, `null`, `'link'`); anything else stays text. */
export function parseOverride(text: string): E.Either<TextIssue, readonly [string, unknown]> {
  const source = `--set ${text}`;
  const eq = text.indexOf('=');
  if (eq <= 0) return E.left({ source, position: null, field: null, message: 'expected key=value, like save_top_k=3 or monitor=val_loss' });
  const key = text.slice(0, eq).trim();
  const raw = text.slice(eq + 1);
  const parsed = parseStructured(raw === '' ? "''" : raw, source);
  const value = parsed.ok && (parsed.doc.value === null || typeof parsed.doc.value !== 'object') ? parsed.doc.value : raw;
  return E.right([key, value] as const);
}

/** Decodes a policy object, mapping each issue to the place its key is written. */
function decodePolicy(value: unknown, doc: StructuredText | null, source: string, overrides: readonly (readonly [string, unknown])[], overrideText: readonly string[], dialects: boolean, dialectIssues: DialectCheck): E.Either<TextIssue[], Decoded> {
  if (value !== null && value !== undefined && (typeof value !== 'object' || Array.isArray(value))) {
    return E.left([{ source, position: doc?.positionOf([]) ?? null, field: null, message: 'expected a mapping of ModelCheckpoint options (monitor, save_top_k, ...)' }]);
  }
  const obj: Record<string, unknown> = { ...((value as Record<string, unknown> | null) ?? {}) };
  let name: string | null = null;
  if ('name' in obj) {
    if (typeof obj.name !== 'string') return E.left([{ source, position: doc?.positionOf(['name']) ?? null, field: 'name', message: 'expected a string (the policy\'s display name)' }]);
    name = obj.name;
    delete obj.name;
  }
  if ('dialect' in obj) {
    const dialect = obj.dialect;
    const at = doc?.positionOf(['dialect']) ?? null;
    if (!isDialect(dialect)) return E.left([{ source, position: at, field: 'dialect', message: `dialect ${JSON.stringify(dialect)} is not one this version speaks: ${DIALECTS.join(', ')}` }]);
    delete obj.dialect;
    if (dialect !== 'lightning') {
      for (const [k, v] of overrides) obj[k] = v;
      const issues = dialectIssues(dialect, obj).map((i) => ({ source, position: (i.field && doc?.positionOf([i.field])) || at, field: i.field, message: i.message }));
      if (dialects) return issues.length ? E.left(issues) : E.right({ name, dialect, options: obj });
      // valid or not, say so in the framework's words, then that the commands do not run it yet
      return E.left([
        ...issues,
        {
          source,
          position: at,
          field: 'dialect',
          message: `${issues.length === 0 ? `valid ${dialect} options, but ` : ''}this command runs Lightning policies only (dialect: lightning); ${dialect} policies are not supported here yet: ckpt simulate and ckpt compare replay them, or use the ${dialect} dialect from TypeScript (ckpt-policy/${dialect}, docs/${dialect}.md)`,
        },
      ]);
    }
  }
  const fromOverride = new Map<string, string>();
  overrides.forEach(([k, v], i) => {
    // an override replaces the same option under either spelling
    for (const existing of Object.keys(obj)) if (sameOption(existing, k)) delete obj[existing];
    obj[k] = v;
    fromOverride.set(k, overrideText[i]!);
  });
  const r = decodeConfig(obj);
  if (E.isRight(r)) return E.right({ name, config: r.right });
  return E.left(
    r.left.map((issue) => {
      const fields = issue.field.split(',').map((f) => f.trim());
      const set = fields.map((f) => fromOverride.get(f)).find((x) => x !== undefined);
      if (set !== undefined) return { source: `--set ${set}`, position: null, field: issue.field, message: issue.message };
      const pos = fields.map((f) => doc?.positionOf([f]) ?? null).find((p) => p !== null) ?? null;
      return { source, position: pos, field: issue.field, message: issue.message };
    }),
  );
}

const camel = (s: string) => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

function sameOption(a: string, b: string): boolean {
  return a === b || camel(a) === camel(b) || a.toLowerCase() === b.toLowerCase();
}

/** A policy from JSON/YAML text; `dialects`: other frameworks' policies are accepted (else refused in their words). */
export function parseText(text: string, source: string, sets: readonly string[], dialects: boolean, check: DialectCheck): E.Either<TextIssue[], AnyPolicy> {
  const overrides: (readonly [string, unknown])[] = [];
  const issues: TextIssue[] = [];
  for (const s of sets) {
    const o = parseOverride(s);
    if (E.isLeft(o)) issues.push(o.left);
    else overrides.push(o.right);
  }
  const parsed = text.trim() === '' ? null : parseStructured(text, source);
  if (parsed && !parsed.ok) return E.left([...parsed.issues, ...issues]);
  if (issues.length > 0) return E.left(issues);
  const doc = parsed && parsed.ok ? parsed.doc : null;
  const r = decodePolicy(doc?.value ?? null, doc, source, overrides, sets, dialects, check);
  if (E.isLeft(r)) return r;
  const fallback = source === 'inline' || source.startsWith('--') ? 'policy' : basename(source, extname(source));
  const name = r.right.name ?? fallback;
  return E.right('config' in r.right ? { dialect: 'lightning', name, config: r.right.config, source } : { dialect: r.right.dialect, name, options: r.right.options, source });
}

/**
 * `readAnyPolicyArg` (src/policyFile.ts) with the Keras, Orbax and transformers checks imported only
 * when the policy names that dialect: a Lightning policy never loads them.
 */
export async function readAnyPolicyArgLazy(arg: string | undefined, sets: readonly string[] = []): Promise<E.Either<TextIssue[], AnyPolicy>> {
  let named = false;
  // a first pass that only notes whether a dialect's check is needed
  const probe: DialectCheck = () => {
    named = true;
    return [];
  };
  // the file is read once: the second pass, when a dialect is named, parses the same text again
  let read: [string, string, readonly string[]] = ['', 'inline', sets];
  const first =
    arg === undefined
      ? parseText(...read, true, probe)
      : readArg(arg, sets, (text, source, s) => {
          read = [text, source, s];
          return parseText(text, source, s, true, probe);
        });
  return named ? parseText(...read, true, await loadDialectCheck()) : first;
}

/** A policy argument: a file path if one exists, else inline JSON/YAML (`'{monitor: val_loss, save_top_k: 3}'`). */
export function readArg<P>(arg: string, sets: readonly string[], parse: (text: string, source: string, sets: readonly string[]) => E.Either<TextIssue[], P>): E.Either<TextIssue[], P> {
  let isFile = false;
  try {
    isFile = statSync(arg).isFile();
  } catch {
    isFile = false;
  }
  if (isFile) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(arg);
    } catch (e) {
      return E.left([{ source: arg, position: null, field: null, message: `cannot read the policy file: ${(e as Error).message}` }]);
    }
    const notText = notTextProblem(bytes, 'JSON or YAML');
    if (notText !== null) return E.left([{ source: arg, position: null, field: null, message: `${notText}; expected a policy file of ModelCheckpoint options` }]);
    return parse(bytes.toString('utf8'), arg, sets);
  }
  if (!/[{:]/.test(arg)) {
    return E.left([{ source: arg, position: null, field: null, message: 'no such policy file (inline policies are JSON or YAML mappings, like \'{monitor: val_loss, save_top_k: 3}\')' }]);
  }
  return parse(arg, 'inline', sets);
}
