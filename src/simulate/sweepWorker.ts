/**
 * A sweep's worker thread: claims runs from the sweep's shared counter until none is left,
 * simulating each with the sweep's settings (its workerData) and answering with the run's summary
 * row; then sends its report and ends.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { drain, RunFailure, type WorkerData, type WorkerReply } from './sweep.ts';

const d = workerData as WorkerData;
const post = (m: WorkerReply) => parentPort!.postMessage(m);

drain({ ...d, claims: new Int32Array(d.claims) }, (index, row) => post({ kind: 'row', index, row })).then(
  (report) => post({ kind: 'done', report }),
  (e: unknown) => post({ kind: 'failure', index: e instanceof RunFailure ? e.index : -1, message: e instanceof Error ? e.message : String(e) }),
);
