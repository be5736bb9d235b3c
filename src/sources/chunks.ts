/**
 * A file's bytes a chunk at a time, for the line readers. A regular file is read with readSync: a
 * local read of one chunk costs less than a read stream's round trip through the thread pool, which
 * left the reader idle for a tenth of a large log's read. Anything else (a pipe, a FIFO, a path that
 * cannot be opened) goes through a read stream as before, so its errors are the stream's own.
 */
import { closeSync, createReadStream, fstatSync, readSync } from 'node:fs';
import { openOrNull } from './text.ts';

export interface FileChunks extends AsyncIterator<Buffer> {
  /** bytes read from the file so far */
  readonly bytesRead: number;
  /** releases the file (at the end, or when the reader stops early) */
  close(): void;
}

export function openChunks(file: string, chunkSize: number): FileChunks {
  const fd = openRegular(file);
  return fd === null ? streamChunks(file, chunkSize) : syncChunks(fd, chunkSize);
}

/** A descriptor of `file` when it is a regular file; null for anything else or when it cannot be opened. */
function openRegular(file: string): number | null {
  const fd = openOrNull(file);
  if (fd === null) return null;
  try {
    if (fstatSync(fd).isFile()) return fd;
  } catch {
    // the stream reports it
  }
  closeSync(fd);
  return null;
}

function syncChunks(fd: number, chunkSize: number): FileChunks {
  let open = true;
  let bytesRead = 0;
  const close = () => {
    if (open) closeSync(fd);
    open = false;
  };
  return {
    get bytesRead() {
      return bytesRead;
    },
    close,
    next() {
      if (!open) return Promise.resolve({ done: true, value: undefined });
      try {
        // a buffer per chunk: the reader keeps views of the last one (a line cut by its end)
        const buf = Buffer.allocUnsafe(chunkSize);
        const n = readSync(fd, buf, 0, chunkSize, null);
        if (n === 0) {
          close();
          return Promise.resolve({ done: true, value: undefined });
        }
        bytesRead += n;
        return Promise.resolve({ done: false, value: n === chunkSize ? buf : buf.subarray(0, n) });
      } catch (e) {
        close();
        return Promise.reject(e);
      }
    },
  };
}

function streamChunks(file: string, chunkSize: number): FileChunks {
  const source = createReadStream(file, { highWaterMark: chunkSize });
  const chunks = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  return {
    get bytesRead() {
      return source.bytesRead;
    },
    close: () => source.destroy(),
    next: () => chunks.next(),
  };
}
