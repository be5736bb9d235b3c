/** The Orbax conformance set as `ckpt conformance` replays it (registered in src/conformance/sets.ts). */
import type { ConformanceSet } from '../../conformance/sets.ts';
import { parseOrbaxScenarios, replayOrbaxScenario } from './replay.ts';

export const orbaxConformanceSet: ConformanceSet = {
  title: 'Orbax CheckpointManager',
  replayFile: (text, file) =>
    parseOrbaxScenarios(text, file).map((s) => {
      let failure: string | null;
      try {
        failure = replayOrbaxScenario(s);
      } catch (e) {
        failure = `replay raised ${(e as Error).message}`;
      }
      return { id: s.id, failure };
    }),
};
