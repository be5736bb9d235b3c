/**
 * `ckpt explain` on a dialect session's `line` record: the input (its event or call) and what the
 * answer did, in one line: the saves, removals and other operations, the result, a refusal. Lines
 * that did nothing (no effect, no operation) are routine and shown only with `all`.
 */
import { parseLenient } from '../sidecar/protocol.ts';
import type { LogRecord } from './format.ts';
import type { ExplainOptions } from './explain.ts';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const short = (v: unknown, max = 90): string => {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
};

/** The input line's name: its event or call (with a step or epoch), or the control message. */
function inputName(text: string): string {
  let u: unknown;
  try {
    u = parseLenient(text);
  } catch {
    return 'a line that is not JSON';
  }
  if (!isObj(u)) return 'a line that is not a JSON object';
  const tag = u._tag ?? u.call ?? u.type;
  const at = ['step', 'globalStep', 'epoch', 'batch'].filter((k) => typeof u[k] === 'number').map((k) => `${k} ${String(u[k])}`);
  return `${typeof tag === 'string' ? tag : '?'}${at.length > 0 ? ` (${at.join(', ')})` : ''}`;
}

/** One effect (Keras `_tag`, transformers `type`) or Orbax op, as a few words. */
function effectWords(e: Obj): string | null {
  const name = (e._tag ?? e.op ?? e.type) as string | undefined;
  if (name === undefined) return null;
  if (name === 'Print' || name === 'log') return null; // messages: not decisions
  const target = e.filepath ?? e.path;
  const err = isObj(e.error) ? `${String(e.error.type)}: ${short(e.error.message, 70)}` : typeof e.errorType === 'string' ? `${e.errorType}: ${short(e.message, 70)}` : null;
  if (err !== null) return `${name} ${err}`;
  if (name === 'Warn') return `warns ${short(e.message, 70)}`;
  if (name === 'NotSaved' && isObj(e.reason)) return `not saved (${String(e.reason.kind)})`;
  return `${name}${target !== undefined ? ` ${String(target)}` : ''}`;
}

export function explainLineRecord(p: string, r: Extract<LogRecord, { type: 'line' }>, opts: ExplainOptions): string[] {
  const a = r.answer;
  const head = `${p}line ${r.line} ${inputName(r.input)}`;
  if (a.ok !== true) {
    const err = isObj(a.error) ? a.error : {};
    return [`${head}: refused (${String(err.kind)}): ${short(err.message, 160)}`];
  }
  const out = isObj(a.output) ? a.output : null;
  const effects = [...(Array.isArray(a.effects) ? a.effects : []), ...(out && Array.isArray(out.ops) ? out.ops : [])].filter(isObj);
  const words = effects.map(effectWords).filter((w): w is string => w !== null);
  if (out && out.error !== null && out.error !== undefined) words.push(`raises ${short(out.error, 120)}`);
  const result = out && out.result !== undefined && out.result !== null ? `result ${short(out.result, 40)}` : null;
  const parts = [...words, ...(result !== null ? [result] : [])];
  // a control line starts or restores the session: always worth a line
  if (a.type === 'init') return [`${head}: the session starts with the options of this line${parts.length > 0 ? `; ${parts.join('; ')}` : ''}`];
  if (a.type === 'resume') return [`${head}: the session continues from the state an earlier answer carried`];
  if (words.length === 0 && !opts.all) return [];
  return [`${head}: ${parts.length > 0 ? parts.join('; ') : 'nothing to carry out'}`];
}
