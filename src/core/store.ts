/**
 * The one contract every storage plugin implements, so the runtime never knows which store it
 * talks to. Keys are checkpoint paths relative to the store's root ('epoch=3-step=120.ckpt',
 * 'val/acc=0.91.ckpt', 'last.ckpt'): POSIX separators, no leading '/', no '..' segment. A plugin
 * refuses any other key with a StoreError (code 'escape') before touching storage.
 */

/** What is written: bytes from any framework, or TensorFlow.js model artifacts. */
export type Payload =
  | { readonly kind: 'bytes'; readonly data: Uint8Array }
  /** tf.io.ModelArtifacts (typed structurally so the contract does not import tfjs) */
  | { readonly kind: 'tfjs'; readonly artifacts: TfjsArtifacts };

export interface TfjsArtifacts {
  readonly modelTopology?: object | ArrayBuffer;
  readonly weightSpecs?: ReadonlyArray<{ readonly name: string; readonly shape: readonly number[]; readonly dtype: string }>;
  readonly weightData?: ArrayBuffer | ArrayBuffer[];
  readonly format?: string;
  readonly generatedBy?: string;
  readonly convertedBy?: string | null;
  readonly trainingConfig?: object;
  readonly userDefinedMetadata?: Record<string, unknown>;
  readonly [extra: string]: unknown;
}

export interface StoredEntry {
  readonly key: string;
  readonly kind: 'file' | 'symlink';
  /** the link text for symlinks (relative to the link's folder) */
  readonly target?: string;
  readonly size?: number;
}

export type StoreErrorCode = 'escape' | 'not-found' | 'io' | 'unsupported' | 'conflict';

export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    /** the key or location concerned (never a credential) */
    readonly key: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StoreError';
  }
}

export interface CheckpointStore {
  /** 'fs', 's3', 'memory', or a third-party name */
  readonly kind: string;
  /** where the root is, as a user writes it: '/abs/dir', 's3://bucket/prefix', 'memory://name' */
  readonly location: string;
  /** true where save_last='link' can make real symlinks (local filesystem) */
  readonly supportsSymlinks: boolean;
  /** Atomic: a reader sees the old content or the new, never a partial one. Rejects on failure, leaving previous keys untouched. */
  save(key: string, payload: Payload): Promise<void>;
  /** Removes the key (a symlink itself, not its target). Absent keys are not an error. */
  remove(key: string): Promise<void>;
  /** Points `linkKey` at `targetKey` (relative symlink), or copies where links are not possible; says which it did. */
  link(targetKey: string, linkKey: string): Promise<'link' | 'copy'>;
  /** Follows symlinks: a dangling link does not exist. */
  exists(key: string): Promise<boolean>;
  /** Every checkpoint under `prefix` (default: all), recursively, sorted by key. Temporaries are not listed. */
  list(prefix?: string): Promise<StoredEntry[]>;
  /** Reads back what save wrote (following symlinks). */
  read(key: string): Promise<Payload>;
  /** Releases clients, handles, timers. */
  close?(): Promise<void>;
  /** the writer lease's slot (see LeaseSlot); stores without one are assumed to have one writer per process */
  readonly lease?: LeaseSlot;
}

/**
 * A single small record beside the checkpoints (never listed, never a key) that only changes by
 * compare-and-swap, so that two writers cannot both believe they hold it. The runtime keeps its
 * writer lease there (src/runtime/lease.ts); the store does not interpret the text. Versions are
 * opaque: an ETag on S3, a generation number on the filesystem.
 */
export interface LeaseSlot {
  /** where the record lives, for messages ('/run/.ckpt-policy-lease.*', 's3://b/p/.ckpt-policy-lease') */
  readonly where: string;
  /** The record and its version, or null when there is none. */
  read(): Promise<{ readonly text: string; readonly version: string } | null>;
  /** Writes the record only if there is none: its version, or null when another writer's record is there. */
  create(text: string): Promise<string | null>;
  /** Writes the record only if it is still at `version`: the new version, or null when another writer changed it. */
  replace(text: string, version: string): Promise<string | null>;
}
