/** Plain sentences for effects and their reasons ("epoch 7, step 1400: val_loss 0.412 entered the top 3"). */
import type { Effect, Reason, Trigger } from './effects.ts';
import type { KeepMember } from './notes.ts';

/** A keep member as its option reads. */
export function memberName(m: KeepMember): string {
  switch (m) {
    case 'topK':
      return 'save_top_k';
    case 'latest':
      return 'keep_latest';
    case 'everyNSteps':
      return 'keep_every_n_steps';
    case 'everyNSeconds':
      return 'keep_every_n_seconds';
    case 'steps':
      return 'keep_steps';
    case 'last':
      return 'save_last';
  }
}

const TRIGGERS: Record<Trigger, string> = {
  trainEpochEnd: 'at the end of the training epoch',
  validationEnd: 'after validation',
  deferredToValidationEnd: 'after validation (deferred from a step/time trigger until the monitored value was fresh)',
  everyNTrainSteps: 'on the every_n_train_steps trigger',
  trainTimeInterval: 'on the train_time_interval trigger',
  exception: 'because training raised',
  trainEnd: 'at the end of training',
};

const num = (x: number | null) => (x === null ? 'none' : Number.isFinite(x) ? String(Number(x.toPrecision(6))) : String(x));

export function explainReason(r: Reason): string {
  switch (r.rule) {
    case 'topK':
      return (
        `epoch ${r.epoch}, step ${r.step}: ${r.monitor} ${num(r.score)} ` +
        (r.keepAll ? 'kept (save_top_k=-1 keeps every checkpoint)' : `entered the top ${r.k}`) +
        (r.keepAll ? '' : r.kthValue === null ? ` (fewer than ${r.k} kept)` : ` (beat the k-th value ${num(r.kthValue)})`) +
        ` ${TRIGGERS[r.trigger]}`
      );
    case 'noMonitor':
      return `epoch ${r.epoch}, step ${r.step}: periodic checkpoint (no monitor) ${TRIGGERS[r.trigger]}`;
    case 'last':
      return `epoch ${r.epoch}, step ${r.step}: last checkpoint updated ${TRIGGERS[r.trigger]}`;
    case 'exception':
      return `epoch ${r.epoch}, step ${r.step}: saved because a ${r.exceptionType} was raised (save_on_exception)`;
    case 'displaced':
      return `pushed out of the top k by ${r.by}${r.score === null ? '' : ` (score ${num(r.score)})`}`;
    case 'superseded':
      return `replaced by ${r.by} (${r.series === 'last' ? 'the last checkpoint moved' : 'save_top_k=1 keeps only the newest'})`;
    case 'kept':
      return `epoch ${r.epoch}, step ${r.step}: kept by ${r.members.map(memberName).join(' and ')} ${TRIGGERS[r.trigger]}`;
    case 'released':
      return `no longer kept: ${memberName(r.member)} let go of it when ${r.by} was saved, and no other rule keeps it`;
  }
}

export function explainEffect(e: Effect): string {
  switch (e.type) {
    case 'save':
      return `save   ${e.path}: ${explainReason(e.reason)}`;
    case 'remove':
      return `remove ${e.path}: ${explainReason(e.reason)}`;
    case 'link':
      return `link   ${e.path} -> ${e.relTarget}: ${explainReason(e.reason)}`;
    case 'log':
      return `${e.level.padEnd(6)} ${e.message}`;
    case 'error':
      return `error  ${e.errorType}: ${e.message}`;
  }
}
