/**
 * JSON or YAML text (YAML 1.2 reads JSON too) parsed with positions kept, so that a problem with a
 * value can name the file, line and column of its key, and so that `1.0` and `1` stay different
 * (Lightning reads `val_check_interval=1.0` as "once per epoch" and `1` as "every batch").
 */
import { isMap, isScalar, LineCounter, parseDocument, type Node, type Pair } from 'yaml';

export interface Position {
  readonly line: number;
  readonly col: number;
}

/** A syntax or structure problem in the text. */
export interface TextIssue {
  readonly source: string;
  readonly position: Position | null;
  readonly field: string | null;
  readonly message: string;
}

export function issueText(i: TextIssue): string {
  const where = i.position ? `${i.source}:${i.position.line}:${i.position.col}` : i.source;
  return `${where}: ${i.field ? `${i.field}: ` : ''}${i.message}`;
}

export interface StructuredText {
  readonly source: string;
  /** the plain value (objects, arrays, strings, numbers, booleans, null) */
  readonly value: unknown;
  /** where the key at `path` is written (or its value, for list items) */
  positionOf(path: readonly (string | number)[]): Position | null;
  /** the scalar's text as written (`1.0`, `7`, `'link'`), when the value at `path` is a scalar */
  sourceOf(path: readonly (string | number)[]): string | null;
}

/** Parses JSON or YAML; syntax errors and duplicate keys come back as issues with their position. */
export function parseStructured(text: string, source: string): { ok: true; doc: StructuredText } | { ok: false; issues: TextIssue[] } {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, keepSourceTokens: true, uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      issues: doc.errors.map((e) => {
        const p = e.linePos?.[0];
        return { source, position: p ? { line: p.line, col: p.col } : null, field: null, message: e.message.replace(/ at line \d+, column \d+:[\s\S]*$/, '') };
      }),
    };
  }
  // toJS resolves aliases and throws on an unresolved one or an alias bomb: an issue, not a stack trace
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const name = /^Unresolved alias[^:]*:\s*(\S+)\s*$/.exec(message)?.[1] ?? null;
    const at = name !== null ? text.indexOf(`*${name}`) : -1;
    const p = at >= 0 ? lc.linePos(at) : null;
    const what =
      name !== null
        ? `unresolved alias *${name}: an alias must refer to an anchor (&${name}) set before it`
        : /excessive alias count/i.test(message)
          ? 'too many alias expansions (more than 100): YAML aliases (*name) are limited to keep memory bounded'
          : `cannot resolve the document: ${message.replace(/\s+/g, ' ').trim()}`;
    return { ok: false, issues: [{ source, position: p ? { line: p.line, col: p.col } : null, field: null, message: what }] };
  }
  const find = (path: readonly (string | number)[]): { key: Node | null; value: Node | null } | null => {
    let node: unknown = doc.contents;
    let keyNode: Node | null = null;
    for (const p of path) {
      if (isMap(node)) {
        const pair = node.items.find((it: Pair) => isScalar(it.key) && String(it.key.value) === String(p)) as Pair<Node, Node> | undefined;
        if (!pair) return null;
        keyNode = pair.key;
        node = pair.value;
      } else if (node && typeof node === 'object' && 'items' in node && Array.isArray((node as { items: unknown[] }).items) && typeof p === 'number') {
        const item = (node as { items: unknown[] }).items[p];
        if (item === undefined) return null;
        keyNode = null;
        node = item;
      } else return null;
    }
    return { key: keyNode, value: (node as Node) ?? null };
  };
  const pos = (offset: number | undefined): Position | null => {
    if (offset === undefined) return null;
    const p = lc.linePos(offset);
    return { line: p.line, col: p.col };
  };
  return {
    ok: true,
    doc: {
      source,
      value,
      positionOf(path) {
        const f = find(path);
        if (!f) return null;
        return pos(f.key?.range?.[0] ?? f.value?.range?.[0]);
      },
      sourceOf(path) {
        const f = find(path);
        if (!f || !isScalar(f.value)) return null;
        const tok = (f.value as unknown as { srcToken?: { source?: string } }).srcToken;
        return tok?.source ?? null;
      },
    },
  };
}

export { didYouMean, editDistance } from '../core/didYouMean.ts';
