/** trainer_state.json from disk, size-bounded (the parse is trainerState.ts, which does no I/O). */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { MAX_TEXT_CHARS } from './pyJson.ts';
import { parseTrainerState, TrainerStateError, type TrainerStateLog } from './trainerState.ts';

/** Reads a trainer_state.json file (at most MAX_TEXT_CHARS bytes). */
export function readTrainerStateFile(path: string): TrainerStateLog {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new TrainerStateError(path, null, null, code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder, not a trainer_state.json file' : (e as Error).message);
  }
  try {
    const size = fstatSync(fd).size;
    if (size > MAX_TEXT_CHARS) throw new TrainerStateError(path, null, null, `${size} bytes; a trainer_state.json of at most ${MAX_TEXT_CHARS} bytes is read`);
    const buf = Buffer.alloc(size);
    let off = 0;
    while (off < size) {
      const n = readSync(fd, buf, off, size - off, off);
      if (n === 0) break;
      off += n;
    }
    return parseTrainerState(buf.subarray(0, off).toString('utf8'), path);
  } catch (e) {
    if (e instanceof TrainerStateError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new TrainerStateError(path, null, null, code === 'EISDIR' ? 'is a folder, not a trainer_state.json file' : (e as Error).message);
  } finally {
    closeSync(fd);
  }
}

