/**
 * Keras logs on Node (`ckpt-policy/keras/logs`): the CSVLogger and History readers (node:fs), and
 * `readKerasLog(file)`, which picks the reader from the file. The simulation itself is pure and
 * lives in `ckpt-policy/keras` (simulateKerasLog, renderKerasSimulation).
 */
import { readCsvLoggerFile, type CsvLoggerReadOptions } from './csvLogger.ts';
import { readHistoryFile } from './history.ts';
import { headBytes } from '../../sources/text.ts';
import type { KerasLog } from './log.ts';

export { readCsvLoggerFile, MAX_ROW_BYTES, type CsvLoggerReadOptions } from './csvLogger.ts';
export { readHistoryFile, parseHistoryJson, MAX_HISTORY_BYTES } from './history.ts';
export { KerasLogError, type KerasLog, type KerasLogEpoch, type LogPlace } from './log.ts';

/** A History JSON dump when the file ends in `.json` or starts with `{`; a CSVLogger file otherwise. */
export async function readKerasLog(file: string, opts: CsvLoggerReadOptions = {}): Promise<KerasLog> {
  const head = headBytes(file, 256);
  const first = head === null ? '' : new TextDecoder().decode(head).replace(/^\uFEFF/, '').trimStart()[0];
  return file.endsWith('.json') || first === '{' ? readHistoryFile(file) : readCsvLoggerFile(file, opts);
}
