/** `every_n_epochs`: due when `(epoch + 1) % n == 0`; 0 never (a step or time trigger is used). */
import type { NotDue } from '../../notes.ts';

export function epochNotDue(n: number, epoch: number): NotDue | null {
  return n >= 1 && (epoch + 1) % n === 0 ? null : { trigger: 'everyNEpochs', n, epoch };
}
