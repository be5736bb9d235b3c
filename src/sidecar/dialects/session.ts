/**
 * The line loop of `ckpt serve --stdio --dialect NAME`: decide mode for a framework dialect. Each
 * input line is answered by exactly one output line. Control lines (`type`): `init` (the
 * framework's options, in its own names), `resume` (a state an answer carried, where the dialect
 * has a state codec), `query` (the current state). Every other line is one of the dialect's events
 * or calls, named by its discriminant (`_tag`, `call` or `type`), decoded with the dialect's codec
 * and answered with the dialect's effects or outputs, and the state to resume from.
 *
 * Answering is a pure function of the state and the line (`answerLine`), so a decision log of the
 * lines and their answers replays through the same function (src/audit/verify.ts).
 */
import { LineError, parseLenient } from '../protocol.ts';
import { describeCause } from '../../runtime/errors.ts';
import { DialectError, type Dialect, type Out } from './dialect.ts';

const CONTROL = ['init', 'resume', 'query'] as const;

/** Where the session records each line and its answer before answering (src/audit/dialectLog.ts). */
export interface LineRecorder {
  line(line: number, input: string, answer: Out): void;
}

/**
 * One input line (its number and its text) against the session's state: the next state and the
 * answer, an error answer leaving the state as it was.
 */
export function answerLine<S>(dialect: Dialect<S>, state: S | null, line: number, text: string): readonly [S | null, Out] {
  try {
    return handle(dialect, state, line, text);
  } catch (e) {
    const fail = (kind: string, message: string, raised?: DialectError['raised']): Out => ({ line, ok: false, error: { kind, message, ...(raised ? { raised } : {}) } });
    if (e instanceof LineError) return [state, fail(e.kind, e.message)];
    if (e instanceof DialectError) return [state, fail(e.kind, e.message, e.raised)];
    return [state, fail('internal', describeCause(e))];
  }
}

function handle<S>(dialect: Dialect<S>, state: S | null, line: number, text: string): readonly [S | null, Out] {
  const withState = (s: S): Out => (dialect.state ? { state: dialect.state.encode(s) } : {});
  const inputs = `${dialect.tagKey} (one of ${dialect.inputTags.join(', ')}) or type (one of ${CONTROL.join(', ')})`;
  const u = parseLenient(text);
  if (typeof u !== 'object' || u === null || Array.isArray(u)) throw new LineError('shape', `expected a JSON object with ${inputs}, got ${JSON.stringify(u)}`);
  const o = u as Record<string, unknown>;
  const type = o.type;
  if (typeof type === 'string' && (CONTROL as readonly string[]).includes(type)) {
    switch (type as (typeof CONTROL)[number]) {
      case 'init': {
        const [s, out] = dialect.init(o);
        return [s, { line, ok: true, type, ...out, ...withState(s) }];
      }
      case 'resume': {
        if (dialect.state === null) throw new DialectError('order', `the ${dialect.name} dialect has no state codec: resume with an init line instead (see docs/embedding.md)`);
        const keys = Object.keys(o).filter((k) => k !== 'type' && k !== 'state');
        if (keys.length > 0) throw new DialectError('shape', `resume message: ${keys.map((k) => JSON.stringify(k)).join(', ')} is not a field: expected only type, state`);
        if (o.state === undefined) throw new DialectError('shape', 'resume message: state: got undefined, expected the "state" of an earlier answer');
        const s = dialect.state.decode(o.state);
        return [s, { line, ok: true, type, ...withState(s) }];
      }
      case 'query':
        if (state === null) throw new DialectError('order', 'query before init: send {"type":"init","options":{...}} first');
        return [state, { line, ok: true, type, ...withState(state) }];
    }
  }
  const tag = o[dialect.tagKey];
  if (!dialect.inputTags.includes(tag as string)) {
    const got = tag === undefined && typeof type === 'string' ? `type=${JSON.stringify(type)}` : `${dialect.tagKey}=${JSON.stringify(tag)}`;
    throw new LineError('shape', `${got} is not allowed: expected ${inputs}`);
  }
  if (state === null) throw new DialectError('order', `${tag} before init: send {"type":"init","options":{...}} first (or a resume line)`);
  const [s, out] = dialect.step(state, o);
  return [s, { line, ok: true, type: tag, ...out, ...withState(s) }];
}

/**
 * Serves until the input ends; returns the number of lines answered with an error. With a
 * recorder, each line is recorded before it is answered; a line the recorder cannot take is
 * answered with kind "log" and leaves the state as it was.
 */
export async function serveDialect<S>(input: AsyncIterator<string>, write: (o: Out) => void, dialect: Dialect<S>, recorder?: LineRecorder): Promise<number> {
  let state: S | null = null;
  let lineNo = 0;
  let errors = 0;
  for (;;) {
    const r = await input.next();
    if (r.done) break;
    if (r.value.trim() === '') continue; // blank lines are not counted or answered, as in Lightning mode
    lineNo++;
    const [next, answer]: readonly [S | null, Out] = answerLine(dialect, state, lineNo, r.value);
    if (recorder !== undefined) {
      try {
        recorder.line(lineNo, r.value, answer);
      } catch (e) {
        errors++;
        write({ line: lineNo, ok: false, error: { kind: 'log', message: e instanceof Error ? e.message : describeCause(e) } });
        continue;
      }
    }
    state = next;
    if (answer.ok !== true) errors++;
    write(answer);
  }
  return errors;
}
