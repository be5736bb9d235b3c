/**
 * A KerasSimulation as text for a terminal: the call, the direction and where it came from, one
 * line per epoch (what was written or overwritten, or why not), the files at the end with the epoch
 * each holds, the best epoch and whether the last file written holds it. Epochs are shown as logged
 * (0-based; Keras prints `Epoch N+1` and `{epoch}` in a filepath is N+1).
 */
import type { KerasSimulation, EpochAction } from './simulate.ts';
import type { KerasLog } from './log.ts';
import { pyFloatRepr } from '../../core/format/pyformat.ts';

const num = (v: number | null) => (v === null ? '-' : Number.isNaN(v) ? 'nan' : !Number.isFinite(v) ? (v > 0 ? 'inf' : '-inf') : v.toFixed(5));
const where = (fit: number, epoch: number, fits: number) => (fits > 1 ? `fit ${fit} epoch ${epoch}` : `epoch ${epoch}`);

function pyArgs(options: Record<string, unknown>): string {
  return Object.entries(options)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? `'${v}'` : v === true ? 'True' : v === false ? 'False' : v === null ? 'None' : typeof v === 'number' ? pyFloatRepr(v).replace(/\.0$/, '') : String(v)}`)
    .join(', ');
}

function actionText(a: EpochAction, fits: number): string {
  const why = (r: Extract<EpochAction, { _tag: 'Wrote' }>['reason']) =>
    r.kind === 'always' ? 'save_best_only=False'
    : r.kind === 'improved' ? `improved from ${r.previous === null ? 'None' : num(r.previous)}`
    : r.kind === 'monitorMissing' ? `${r.monitor ?? 'monitor'} not in the logs: Keras warns and saves`
    : `${r.monitor} is not a number: Keras warns and saves`;
  switch (a._tag) {
    case 'Wrote':
      return `wrote ${a.filepath} (${why(a.reason)})`;
    case 'Overwrote':
      return `overwrote ${a.filepath}, which held ${where(a.previous.fit, a.previous.epoch, fits)} (${why(a.reason)})`;
    case 'NotSaved':
      return `- (did not improve from ${num(a.reason.best)})`;
  }
}

export function renderKerasSimulation(sim: KerasSimulation, log: KerasLog, options: Record<string, unknown>): string {
  const head = `ModelCheckpoint(${pyArgs(options)}) on ${log.file} (${log.format}, ${log.epochs.length} epochs)`;
  switch (sim._tag) {
    case 'ConstructionFailed':
      return `${head}\nKeras's constructor raises ${sim.error.type}: ${sim.error.message}\n`;
    case 'Undetermined':
      return `${head}\nundetermined (${sim.what}): ${sim.message}\n`;
    case 'Simulated': {
      const fits = new Set(log.epochs.map((e) => e.fit)).size;
      const monitor = sim.config.monitor ?? 'monitor';
      const lines = [head];
      if (sim.monitorOp !== null) lines.push(`mode: ${sim.monitorOp === 'less' ? 'min' : 'max'} (${sim.modeFrom === 'given' ? `mode='${sim.config.mode}'` : `mode='auto', decided by the name '${monitor}'`})`);
      if (fits > 1) lines.push(`${fits} fit calls in one file: ${sim.fits === 'oneCallback' ? 'one callback instance across them (best carries over)' : 'a new callback per fit (best starts from None)'}`);
      const w = Math.max(5, ...sim.epochs.map((e) => where(e.fit, e.epoch, fits).length));
      lines.push(`${'epoch'.padEnd(w)}  ${monitor.padStart(10)}  file`);
      for (const e of sim.epochs) lines.push(`${where(e.fit, e.epoch, fits).padEnd(w)}  ${num(e.value).padStart(10)}  ${actionText(e.action, fits)}`);
      if (sim.stopped !== null) lines.push(`${where(sim.stopped.fit, sim.stopped.epoch, fits)}: Keras raises ${sim.stopped.error.type}: ${sim.stopped.error.message} (fit ends here)`);
      lines.push(sim.files.length === 0 ? 'files at the end: none written' : 'files at the end:');
      for (const f of sim.files) lines.push(`  ${f.filepath}  holds ${where(f.fit, f.epoch, fits)} (${monitor} ${num(f.value)}), written ${f.writes} time${f.writes === 1 ? '' : 's'}`);
      lines.push(sim.best === null ? `best: no ${monitor} values to rank` : `best: ${where(sim.best.fit, sim.best.epoch, fits)} (${monitor} ${num(sim.best.value)})`);
      if (sim.lastHoldsBest !== null) lines.push(`the last file written holds the best epoch: ${sim.lastHoldsBest ? 'yes' : 'no'}`);
      const warnings = new Map<string, number>();
      for (const m of sim.messages) if (m.level === 'warning') warnings.set(m.message, (warnings.get(m.message) ?? 0) + 1);
      for (const [m, n] of warnings) lines.push(`warning${n > 1 ? ` (${n} times)` : ''}: ${m}`);
      return lines.join('\n') + '\n';
    }
  }
}
