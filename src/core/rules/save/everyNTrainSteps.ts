/** `every_n_train_steps`: due when the global step is a multiple of n; 0 never. */
export function stepDue(n: number, globalStep: number): boolean {
  return n >= 1 && globalStep % n === 0;
}
