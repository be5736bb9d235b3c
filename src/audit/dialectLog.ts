/**
 * The decision log of a dialect session (`ckpt serve --stdio --dialect NAME --decision-log PATH`):
 * a segment per session, its head naming the framework, then one `line` record per input line
 * with the answer it got, appended before the answer is written, and a `close` when the input
 * ends. The init line carries the framework's options, so the segment holds everything a replay
 * through the same dialect needs (`ckpt audit verify`).
 */
import { ChainFile } from './chainFile.ts';
import { LOG_FORMAT, type LogDialect } from './format.ts';

export interface DialectLogOptions {
  /** 'close' (default): fsync when closing; 'never' */
  readonly fsync?: 'close' | 'never';
  /** wall clock for `startedAt` (tests) */
  readonly now?: () => Date;
}

export class DialectLog {
  private headWritten = false;
  private lines = 0;

  /** @internal use openDialectLog */
  constructor(
    readonly dialect: LogDialect,
    private readonly file: ChainFile,
    private readonly opts: DialectLogOptions,
  ) {}

  get path(): string {
    return this.file.path;
  }

  get records(): number {
    return this.file.records;
  }

  /** The hash of the last record written: keep it elsewhere to pin the whole log. */
  get lastHash(): string | null {
    return this.file.lastHash;
  }

  /** One input line and its answer (throws when the log cannot append: the line must not be answered as decided). */
  line(line: number, input: string, answer: Record<string, unknown>): void {
    if (!this.headWritten) {
      this.file.append({
        type: 'head',
        format: LOG_FORMAT,
        dialect: this.dialect,
        ...(this.file.tornBytes > 0 ? { recoveredTornBytes: this.file.tornBytes } : {}),
        startedAt: (this.opts.now ?? (() => new Date()))().toISOString(),
      });
      this.headWritten = true;
    }
    this.file.append({ type: 'line', line, input, answer });
    this.lines++;
  }

  /** Ends the session's segment (when it has one), syncs and closes the file. Idempotent. */
  close(): void {
    if (!this.file.isOpen) return;
    try {
      // a dialect session settles nothing itself: its outcomes are input lines (SaveCompleted, checkpointSaved, ...)
      if (this.headWritten && this.file.failed === null) this.file.append({ type: 'close', decisions: this.lines, outcomes: 0, unsettled: 0 });
      this.headWritten = false;
    } finally {
      this.file.close((this.opts.fsync ?? 'close') !== 'never');
    }
  }
}

/** Opens (or creates) a log for a dialect session; an existing log's chain is continued. */
export function openDialectLog(path: string, dialect: LogDialect, opts: DialectLogOptions = {}): DialectLog {
  return new DialectLog(dialect, ChainFile.open(path), opts);
}
