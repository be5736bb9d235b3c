/**
 * One fuzz worker: replays mutated real logs and policy texts through the readers, the loop
 * reconstruction and the simulation in this process, one input after another, and prints one line
 * per input: `ok N`, `clean N <message>` (a SourceError / ConfigError / text issue: what a user
 * sees) or `FAIL N <error and stack>`. The parent bounds its time and heap and kills it on a hang.
 *   node --import tsx property-tests/fuzz/worker.ts <csv|policy> <seed> <count> <tmpdir> [from]
 */
import { readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { ConfigError, parseConfig } from '../../src/core/config.ts';
import { parsePolicyText } from '../../src/policyFile.ts';
import { openLog } from '../../src/sources/open.ts';
import { SourceError } from '../../src/sources/records.ts';
import { simulate } from '../../src/simulate/run.ts';
import { mutateCsv, mutateText, rng, DATA } from './mutations.ts';

const [kind, seedArg, countArg, tmp, fromArg] = process.argv.slice(2);
const seed = Number(seedArg);
const count = Number(countArg);
const say = (s: string) => writeSync(1, s.replace(/\n/g, '\\n') + '\n');

const csvFiles = readdirSync(join(DATA, 'lightning-csv')).filter((f) => f.endsWith('.csv')).map((f) => join(DATA, 'lightning-csv', f));
const POLICIES = ["monitor: val_loss\nsave_top_k: 3\nsave_last: true\nfilename: '{epoch:02d}-{val_loss:.3f}'\n", '{"monitor": "train_loss", "mode": "max", "every_n_train_steps": 50, "save_top_k": -1}\n', 'monitor: &m val_loss\nsave_top_k: 2\nfilename: "{epoch}-{step}"\nauto_insert_metric_name: false\n'];

for (let i = Number(fromArg ?? 0); i < count; i++) {
  const r = rng(seed * 1_000_003 + i);
  try {
    if (kind === 'csv') {
      const src = csvFiles[Math.floor(r() * csvFiles.length)]!;
      const text = readFileSync(src, 'utf8');
      const header = text.slice(0, text.indexOf('\n')).split(',');
      const metric = header.find((h) => h !== 'epoch' && h !== 'step' && h.trim() !== '') ?? 'val_loss';
      const path = join(tmp!, `in-${seed}-${i}.csv`);
      writeFileSync(path, mutateCsv(text, r));
      const res = await simulate({ policies: [{ name: 'p', config: parseConfig({ monitor: metric.trim(), save_top_k: 2, every_n_train_steps: r() < 0.3 ? 1 : 0 }) }], logs: openLog(path), cwd: tmp! });
      rmSync(path, { force: true });
      say(`ok ${i} ${res.policies[0]!.kept.length}`);
    } else {
      const text = mutateText(POLICIES[Math.floor(r() * POLICIES.length)]!, r);
      const p = parsePolicyText(text, 'policy.yaml');
      say(E.isLeft(p) ? `clean ${i} ${p.left[0]?.message ?? ''}` : `ok ${i}`);
    }
  } catch (e) {
    if (e instanceof SourceError || e instanceof ConfigError) say(`clean ${i} ${e.message.slice(0, 200)}`);
    else say(`FAIL ${i} ${e instanceof Error ? e.stack : String(e)}`);
  }
}
say('done');
