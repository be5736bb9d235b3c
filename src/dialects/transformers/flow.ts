/**
 * Save decision, part 1: DefaultFlowCallback. Which of log / evaluate / save / stop a step end or an
 * epoch end asks for, from the TrainerState interval values (ratios already turned into steps).
 */
import type { ResolvedArgs } from './args.ts';

export interface Control {
  readonly log: boolean;
  readonly evaluate: boolean;
  readonly save: boolean;
  readonly epochStop: boolean;
  readonly trainingStop: boolean;
}

export const NO_CONTROL: Control = { log: false, evaluate: false, save: false, epochStop: false, trainingStop: false };

/** The trace's spelling: names without `should_`, in TrainerControl's field order. */
export function controlNames(c: Control): string[] {
  const out: string[] = [];
  if (c.log) out.push('log');
  if (c.evaluate) out.push('evaluate');
  if (c.save) out.push('save');
  if (c.epochStop) out.push('epoch_stop');
  if (c.trainingStop) out.push('training_stop');
  return out;
}

/** The interval values DefaultFlowCallback reads from TrainerState. */
export interface Plan {
  readonly maxSteps: number;
  readonly numTrainEpochs: number;
  readonly loggingSteps: number;
  readonly evalSteps: number;
  readonly saveSteps: number;
}

/** on_step_begin clears log/evaluate/save; on_step_end sets them for step `s`. */
export function onStepEnd(args: ResolvedArgs, plan: Plan, c: Control, s: number): Control {
  let { log, evaluate, save, trainingStop } = { ...c, log: false, evaluate: false, save: false };
  if ((s === 1 && args.logging_first_step) || (args.logging_strategy === 'steps' && s % plan.loggingSteps === 0)) log = true;
  if (args.eval_strategy === 'steps' && s % plan.evalSteps === 0 && args.eval_delay <= s) evaluate = true;
  if (args.save_strategy === 'steps' && plan.saveSteps > 0 && s % plan.saveSteps === 0) save = true;
  if (s >= plan.maxSteps) {
    trainingStop = true;
    // the last step is always saved with the steps strategy
    if (args.save_strategy === 'steps') save = true;
  }
  return { ...c, log, evaluate, save, trainingStop };
}

/** on_epoch_end: flags not consumed since stay set. */
export function onEpochEnd(args: ResolvedArgs, c: Control, epoch: number): Control {
  return {
    ...c,
    log: c.log || args.logging_strategy === 'epoch',
    evaluate: c.evaluate || (args.eval_strategy === 'epoch' && args.eval_delay <= epoch),
    save: c.save || args.save_strategy === 'epoch',
  };
}

/** set_initial_training_values: optimizer steps per epoch, max_steps, epochs, and the intervals (ratios of max_steps). */
export function initialPlan(args: ResolvedArgs, trainBatches: number): Plan {
  const perEpoch = Math.max(Math.ceil(trainBatches / args.gradient_accumulation_steps), 1);
  const [maxSteps, numTrainEpochs] =
    args.max_steps > 0
      ? [args.max_steps, Math.floor(args.max_steps / perEpoch) + (args.max_steps % perEpoch > 0 ? 1 : 0)]
      : [Math.ceil(args.num_train_epochs * perEpoch), Math.ceil(args.num_train_epochs)];
  const abs = (v: number | null): number => (v === null ? 500 : v < 1 ? Math.ceil(maxSteps * v) : v);
  return { maxSteps, numTrainEpochs, loggingSteps: abs(args.logging_steps), evalSteps: abs(args.eval_steps), saveSteps: abs(args.save_steps) };
}
