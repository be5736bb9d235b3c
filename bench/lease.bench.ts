/**
 * What the writer lease costs per checkpoint write on the local filesystem, next to one save of a
 * small and of a 10 MiB checkpoint, measured side by side: the check every save, removal and link
 * pays (the record read back), and a renewal (a compare-and-swap: a new generation file, fsynced
 * and linked, the old one removed), paid at most once a third of the lease's lifetime.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFsStore } from '../plugins/fs/index.ts';
import { WriterLease } from '../src/runtime/lease.ts';
import type { Row } from './run.ts';

const N = 40;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function timed(n: number, f: (i: number) => Promise<unknown>): Promise<number> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await f(i);
    out.push(performance.now() - t0);
  }
  return median(out);
}

export async function run(report: (row: Row) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ckpt-bench-lease-'));
  try {
    const store = await openFsStore({ root: dir });
    const lease = await WriterLease.acquire(store, { takeOver: false, ttlMs: 120_000, run: 'bench', log: () => undefined });
    const small = { kind: 'bytes' as const, data: new Uint8Array(1024) };
    const large = { kind: 'bytes' as const, data: new Uint8Array(10 * 1024 * 1024) };
    // interleaved rounds, so drift on the shared machine hits all three alike
    const check: number[] = [];
    const renew: number[] = [];
    const saveSmall: number[] = [];
    const saveLarge: number[] = [];
    for (let round = 0; round < 4; round++) {
      check.push(await timed(N / 4, () => lease.ensure()));
      renew.push(await timed(N / 4, () => lease.update({})));
      saveSmall.push(await timed(N / 4, (i) => store.save(`small-${i}.ckpt`, small)));
      saveLarge.push(await timed(2, (i) => store.save(`large-${i}.ckpt`, large)));
    }
    const c = median(check);
    const r = median(renew);
    const s = median(saveSmall);
    const l = median(saveLarge);
    report({ name: 'lease: check before a write on fs (median)', value: c, unit: 'ms' });
    report({ name: 'lease: renewal on fs (median)', value: r, unit: 'ms' });
    report({ name: 'lease: save of a 1 KiB checkpoint on fs (median)', value: s, unit: 'ms' });
    report({ name: 'lease: save of a 10 MiB checkpoint on fs (median)', value: l, unit: 'ms' });
    report({ name: 'lease: check / 1 KiB save', value: c / s, unit: 'x' });
    report({ name: 'lease: check / 10 MiB save', value: c / l, unit: 'x' });
    report({ name: 'lease: renewal / 1 KiB save', value: r / s, unit: 'x' });
    report({ name: 'lease: renewal / 10 MiB save', value: r / l, unit: 'x' });
    await lease.release();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
