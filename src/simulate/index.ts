/** Simulation: replaying policies on the metric logs of past runs (ckpt simulate / compare). */
export { simulate, type SimulateOptions, type SimulationResult, type PolicyResult, type PolicySpec, type KeptFile, type MetricChoice } from './run.ts';
export { parseSize, formatBytes } from './size.ts';
export { openLog, readRecords, type FitLog } from '../sources/open.ts';
export { readCsvLog } from '../sources/csv.ts';
export { readTfeventsLog } from '../sources/tfevents.ts';
export { readJsonlEvents, decodeLoopEvent, encodeLoopEvent } from '../sources/jsonl.ts';
export { LoopReconstructor, type TimelineItem } from '../sources/reconstruct.ts';
export { parseTrainerText, runFactsFrom, type RunFacts, type FitFacts, type LoopFacts } from '../sources/loopFacts.ts';
export { SourceError, type LogRecord, type Origin } from '../sources/records.ts';
export { parsePolicyText, readPolicyArg, type Policy } from '../policyFile.ts';
export { renderJson } from '../report/json.ts';
export { renderSimulateTable, renderCompareTable } from '../report/table.ts';
export { renderHtml } from '../report/html.ts';
