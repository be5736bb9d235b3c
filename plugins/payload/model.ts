/**
 * TensorFlow.js payloads: a `tf.LayersModel` captured through its own `save()` into ModelArtifacts
 * (tfjs' serialisation, so tfjs' loaders read it back), and loaded back into a model. Browser-safe:
 * no node built-ins (the Node entry, tfjs.ts, adds the file helpers).
 */
import * as tf from '@tensorflow/tfjs';
import type { Payload, TfjsArtifacts } from '../../src/core/store.ts';
import { joinWeightData, ownBuffer } from './weights.ts';

type Spec = NonNullable<TfjsArtifacts['weightSpecs']>[number] & { readonly group?: string };

/**
 * Captures `model` as a tfjs payload. `weightsOnly` (the policy's save_weights_only) keeps the
 * weight specs and data only, like Lightning's state_dict-only files; otherwise the topology, the
 * training config and the optimizer's state are included, so training can resume from it.
 */
export async function captureTfjsModel(model: tf.LayersModel, opts: { weightsOnly: boolean }): Promise<Payload> {
  let captured: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      captured = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: joinWeightData(artifacts.weightData).byteLength } };
    }),
    { includeOptimizer: !opts.weightsOnly },
  );
  if (captured === undefined) throw new Error('captureTfjsModel: model.save() finished without calling the save handler');
  const weightData = joinWeightData(captured.weightData);
  if (opts.weightsOnly) {
    const specs = (captured.weightSpecs ?? []).filter((s: Spec) => s.group !== 'optimizer');
    return { kind: 'tfjs', artifacts: { format: captured.format, generatedBy: captured.generatedBy, convertedBy: captured.convertedBy ?? null, weightSpecs: specs, weightData: ownBuffer(weightData) } };
  }
  return { kind: 'tfjs', artifacts: { ...(captured as TfjsArtifacts), weightData: ownBuffer(weightData) } };
}

/**
 * Loads a tfjs payload. Without `into`, builds a new model from the stored topology with tfjs'
 * own loader (`tf.loadLayersModel(tf.io.fromMemory(...))`, restoring the optimizer when it was
 * saved). With `into` (required for weights-only payloads), sets the weights of that model, which
 * must have the same architecture; weights match by name, or by order when the layer names differ
 * (a model built anew gets new automatic names), and the optimizer's state is restored when both
 * the payload and `into` have one.
 */
export async function loadTfjsModel(payload: Payload, into?: tf.LayersModel): Promise<tf.LayersModel> {
  if (payload.kind !== 'tfjs') {
    throw new TypeError(`loadTfjsModel: the payload holds raw bytes (kind '${payload.kind}'); only tfjs checkpoints (kind 'tfjs') load as a tf.LayersModel`);
  }
  const artifacts = payload.artifacts;
  if (into === undefined) {
    if (artifacts.modelTopology === undefined) {
      throw new TypeError('loadTfjsModel: this is a weights-only checkpoint (no topology); pass `into`, a model of the same architecture, to receive the weights');
    }
    return tf.loadLayersModel(tf.io.fromMemory(artifacts as tf.io.ModelArtifacts));
  }
  const specs = (artifacts.weightSpecs ?? []) as Spec[];
  const named = tf.io.decodeWeights(joinWeightData(artifacts.weightData).slice().buffer, specs as tf.io.WeightsManifestEntry[]);
  try {
    const modelSpecs = specs.filter((s) => s.group !== 'optimizer');
    const targets = into.weights;
    if (targets.length !== modelSpecs.length) {
      throw new TypeError(`loadTfjsModel: the checkpoint has ${modelSpecs.length} weights, the model given as \`into\` has ${targets.length}; it must have the same architecture`);
    }
    const byName = targets.every((w) => named[w.originalName] !== undefined);
    const values = targets.map((w, i) => {
      const spec = modelSpecs[i]!;
      const value = byName ? named[w.originalName]! : named[spec.name]!;
      if (value.shape.length !== w.shape.length || value.shape.some((d, j) => d !== w.shape[j])) {
        throw new TypeError(`loadTfjsModel: weight ${byName ? w.originalName : spec.name} has shape [${value.shape.join(', ')}] in the checkpoint, [${w.shape.join(', ')}] in the model given as \`into\``);
      }
      return value;
    });
    into.setWeights(values);
    const optimizerSpecs = specs.filter((s) => s.group === 'optimizer');
    if (optimizerSpecs.length > 0 && into.optimizer != null) {
      await into.optimizer.setWeights(optimizerSpecs.map((s) => ({ name: s.name, tensor: named[s.name]! })));
    }
    return into;
  } finally {
    // setWeights/assign keep their own reference; the decoded tensors themselves are ours to free.
    for (const t of Object.values(named)) t.dispose();
  }
}
