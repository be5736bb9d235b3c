/**
 * A crash trial's training process: trains the trial's loop (plan.ts) with a real Checkpointer on
 * the filesystem store, resuming from the newest checkpoint, and says on stdout (synchronous
 * writes, so the parent knows how far it got when it kills it) each moment: `phase start`, `phase
 * resume` (the folder holds checkpoints) or `phase open`, `resumed KEY INDEX` or `fresh`, `event I`
 * before each loop event, `done I` after it, `finished` after close().
 *   node test/crash-trials/child.ts <dir> <seed>   (run.ts runs an esbuild bundle of it)
 */
import { readdirSync, writeSync } from 'node:fs';
import { openFsStore } from '../../plugins/fs/index.ts';
import { Checkpointer, type CaptureRequest } from '../../src/runtime/index.ts';
import type { Payload } from '../../src/core/store.ts';
import { checkpointBytes, planEvents, trialPlan, verifiedRecord } from './plan.ts';

const say = (s: string) => writeSync(1, s + '\n');
say('phase start');
const [dir, seedArg] = process.argv.slice(2);
const plan = trialPlan(Number(seedArg));
const { events, trainer } = planEvents(plan);
say(readdirSync(dir!).some((n) => n.endsWith('.ckpt')) ? 'phase resume' : 'phase open');
const ck = await Checkpointer.open({
  options: plan.options,
  store: await openFsStore({ root: dir! }),
  capture: ({ record }: CaptureRequest): Payload => ({ kind: 'bytes', data: checkpointBytes(record, plan.pad) }),
  readRecord: (p: Payload) => (p.kind === 'bytes' ? verifiedRecord(p.data)?.record : undefined),
  resume: 'latest',
  background: plan.background ? { maxInFlight: 2 } : false,
  trainer,
  log: () => undefined,
});
let from = 0;
if (ck.resumed) {
  const r = ck.resumed.record;
  let at = -1;
  events.forEach((e, i) => {
    if (e.type === r.event && 'view' in e && e.view?.epoch === r.epoch && e.view.globalStep === r.globalStep) at = i;
  });
  if (at < 0) throw new Error(`resumed from ${ck.resumed.key}, a moment this loop does not have (${r.event} at epoch ${r.epoch}, step ${r.globalStep})`);
  say(`resumed ${ck.resumed.key} ${at}`);
  from = at + 1;
  const next = events[from];
  await ck.trainStarted({ epoch: next && 'view' in next && next.view ? next.view.epoch : r.epoch, globalStep: r.globalStep });
} else say('fresh');
for (let i = from; i < events.length; i++) {
  const e = events[i]!;
  say(`event ${i}`);
  await ck.report(e);
  say(`done ${i}`);
}
await ck.close();
say('finished');
