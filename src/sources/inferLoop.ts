/**
 * What the first records of a fit show about its loop, where the facts leave it open: validations
 * per epoch (val_check_interval in batches), validation every n epochs, batches per epoch (from
 * epoch ends the log pins down), no validation at all; and whether rows carry the global step
 * itself rather than the step before it (as after a resume from a checkpoint written on an
 * exception). Reads the groups held back before the first hook; each inference is explained in
 * `facts.inferred`.
 */
import { valCheckBatch } from './loopFacts.ts';
import { classify, kindsOf, moduleEpochOf, type Group } from './recordKinds.ts';
import type { ReconstructOptions, ResolvedFacts } from './timeline.ts';

export interface InferredLoop {
  readonly facts: ResolvedFacts;
  /** logged step = global step - stepOffset */
  readonly stepOffset: 0 | 1;
  /** the epoch of the first module row, null when the held records have none */
  readonly firstEpoch: number | null;
  /** the global step of the first module row */
  readonly firstG: number | null;
}

/** Infers the loop facts the options leave open from the groups held back at the start of a fit. */
export function inferLoop(held: readonly Group[], opts: ReconstructOptions): InferredLoop {
  const f = opts.facts;
  const given = opts.given;
  const inferred: string[] = [];
  const off = opts.resume && opts.resume.exceptionStep !== null ? 0 : 1;
  interface EpochInfo {
    vals: number[];
    firstG: number;
    lastG: number;
    lastHasAgg: boolean;
    lastHasVal: boolean;
  }
  const epochs = new Map<number, EpochInfo>();
  let firstEpoch: number | null = null;
  let firstG: number | null = null;
  for (const grp of held) {
    const c = kindsOf(grp, opts.role);
    const ep = moduleEpochOf(grp, c);
    if (ep === null) continue;
    const x = grp.step + off;
    if (firstEpoch === null) [firstEpoch, firstG] = [ep, x];
    let info = epochs.get(ep);
    if (!info) epochs.set(ep, (info = { vals: [], firstG: x, lastG: x, lastHasAgg: false, lastHasVal: false }));
    const hasVal = c.includes('val');
    if (hasVal) info.vals.push(x);
    info.lastG = x;
    info.lastHasAgg = c.includes('epoch');
    info.lastHasVal = hasVal;
  }
  const sorted = [...epochs.keys()].sort((a, b) => a - b);
  const complete = sorted.slice(0, -1); // the last held epoch may go on past what is held
  let vci = f.valCheckInterval;
  let cve = f.checkValEveryNEpoch;
  const most = complete.reduce((m, e) => Math.max(m, epochs.get(e)!.vals.length), 0);
  if (!given.has('valCheckInterval') && most >= 2) {
    const e = complete.find((x) => epochs.get(x)!.vals.length >= 2)!;
    const v = epochs.get(e)!.vals;
    vci = { kind: 'batches', value: v[1]! - v[0]! };
    inferred.push(`val_check_interval=${vci.value} (batches): the log validates ${most} times in epoch ${e}`);
  }
  const anyVal = sorted.some((e) => epochs.get(e)!.vals.length > 0);
  if (!given.has('checkValEveryNEpoch') && anyVal && complete.length >= 2) {
    const withVal = complete.filter((e) => epochs.get(e)!.vals.length > 0);
    const without = complete.filter((e) => epochs.get(e)!.vals.length === 0);
    if (without.length > 0 && withVal.length > 0) {
      for (let k = 2; k <= 1000; k++) {
        if (withVal.every((e) => (e + 1) % k === 0) && without.every((e) => (e + 1) % k !== 0)) {
          cve = k;
          inferred.push(`check_val_every_n_epoch=${k}: the log validates only in epochs ${withVal.join(', ')}`);
          break;
        }
      }
    }
  }
  let N = f.numTrainingBatches;
  if (N === null && firstEpoch === 0 && opts.resume === undefined) {
    // an epoch end the log pins down gives the batches per epoch of a run that started at step 0
    const cands = new Set<number>();
    for (let i = 0; i < sorted.length - 1; i++) {
      const e = sorted[i]!;
      if (sorted[i + 1] !== e + 1) continue;
      const info = epochs.get(e)!;
      const nextInfo = epochs.get(e + 1)!;
      const valAtEndOnly = vci.kind === 'fraction' && vci.value === 1;
      const exact = info.lastHasAgg || (info.lastHasVal && valAtEndOnly) || info.lastG === nextInfo.firstG - 1;
      if (exact) cands.add(info.lastG / (e + 1));
      else if (vci.kind === 'batches' && cve !== null && nextInfo.vals.length > 0) {
        // validation counts batches from each epoch's start: the next epoch's first one is v batches in
        const end = nextInfo.vals[0]! - vci.value;
        if (end >= info.lastG && end < nextInfo.firstG) cands.add(end / (e + 1));
      }
    }
    const only = cands.size === 1 ? [...cands][0]! : NaN;
    if (Number.isInteger(only) && only > 0) {
      N = only;
      inferred.push(`num_training_batches=${N}: where the log's first epochs end`);
    }
  }
  let numValBatches = f.numValBatches;
  if (numValBatches === null && !given.has('limitValBatches') && !given.has('numValBatches') && !anyVal && complete.length >= 1) {
    numValBatches = 0;
    inferred.push('no validation: the log has no validation rows');
  }
  const facts = { ...f, valCheckInterval: vci, checkValEveryNEpoch: cve, numTrainingBatches: N, numValBatches, inferred };
  let offset: 0 | 1 = off;
  const startsMidRun = opts.resume !== undefined || (firstEpoch !== null && firstEpoch > 0);
  if (off === 1 && N !== null && startsMidRun) {
    // after a resume from a checkpoint written mid-batch (on an exception), Lightning's logging
    // counter runs one ahead: validation rows then sit at the global step itself
    const vcb = valCheckBatch({ ...f, valCheckInterval: vci }, N);
    const fitsOffset = (o: number) => {
      let n = 0;
      for (const grp of held) {
        const c = classify(grp, opts.role);
        const v = c.find((k) => k.kind === 'val');
        if (!v || v.record.epoch === null) continue;
        const b = grp.step + o - v.record.epoch * N;
        const cveOk = cve === null || (v.record.epoch + 1) % cve === 0;
        if (cveOk && b >= 1 && b <= N && (vcb >= N ? b === N : b % vcb === 0)) n++;
      }
      return n;
    };
    if (fitsOffset(0) > fitsOffset(1)) {
      offset = 0;
      inferred.push('rows carry step = global step (not global step - 1): Lightning logs so after resuming from a checkpoint written mid-batch, on an exception');
    }
  }
  return { facts, stepOffset: offset, firstEpoch, firstG: firstG === null ? null : firstG - off + offset };
}
