/**
 * io-ts codecs for the Orbax dialect's wire shapes, which it types but does not decode: its calls
 * (manager.ts `Call`), the clock and the directory listing `start` takes. Checked against the
 * dialect's own types below, so a change there breaks the build here.
 */
import * as t from 'io-ts';
import type { Call, Clock } from '../../dialects/orbax/manager.ts';
import type { DirEntry } from '../../dialects/orbax/directory.ts';

const Int = t.refinement(t.number, Number.isInteger, 'an integer');
const Seconds = t.refinement(t.number, Number.isFinite, 'a finite number of seconds');
const NonNegSeconds = t.refinement(t.number, (n) => Number.isFinite(n) && n >= 0, 'a non-negative number of seconds');
/** a metric as Python's json writes it; bare NaN/Infinity arrive as the strings Orbax's traces use */
const MetricsCodec = t.union([t.record(t.string, t.union([t.number, t.string, t.null])), t.null]);

export const OrbaxCallCodec = t.union([
  t.intersection([
    t.type({ call: t.literal('save'), step: Int, t: Seconds }),
    t.partial({ metrics: MetricsCodec, force: t.boolean, preempt: t.boolean, fail_write: t.string }),
  ]),
  t.intersection([t.type({ call: t.literal('should_save'), step: Int, t: Seconds }), t.partial({ preempt: t.boolean })]),
  t.type({
    call: t.keyof({ wait_until_finished: null, reload: null, best_step: null, latest_step: null, close: null, crash: null }, 'one of wait_until_finished, reload, best_step, latest_step, close, crash'),
    t: Seconds,
  }),
  t.type({ call: t.literal('delete'), step: Int, t: Seconds }),
]);

export const ClockCodec = t.union(
  [t.type({ save_seconds: NonNegSeconds }), t.type({ async_blocking_seconds: NonNegSeconds, async_write_seconds: NonNegSeconds })],
  '{"save_seconds": s} (synchronous writes) or {"async_blocking_seconds": s, "async_write_seconds": s}',
);

export const DirEntryCodec = t.intersection([
  t.type({ path: t.string, kind: t.keyof({ dir: null, file: null }, '"dir" or "file"') }),
  t.partial({
    files: t.array(t.string),
    empty_dirs: t.array(t.string),
    commit_time: t.number,
    init_time: t.number,
    metrics: MetricsCodec,
    metrics_text: t.string,
    mtime: t.number,
    text: t.string,
  }),
]);

// the codecs decode exactly the dialect's types
const _call = (c: t.TypeOf<typeof OrbaxCallCodec>): Call => c;
const _clock = (c: t.TypeOf<typeof ClockCodec>): Clock => c;
const _entry = (e: t.TypeOf<typeof DirEntryCodec>): DirEntry => e;
void _call, void _clock, void _entry;
