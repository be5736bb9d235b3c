/**
 * `ckpt explain`: a decision log, or loop events run through a policy, as plain sentences, one
 * per effect and per rule that did not act. Routine hooks (nothing to decide, not this hook's
 * turn, a batch with no trigger due) are hidden unless `all` is set; the count of hidden lines
 * is reported at the end.
 */
import type { PolicyConfig } from '../core/config.ts';
import type { LoopEvent } from '../core/events.ts';
import { init, reduce } from '../core/reduce.ts';
import { explainDecision, explainRecord, type ExplainOptions } from './explain.ts';
import { readLog, type LogSource } from './reader.ts';
import { isDialectHead } from './format.ts';

export function* explainLog(source: LogSource, opts: ExplainOptions = {}): Generator<string> {
  let hidden = 0;
  let dialect: string | null = null;
  for (const item of readLog(source)) {
    switch (item.kind) {
      case 'record': {
        const r = item.record;
        if (r.type === 'head') dialect = isDialectHead(r) ? r.dialect : null;
        if (r.type === 'close' && dialect !== null) {
          yield `#${r.n} ${dialect} session ends: ${r.decisions} line(s)`;
          break;
        }
        const lines = explainRecord(r, opts);
        if (lines.length === 0) hidden++;
        yield* lines;
        break;
      }
      case 'problem':
        yield `#${item.problem.record} not usable: ${item.problem.message}`;
        break;
      case 'torn':
        yield `#${item.record} torn: an unfinished line of ${item.bytes} bytes (the writer stopped mid-append)`;
        break;
    }
  }
  if (hidden > 0 && !opts.all) yield `(${hidden} routine record(s) not shown; --all shows every one)`;
}

/** Events (with the line each came from) through a policy, explained as they are decided. */
export function* explainEvents(events: Iterable<{ readonly event: LoopEvent; readonly line: number }>, config: PolicyConfig, cwd: string, opts: ExplainOptions = {}): Generator<string> {
  let [state] = init(config, { cwd });
  let hidden = 0;
  for (const { event, line } of events) {
    const [next, effects, notes] = reduce(state, event);
    const lines = explainDecision(`line ${line}: `, event, effects, notes, { ...opts, simulated: true });
    if (lines.length === 0) hidden++;
    yield* lines;
    state = next;
    if (effects.some((e) => e.type === 'error')) {
      yield `line ${line}: the policy raised; Lightning's fit stops here`;
      break;
    }
  }
  if (hidden > 0 && !opts.all) yield `(${hidden} routine event(s) not shown; --all shows every one)`;
}
