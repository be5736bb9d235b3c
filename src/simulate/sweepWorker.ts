/**
 * A sweep's worker thread: simulates the runs it is given, one at a time, with the sweep's
 * settings (its workerData), and answers each with the run's summary row.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { summarizeRun, type SweepSettings, type WorkerReply, type WorkerTask } from './sweep.ts';

const settings = workerData as SweepSettings;

parentPort!.on('message', (task: WorkerTask) => {
  summarizeRun(task.run, settings).then(
    (row) => parentPort!.postMessage({ index: task.index, row } satisfies WorkerReply),
    (e: unknown) => parentPort!.postMessage({ index: task.index, failure: e instanceof Error ? e.message : String(e) } satisfies WorkerReply),
  );
});
