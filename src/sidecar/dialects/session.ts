/**
 * The line loop of `ckpt serve --stdio --dialect NAME`: decide mode for a framework dialect. Each
 * input line is answered by exactly one output line. Control lines (`type`): `init` (the
 * framework's options, in its own names), `resume` (a state an answer carried, where the dialect
 * has a state codec), `query` (the current state). Every other line is one of the dialect's events
 * or calls, named by its discriminant (`_tag`, `call` or `type`), decoded with the dialect's codec
 * and answered with the dialect's effects or outputs, and the state to resume from.
 */
import { LineError, parseLenient } from '../protocol.ts';
import { describeCause } from '../../runtime/errors.ts';
import { DialectError, type Dialect, type Out } from './dialect.ts';

const CONTROL = ['init', 'resume', 'query'] as const;

/** Serves until the input ends; returns the number of lines answered with an error. */
export async function serveDialect<S>(input: AsyncIterator<string>, write: (o: Out) => void, dialect: Dialect<S>): Promise<number> {
  let state: S | null = null;
  let lineNo = 0;
  let errors = 0;
  const fail = (line: number, kind: string, message: string, raised?: DialectError['raised']) => {
    errors++;
    write({ line, ok: false, error: { kind, message, ...(raised ? { raised } : {}) } });
  };
  const withState = (s: S): Out => (dialect.state ? { state: dialect.state.encode(s) } : {});
  const inputs = `${dialect.tagKey} (one of ${dialect.inputTags.join(', ')}) or type (one of ${CONTROL.join(', ')})`;

  const handle = (line: number, text: string) => {
    const u = parseLenient(text);
    if (typeof u !== 'object' || u === null || Array.isArray(u)) throw new LineError('shape', `expected a JSON object with ${inputs}, got ${JSON.stringify(u)}`);
    const o = u as Record<string, unknown>;
    const type = o.type;
    if (typeof type === 'string' && (CONTROL as readonly string[]).includes(type)) {
      switch (type as (typeof CONTROL)[number]) {
        case 'init': {
          const [s, out] = dialect.init(o);
          state = s;
          return write({ line, ok: true, type, ...out, ...withState(s) });
        }
        case 'resume': {
          if (dialect.state === null) throw new DialectError('order', `the ${dialect.name} dialect has no state codec: resume with an init line instead (see docs/embedding.md)`);
          const keys = Object.keys(o).filter((k) => k !== 'type' && k !== 'state');
          if (keys.length > 0) throw new DialectError('shape', `resume message: ${keys.map((k) => JSON.stringify(k)).join(', ')} is not a field: expected only type, state`);
          if (o.state === undefined) throw new DialectError('shape', 'resume message: state: got undefined, expected the "state" of an earlier answer');
          state = dialect.state.decode(o.state);
          return write({ line, ok: true, type, ...withState(state) });
        }
        case 'query':
          if (state === null) throw new DialectError('order', 'query before init: send {"type":"init","options":{...}} first');
          return write({ line, ok: true, type, ...withState(state) });
      }
    }
    const tag = o[dialect.tagKey];
    if (!dialect.inputTags.includes(tag as string)) {
      const got = tag === undefined && typeof type === 'string' ? `type=${JSON.stringify(type)}` : `${dialect.tagKey}=${JSON.stringify(tag)}`;
      throw new LineError('shape', `${got} is not allowed: expected ${inputs}`);
    }
    if (state === null) throw new DialectError('order', `${tag} before init: send {"type":"init","options":{...}} first (or a resume line)`);
    const [s, out] = dialect.step(state, o);
    state = s;
    write({ line, ok: true, type: tag, ...out, ...withState(s) });
  };

  for (;;) {
    const r = await input.next();
    if (r.done) break;
    lineNo++;
    if (r.value.trim() === '') {
      lineNo--; // blank lines are not counted or answered, as in Lightning mode
      continue;
    }
    try {
      handle(lineNo, r.value);
    } catch (e) {
      if (e instanceof LineError) fail(lineNo, e.kind, e.message);
      else if (e instanceof DialectError) fail(lineNo, e.kind, e.message, e.raised);
      else fail(lineNo, 'internal', describeCause(e));
    }
  }
  return errors;
}
