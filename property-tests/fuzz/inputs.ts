/**
 * What one fuzz input of each reader is: a seeded mutation of a real log or options text, written to
 * a file, then read and run in process the way the CLI or the library's caller would. Each maker
 * also gives the `ckpt` command that reads the same file, when there is one (run.ts runs a few of
 * them in a real process under a heap limit).
 */
import { readdirSync, readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { parseConfig } from '../../src/core/config.ts';
import { parsePolicyText } from '../../src/policyFile.ts';
import { openLog } from '../../src/sources/open.ts';
import { readCsvLog } from '../../src/sources/csv.ts';
import { encodeLoopEvent } from '../../src/sources/jsonl.ts';
import { LoopReconstructor } from '../../src/sources/reconstruct.ts';
import { DEFAULT_RUN, fitFacts, parseTrainerText } from '../../src/sources/loopFacts.ts';
import { metricRoles } from '../../src/sources/roles.ts';
import { issueText } from '../../src/sources/structuredText.ts';
import { simulate } from '../../src/simulate/run.ts';
import { readKerasLog } from '../../src/dialects/keras/logs.ts';
import { simulateKerasLog } from '../../src/dialects/keras/simulate.ts';
import { readOrbaxStepsJsonl, readOrbaxStepsTfevents } from '../../src/dialects/orbax/stepLogs.ts';
import { simulateOrbaxSteps } from '../../src/dialects/orbax/simulate.ts';
import { auditTrainerOutputDir } from '../../src/dialects/transformers/auditOutputDir.ts';
import { resolveArgs } from '../../src/dialects/transformers/args.ts';
import { parseStructured } from '../../src/sources/structuredText.ts';
import { mutateCsv, mutateText, DATA } from './mutations.ts';
import { mutateJson } from './structured.ts';
import { mutateEvents, payloads, scalarTags } from './eventFiles.ts';

export const READERS = ['csv', 'tfevents', 'jsonl', 'trainer-state', 'keras', 'orbax', 'policy', 'trainer'] as const;
export type Reader = (typeof READERS)[number];

/** `ok`: a result; `clean`: an error a user sees as such (the message is checked by the caller). */
export type Outcome = { readonly kind: 'ok'; readonly note: string } | { readonly kind: 'clean'; readonly message: string; readonly names: string | null };

export interface Input {
  /** runs the input in this process */
  readonly run: () => Promise<Outcome>;
  /** the same file through `ckpt` (argv after the command name), or null */
  readonly cli: readonly string[] | null;
}

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const files = (dir: string, re: RegExp) => (existsSync(dir) ? readdirSync(dir).filter((f) => re.test(f)).sort().map((f) => join(dir, f)) : []);
/** Long logs are cut to their first rows: the readers' costs grow with length, the bugs do not. */
const MAX_LINES = 200;
const head = (text: string, n = MAX_LINES) => text.split('\n').slice(0, n).join('\n');
const cache = new Map<string, unknown>();
const once = <T>(key: string, make: () => T): T => (cache.has(key) ? (cache.get(key) as T) : (cache.set(key, make()), cache.get(key) as T));

export const sourcesOf = (reader: Reader): string[] => {
  switch (reader) {
    case 'csv':
    case 'jsonl':
      return files(join(DATA, 'lightning-csv'), /\.csv$/);
    case 'tfevents':
      return readdirSync(join(DATA, 'tfevents')).flatMap((d) => files(join(DATA, 'tfevents', d), /^events\.out\.tfevents\./));
    case 'trainer-state':
      return files(join(DATA, 'hf-trainer-state'), /\.json$/);
    case 'keras':
      return files(join(DATA, 'keras-logs'), /\.(csv|json)$/);
    case 'orbax':
      return [...files(join(DATA, 'lightning-csv'), /\.csv$/), ...sourcesOf('tfevents')];
    case 'policy':
    case 'trainer':
      return [];
  }
};

/** The first metric column of a CSV header that is not epoch or step. */
const firstMetric = (text: string) => text.slice(0, text.indexOf('\n')).split(',').map((h) => h.trim()).find((h) => h !== 'epoch' && h !== 'step' && h !== '') ?? 'val_loss';

/** A real Lightning log as the JSON lines of loop events the same run would give (a setup, then the reconstructed hooks). */
async function loopEventLines(csv: string): Promise<string[]> {
  const text = head(readFileSync(csv, 'utf8'));
  const tmp = join(process.env.CKPT_FUZZ_TMP!, `src-${basename(csv)}`);
  writeFileSync(tmp, text);
  const rec = new LoopReconstructor({ facts: fitFacts(DEFAULT_RUN, 0), given: DEFAULT_RUN.given, role: metricRoles(), stepTriggers: [], watch: [firstMetric(text)] });
  const out = ['{"type":"setup","stage":"fit"}'];
  const take = (items: ReturnType<LoopReconstructor['push']>) => {
    for (const it of items) if (it.kind === 'event') out.push(encodeLoopEvent(it.event));
  };
  for await (const b of readCsvLog(tmp)) take(rec.push(b));
  take(rec.end());
  return out;
}

/** A real Lightning log's rows as Orbax step lines `{step, metrics}`. */
function orbaxLines(csv: string): string[] {
  const [header, ...rows] = head(readFileSync(csv, 'utf8')).split(/\r?\n/);
  const cols = header!.split(',');
  const si = cols.indexOf('step');
  return rows.filter((l) => l.trim() !== '').map((l) => {
    const cells = l.split(',');
    const metrics: Record<string, number | string> = {};
    cols.forEach((c, i) => {
      if (i !== si && c !== 'epoch' && cells[i] !== undefined && cells[i] !== '') metrics[c] = Number.isFinite(Number(cells[i])) ? Number(cells[i]) : String(Number(cells[i]));
    });
    return JSON.stringify({ step: si >= 0 ? Number(cells[si]) : 0, metrics });
  });
}

/** Line mutations (mutateCsv's) and, on some lines, JSON mutations. */
function mutateLines(lines: readonly string[], r: () => number): string {
  const ls = [...lines];
  for (let k = 0; k < 1 + r() * 2; k++) {
    const i = Math.floor(r() * ls.length);
    if (r() < 0.5) ls[i] = mutateJson(ls[i]!, r);
  }
  return r() < 0.6 ? mutateCsv(ls.join('\n'), r) : ls.join('\n');
}

const SIM_POLICY = (monitor: string, r: () => number) => parseConfig({ monitor, save_top_k: pick(r, [1, 2, -1]), save_last: r() < 0.5, every_n_train_steps: r() < 0.3 ? 1 : 0 });
const policyArg = (monitor: string) => JSON.stringify({ monitor, save_top_k: 2, save_last: true });

async function simulated(path: string, monitor: string, r: () => number): Promise<Outcome> {
  const res = await simulate({ policies: [{ name: 'p', config: SIM_POLICY(monitor, r) }], logs: openLog(path), cwd: process.env.CKPT_FUZZ_TMP! });
  return { kind: 'ok', note: `${res.policies[0]!.kept.length} kept` };
}

/** Options texts of every dialect, as a user would paste them. */
const POLICIES = [
  "monitor: val_loss\nsave_top_k: 3\nsave_last: true\nfilename: '{epoch:02d}-{val_loss:.3f}'\n",
  '{"monitor": "train_loss", "mode": "max", "every_n_train_steps": 50, "save_top_k": -1}\n',
  'monitor: &m val_loss\nsave_top_k: 2\nfilename: "{epoch}-{step}"\nauto_insert_metric_name: false\n',
  "dialect: keras\nfilepath: 'ckpt/model-{epoch:02d}-{val_loss:.2f}.keras'\nmonitor: val_loss\nsave_best_only: true\nmode: min\nsave_freq: epoch\n",
  '{"dialect": "keras", "filepath": "w.{epoch}.weights.h5", "save_weights_only": true, "initial_value_threshold": 0.5}\n',
  'dialect: orbax\nmax_to_keep: 3\nsave_interval_steps: 1000\nkeep_period: 5000\nbest_fn: {metric: eval_loss}\nbest_mode: min\n',
  '{"dialect": "orbax", "preservation_policy": {"type": "LatestDuration", "seconds": 3600}, "save_decision_policy": {"type": "FixedIntervalPolicy", "interval": 100}}\n',
  'dialect: transformers\nsave_strategy: steps\nsave_steps: 500\nsave_total_limit: 2\nload_best_model_at_end: true\neval_strategy: steps\neval_steps: 500\nmetric_for_best_model: eval_loss\n',
  '{"dialect": "transformers", "save_strategy": "epoch", "eval_strategy": "epoch", "greater_is_better": true, "metric_for_best_model": "accuracy", "save_only_model": true}\n',
];

/** Loop facts and TrainingArguments files (`--trainer`, `ckpt audit trainer --args`). */
const TRAINERS = [
  'max_epochs: 10\nval_check_interval: 0.5\nnum_training_batches: 100\nlog_every_n_steps: 10\n',
  '{"max_steps": 5000, "check_val_every_n_epoch": 2, "limit_val_batches": 0.25, "num_val_batches": [4]}\n',
  'fits:\n  - max_epochs: 3\n  - max_epochs: 6\n    ckpt_path: last\n',
];
const ARGS = [
  'save_strategy: steps\nsave_steps: 500\nsave_total_limit: 2\neval_strategy: steps\neval_steps: 500\nmetric_for_best_model: loss\nload_best_model_at_end: true\n',
  '{"save_strategy": "epoch", "eval_strategy": "epoch", "save_total_limit": 1, "greater_is_better": false}\n',
];

export async function makeInput(reader: Reader, r: () => number, dir: string, i: number): Promise<Input> {
  const src = () => pick(r, sourcesOf(reader));
  switch (reader) {
    case 'csv': {
      const s = src();
      const text = head(readFileSync(s, 'utf8'));
      const path = join(dir, `in-${i}.csv`);
      writeFileSync(path, mutateCsv(text, r));
      const m = firstMetric(text);
      return { run: () => simulated(path, m, r), cli: ['simulate', '--policy', policyArg(m), path] };
    }
    case 'tfevents': {
      const s = src();
      const ps = once(`tf:${s}`, () => payloads(readFileSync(s), MAX_LINES));
      const tags = once(`tags:${s}`, () => scalarTags(ps));
      const path = join(dir, `events.out.tfevents.${i}.fuzz`);
      writeFileSync(path, mutateEvents(ps, r));
      const m = pick(r, tags.length ? tags : ['val_loss']);
      return { run: () => simulated(path, m, r), cli: ['simulate', '--policy', policyArg(m), path] };
    }
    case 'jsonl': {
      const s = src();
      let lines = cache.get(`jsonl:${s}`) as string[] | undefined;
      if (lines === undefined) cache.set(`jsonl:${s}`, (lines = await loopEventLines(s)));
      const path = join(dir, `in-${i}.jsonl`);
      writeFileSync(path, mutateLines(lines, r));
      const m = firstMetric(readFileSync(s, 'utf8'));
      return { run: () => simulated(path, m, r), cli: ['simulate', '--policy', policyArg(m), path] };
    }
    case 'trainer-state': {
      const s = src();
      const out = join(dir, `out-${i}`);
      mkdirSync(join(out, 'checkpoint-500'), { recursive: true });
      const text = readFileSync(s, 'utf8');
      const mutated = r() < 0.7 ? mutateJson(text, r) : text;
      writeFileSync(join(out, 'trainer_state.json'), r() < 0.5 ? mutateText(mutated, r) : mutated);
      const args = join(dir, `args-${i}.yaml`);
      writeFileSync(args, pick(r, ARGS));
      return {
        run: async () => {
          const rep = auditTrainerOutputDir(out, args);
          const why = rep.unreadable ?? '';
          // a run the arguments make transformers raise on is the simulation's answer, not a reading problem
          return rep.exitCode === 2 ? { kind: 'clean', message: why, names: why.startsWith('the arguments make') ? null : 'trainer_state.json' } : { kind: 'ok', note: rep.status };
        },
        cli: ['audit', 'trainer', out, '--args', args],
      };
    }
    case 'keras': {
      const s = src();
      const json = s.endsWith('.json');
      const text = readFileSync(s, 'utf8');
      const path = join(dir, `in-${i}${json ? '.json' : '.csv'}`);
      writeFileSync(path, json ? (r() < 0.7 ? mutateJson(text, r) : mutateText(text, r)) : mutateCsv(head(text), r));
      const m = firstMetric(json ? 'x\n' : text);
      const monitor = json ? pick(r, ['val_loss', 'loss', 'val_accuracy']) : m;
      const options = { filepath: pick(r, ['m-{epoch:02d}.keras', 'best.keras', 'w-{epoch}-{' + monitor + ':.3f}.weights.h5']), monitor, save_best_only: r() < 0.6, mode: pick(r, ['auto', 'min', 'max']) };
      return {
        run: async () => {
          const sim = simulateKerasLog(options, await readKerasLog(path));
          return { kind: 'ok', note: sim._tag };
        },
        cli: null,
      };
    }
    case 'orbax': {
      const s = src();
      const fromEvents = !s.endsWith('.csv');
      const path = join(dir, fromEvents ? `events.out.tfevents.${i}.orbax` : `steps-${i}.jsonl`);
      let metric: string;
      if (fromEvents) {
        const ps = once(`tf:${s}`, () => payloads(readFileSync(s), MAX_LINES));
        metric = pick(r, once(`tags:${s}`, () => scalarTags(ps)));
        writeFileSync(path, mutateEvents(ps, r));
      } else {
        metric = firstMetric(readFileSync(s, 'utf8'));
        writeFileSync(path, mutateLines(once(`orbax:${s}`, () => orbaxLines(s)), r));
      }
      const options = { max_to_keep: pick(r, [1, 2, 3]), save_interval_steps: pick(r, [1, 10, 100]), keep_period: pick(r, [undefined, 50]), best_fn: r() < 0.6 ? { metric } : undefined, best_mode: pick(r, ['min', 'max']) };
      return {
        run: async () => {
          const steps = fromEvents ? await readOrbaxStepsTfevents(path) : await readOrbaxStepsJsonl(path);
          const sim = simulateOrbaxSteps(JSON.parse(JSON.stringify(options)), steps);
          return { kind: 'ok', note: `${sim.kept?.length ?? 0} kept` };
        },
        cli: null,
      };
    }
    case 'policy': {
      const text = mutateText(pick(r, POLICIES), r);
      const path = join(dir, `policy-${i}.yaml`);
      writeFileSync(path, text);
      return {
        run: async () => {
          const p = parsePolicyText(text, path);
          return E.isLeft(p) ? { kind: 'clean', message: p.left.map(issueText).join('\n'), names: basename(path) } : { kind: 'ok', note: p.right.name };
        },
        cli: ['simulate', '--policy', path, join(DATA, 'lightning-csv', '01-glitch-classification.csv')],
      };
    }
    case 'trainer': {
      const args = r() < 0.4;
      const text = mutateText(pick(r, args ? ARGS : TRAINERS), r);
      const path = join(dir, `${args ? 'args' : 'trainer'}-${i}.yaml`);
      writeFileSync(path, text);
      return {
        run: async () => {
          if (args) {
            const doc = parseStructured(text, path);
            if (!doc.ok) return { kind: 'clean', message: doc.issues.map(issueText).join('\n'), names: basename(path) };
            const a = resolveArgs(doc.doc.value);
            return a.ok ? { kind: 'ok', note: 'args' } : { kind: 'clean', message: a.issues.map((x) => x.message).join('\n'), names: null };
          }
          const t = parseTrainerText(text, path);
          return E.isLeft(t) ? { kind: 'clean', message: t.left.map(issueText).join('\n'), names: basename(path) } : { kind: 'ok', note: `${t.right.fits.length} fits` };
        },
        cli: args ? null : ['simulate', '--policy', '{monitor: val_loss}', '--trainer', path, join(DATA, 'lightning-csv', '01-glitch-classification.csv')],
      };
    }
  }
}
