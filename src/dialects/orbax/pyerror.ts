/**
 * A Python exception as Orbax raises it: the type name and the message `str(e)` gives. The
 * dialect raises these where Orbax raises, so a caller (and the conformance replay) sees the
 * framework's own texts.
 */
export class PyError extends Error {
  constructor(
    readonly pyType: string,
    message: string,
  ) {
    super(message);
    this.name = pyType;
  }
}

export const pyError = (pyType: string, message: string): PyError => new PyError(pyType, message);

/** `{type, message}` as the traces record a raised exception. */
export interface ErrorRecord {
  readonly type: string;
  readonly message: string;
}

export function errorRecord(e: unknown): ErrorRecord {
  if (e instanceof PyError) return { type: e.pyType, message: e.message };
  throw e;
}
