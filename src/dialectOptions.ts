/**
 * Which framework's options a policy file holds: `dialect: lightning` (the default), `keras`,
 * `orbax` or `transformers`. A dialect's options are checked with that framework's own rules and
 * words, so a pasted Keras or Trainer configuration gets Keras's or transformers' errors, not
 * Lightning's "unknown option". Those checks
 * (src/dialectChecks.ts) are imported only when a policy names their dialect.
 */

export const DIALECTS = ['lightning', 'keras', 'orbax', 'transformers'] as const;
export type Dialect = (typeof DIALECTS)[number];

export const isDialect = (x: unknown): x is Dialect => typeof x === 'string' && (DIALECTS as readonly string[]).includes(x);

/** One problem with a dialect's options, naming its field (null: the options as a whole). */
export type DialectIssue = { field: string | null; message: string };

/** The problems with `options` as `dialect`'s framework sees them (empty: valid). */
export type DialectCheck = (dialect: Exclude<Dialect, 'lightning'>, options: Record<string, unknown>) => DialectIssue[];

/** The check of every non-Lightning dialect (src/dialectChecks.ts), imported on first use: its codecs cost start-up time. */
export const loadDialectCheck = async (): Promise<DialectCheck> => (await import('./dialectChecks.ts')).dialectIssues;
