/** An Orbax union policy and a Lightning top-k on the same log: each keeps what its rules say, computed here independently. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { simulateOrbaxSteps } from '../src/dialects/orbax/simulate.ts';
import { simulateLightningSteps } from '../src/dialects/orbax/lightningSteps.ts';

const steps = Array.from({ length: 20 }, (_, i) => (i + 1) * 250).map((step) => ({ step, metrics: { val_loss: Number((1 / (1 + step / 1000) + 0.05 * Math.sin(step)).toFixed(4)) } }));
const byLoss = [...steps].sort((a, b) => a.metrics.val_loss - b.metrics.val_loss);

test('Orbax AnyPreservationPolicy([LatestN(2), BestN(2), EveryNSteps(1000)]) keeps the union; Lightning save_top_k=2 keeps the best two', () => {
  const orbax = simulateOrbaxSteps(
    {
      best_fn: { metric: 'val_loss' },
      best_mode: 'min',
      preservation_policy: { type: 'AnyPreservationPolicy', policies: [{ type: 'LatestN', n: 2 }, { type: 'BestN', metric: 'val_loss', reverse: true, n: 2 }, { type: 'EveryNSteps', interval_steps: 1000 }] },
    },
    steps,
  );
  const want = new Set([...steps.slice(-2).map((s) => s.step), ...byLoss.slice(0, 2).map((s) => s.step), ...steps.filter((s) => s.step % 1000 === 0).map((s) => s.step)]);
  assert.deepEqual(orbax.kept, [...want].sort((a, b) => a - b));
  assert.equal(orbax.saved.length, steps.length);
  const lightning = simulateLightningSteps({ monitor: 'val_loss', mode: 'min', save_top_k: 2, every_n_train_steps: 250, filename: '{step}' }, steps);
  assert.deepEqual(lightning.kept, byLoss.slice(0, 2).map((s) => s.step).sort((a, b) => a - b));
  assert.deepEqual(lightning.best?.observed, { step: byLoss[0]!.step, value: byLoss[0]!.metrics.val_loss });
  assert.deepEqual(lightning.best?.kept, lightning.best?.observed);
  assert.deepEqual(orbax.best?.kept, orbax.best?.observed);
  assert.deepEqual(lightning.errors, []);
});
