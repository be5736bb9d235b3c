/**
 * The reducer's notes over a simulation, in bounded memory: how many of each kind, the top-k
 * rejections nearest to being kept (the score, the k-th kept value it failed to beat, and that
 * file), and the first deferrals. The HTML report shows them per Lightning policy.
 */
import type { Note, NoteKind } from '../core/notes.ts';

type Rejected = Extract<Note, { kind: 'rejected' }>;
type Deferred = Extract<Note, { kind: 'deferred' }>;

export interface NoteSummary {
  readonly counts: Readonly<Partial<Record<NoteKind, number>>>;
  /** rejections with the smallest margin first (how far the score was from the k-th kept value) */
  readonly nearestRejections: readonly (Rejected & { readonly margin: number })[];
  readonly deferrals: readonly (Deferred & { readonly epoch: number; readonly step: number })[];
}

/** Notes that arise at a batch end only when the policy's own step trigger was due. */
const DUE_AT_BATCH: ReadonlySet<NoteKind> = new Set<NoteKind>(['rejected', 'deferred', 'monitorMissing', 'topKZero', 'keptBy', 'versionBump', 'raised']);

/** Rejections and deferrals listed at most (the counts cover every note). */
export const LISTED = 5;

export class NoteTally {
  private readonly counts: Partial<Record<NoteKind, number>> = {};
  private rejections: (Rejected & { margin: number })[] = [];
  private readonly deferrals: (Deferred & { epoch: number; step: number })[] = [];

  /**
   * The notes of one hook. At a batch end only the notes of a step trigger that was due count: the
   * simulator replays a batch end wherever any compared policy has a step trigger, so "not due" and
   * "skipped" there would count the replay, not the policy (a policy's notes are the same compared
   * beside others or alone).
   */
  add(notes: readonly Note[], epoch: number, step: number, batchEnd: boolean): void {
    for (const n of notes) {
      if (batchEnd && !DUE_AT_BATCH.has(n.kind)) continue;
      this.counts[n.kind] = (this.counts[n.kind] ?? 0) + 1;
      if (n.kind === 'rejected') {
        const margin = n.mode === 'min' ? n.score - n.kthValue : n.kthValue - n.score;
        // NaN scores never come near: they sort last
        this.rejections.push({ ...n, margin: Number.isNaN(margin) ? Infinity : margin });
        if (this.rejections.length > 4 * LISTED) this.rejections = this.nearest();
      } else if (n.kind === 'deferred' && this.deferrals.length < LISTED) this.deferrals.push({ ...n, epoch, step });
    }
  }

  private nearest(): (Rejected & { margin: number })[] {
    return [...this.rejections].sort((a, b) => a.margin - b.margin || a.step - b.step).slice(0, LISTED);
  }

  summary(): NoteSummary {
    return { counts: { ...this.counts }, nearestRejections: this.nearest(), deferrals: [...this.deferrals] };
  }
}
