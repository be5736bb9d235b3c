/**
 * One fuzz worker: makes each input of one reader from its seed (inputs.ts), runs it in this
 * process under a deadline, and prints one line per input: `ok N …`, `clean N <message>` (an error
 * a user sees as such: the reader's, the options', naming the file when a file was at fault) or
 * `FAIL N <why>` (a stack-trace error, a message that does not name the file, a missed deadline, a
 * heap that grew past its bound). The parent bounds the heap and kills the worker when it stops
 * answering (a synchronous hang). Run with --expose-gc, so the heap bound is checked on live objects. With `cli`, it only writes the inputs and prints `cli N <argv>`.
 *   node --import tsx property-tests/fuzz/worker.ts <reader> <seed> <count> <tmpdir> [from] [cli]
 */
import { mkdirSync, rmSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ConfigError } from '../../src/core/config.ts';
import { SourceError } from '../../src/sources/records.ts';
import { KerasLogError } from '../../src/dialects/keras/log.ts';
import { KerasOptionsError } from '../../src/dialects/keras/options.ts';
import { StepLogError } from '../../src/dialects/orbax/stepLogs.ts';
import { OrbaxSimulationError } from '../../src/dialects/orbax/simulate.ts';
import { TrainerStateError } from '../../src/dialects/transformers/trainerState.ts';
import { PyJsonError } from '../../src/dialects/transformers/pyJson.ts';
import { rng } from './mutations.ts';
import { makeInput, type Outcome, type Reader } from './inputs.ts';

const [reader, seedArg, countArg, tmp, fromArg, mode] = process.argv.slice(2) as [Reader, string, string, string, string?, string?];
const seed = Number(seedArg);
const count = Number(countArg);
const say = (s: string) => writeSync(1, s.replace(/\n/g, '\\n') + '\n');
/** Per input: a result or an error within this, else a failure (the parent's 30 s catches a loop that never yields). */
export const DEADLINE_MS = 15_000;
/** Heap in use after an input: more means memory grows with something it should not. */
const HEAP_BOUND = 384 << 20;
process.env.CKPT_FUZZ_TMP = tmp;

/** Errors of a reader, naming the file it read (and the line or record when there is one). */
const READER_ERRORS = [SourceError, KerasLogError, StepLogError, TrainerStateError, PyJsonError];
/** Errors about options or the simulation's inputs as a whole: they name the field. */
const OPTION_ERRORS = [ConfigError, KerasOptionsError, OrbaxSimulationError];

function outcomeOf(e: unknown, dir: string): Outcome | string {
  if (READER_ERRORS.some((c) => e instanceof c)) return { kind: 'clean', message: (e as Error).message, names: basename(dir) };
  if (OPTION_ERRORS.some((c) => e instanceof c)) return { kind: 'clean', message: (e as Error).message, names: null };
  return e instanceof Error ? (e.stack ?? e.message) : String(e);
}

for (let i = Number(fromArg ?? 0); i < count; i++) {
  const r = rng(seed * 1_000_003 + i);
  const dir = join(tmp, `${reader}-${seed}-${i}`);
  mkdirSync(dir, { recursive: true });
  try {
    const input = await makeInput(reader, r, dir, i);
    if (mode === 'cli') {
      say(`cli ${i} ${JSON.stringify(input.cli)}`);
      continue;
    }
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'late'>((res) => (timer = setTimeout(() => res('late'), DEADLINE_MS)));
    const o: Outcome | string | 'late' = await Promise.race([input.run().catch((e: unknown) => outcomeOf(e, dir)), deadline]);
    clearTimeout(timer);
    let heap = process.memoryUsage().heapUsed;
    if (heap > HEAP_BOUND) {
      // live heap, not garbage waiting for a collection
      (globalThis as { gc?: () => void }).gc?.();
      heap = process.memoryUsage().heapUsed;
    }
    if (o === 'late') say(`FAIL ${i} no result or error within ${DEADLINE_MS / 1000} s`);
    else if (typeof o === 'string') say(`FAIL ${i} ${o}`);
    else if (heap > HEAP_BOUND) say(`FAIL ${i} ${(heap / 2 ** 20).toFixed(0)} MB of heap in use after the input`);
    else if (o.kind === 'ok') say(`ok ${i} ${o.note}`);
    else if (o.names !== null && !o.message.includes(o.names)) say(`FAIL ${i} the error does not name the file (${o.names}): ${o.message.slice(0, 300)}`);
    else say(`clean ${i} ${o.message.slice(0, 200)}`);
  } catch (e) {
    say(`FAIL ${i} making the input: ${e instanceof Error ? e.stack : String(e)}`);
  } finally {
    if (mode !== 'cli') rmSync(dir, { recursive: true, force: true });
  }
}
say('done');
