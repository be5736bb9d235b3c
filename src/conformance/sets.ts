/**
 * The conformance sets `ckpt conformance` can replay, one per framework. A set's manifest.json names
 * its framework by a key holding the framework's version ({"lightning": {"version": "2.6.2", …}},
 * or {"keras": "3.15.1"}); a folder of
 * traces without a manifest is Lightning's, as the first sets were.
 */
import { parseScenarios } from './trace.ts';
import { describeDifference, replayScenario } from './replay.ts';
import { orbaxConformanceSet } from '../dialects/orbax/conformance.ts';
import { replayTransformersFile } from '../dialects/transformers/conformance.ts';
import { kerasConformance } from '../dialects/keras/conformance.ts';

/** How one framework's traces are read and replayed. */
export interface ConformanceSet {
  /** the framework, as people name it */
  readonly title: string;
  /** one scenario result per scenario in a *.jsonl file's text */
  replayFile(text: string, file: string): Array<{ readonly id: string; readonly failure: string | null }>;
}

const lightning: ConformanceSet = {
  title: 'PyTorch Lightning ModelCheckpoint',
  replayFile: (text, file) =>
    parseScenarios(text, file).map((s) => {
      const r = replayScenario(s);
      return { id: s.id, failure: r.ok ? null : describeDifference(r.diff) };
    }),
};

/** By the manifest key that names the framework. Each dialect adds its set here. */
export const CONFORMANCE_SETS: Readonly<Record<string, ConformanceSet>> = {
  lightning,
  orbax: orbaxConformanceSet,
  transformers: { title: 'Hugging Face transformers Trainer', replayFile: replayTransformersFile },
  keras: kerasConformance,
};

/** The set a manifest names, or why none is known. */
export function setFor(manifest: Record<string, unknown> | null): { readonly set: ConformanceSet; readonly version: string } | { readonly unknown: string } {
  if (manifest === null) return { set: lightning, version: 'unknown' };
  for (const [key, set] of Object.entries(CONFORMANCE_SETS)) {
    const v = manifest[key];
    if (typeof v === 'string') return { set, version: v };
    const version = (v as { version?: unknown } | undefined)?.version;
    if (typeof version === 'string') return { set, version };
  }
  return { unknown: `its manifest.json names no framework this version replays (known: ${Object.keys(CONFORMANCE_SETS).join(', ')})` };
}
