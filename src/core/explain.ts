/** Plain sentences for effects and their reasons ("epoch 7, step 1400: val_loss 0.412 entered the top 3"). */
import type { Effect, Reason, Trigger } from './effects.ts';

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
