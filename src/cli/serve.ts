/** `ckpt serve --stdio`: the sidecar (see src/sidecar/server.ts for the protocol). */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import * as E from 'fp-ts/lib/Either.js';
import { openDecisionLog, type DecisionLog } from '../audit/writer.ts';
import { openDialectLog, type DialectLog } from '../audit/dialectLog.ts';
import { decodeConfig } from '../core/config.ts';
import { serve } from '../sidecar/server.ts';
import { STORE_MODE } from '../sidecar/stores.ts';
import { DIALECT_NAMES, serveNamedDialect, type DialectName } from '../sidecar/dialects/index.ts';
import { issueText, parseStructured } from '../sources/structuredText.ts';
import { notTextProblem } from '../sources/text.ts';
import { SUMMARY } from './commands.ts';

/** JSON lines with non-finite numbers written as "NaN" / "Infinity" / "-Infinity" strings. */
export function jsonLine(o: unknown): string {
  return JSON.stringify(o, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
}

function loadOptions(opts: { options?: string; config?: string }): Record<string, unknown> | undefined {
  if (opts.options !== undefined && opts.config !== undefined) throw new Error('give --options or --config, not both');
  let value: unknown;
  if (opts.options !== undefined) {
    try {
      value = JSON.parse(opts.options);
    } catch (e) {
      throw new Error(`--options is not valid JSON: ${(e as Error).message}`);
    }
  } else if (opts.config !== undefined) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(opts.config);
    } catch (e) {
      throw new Error(`--config: cannot read ${opts.config}: ${(e as Error).message}`);
    }
    const notText = notTextProblem(bytes, 'JSON or YAML');
    if (notText !== null) throw new Error(`--config: ${opts.config} ${notText}`);
    // JSON is YAML 1.2: one parser, whose errors carry the line and column (aliases bounded)
    const parsed = parseStructured(bytes.toString('utf8'), opts.config);
    if (!parsed.ok) throw new Error(`--config: ${parsed.issues.map(issueText).join('; ')}`);
    value = parsed.doc.value;
  } else return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${opts.options !== undefined ? '--options' : `--config ${opts.config}`}: the ModelCheckpoint options must be an object (a mapping of option names to values), got ${value === null ? 'null' : Array.isArray(value) ? 'a list' : JSON.stringify(value)}`);
  }
  return value as Record<string, unknown>;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description(SUMMARY.serve)
    .option('--stdio', 'serve over standard input and output (the only transport)')
    .option('--options <json>', 'ModelCheckpoint options as JSON (Lightning or camelCase names)')
    .option('--config <file>', 'ModelCheckpoint options from a JSON or YAML file')
    .option('--store <location>', 'carry out the effects through a store plugin at this location (the loop sends payload files)')
    .option('--cwd <dir>', 'directory that relative dirpaths resolve against', process.cwd())
    .option('--dialect <name>', `answer another framework's loop with its own rules: ${DIALECT_NAMES.join(', ')} (decide mode, or store mode for orbax with --store; options in the init line)`)
    .option('--decision-log <path>', 'append every decision and outcome (with --dialect: every line and its answer) to this hash-chained decision log (see docs/audit.md); closed when stdin ends')
    .option('--take-over', "with --store: take the folder's writer lease from the run that holds it (that run then saves and deletes nothing more)")
    .option('--lease-ttl <seconds>', 'with --store: how long the writer lease lasts unrenewed (default 120); a crashed run frees the folder after it')
    .action(async (o: { stdio?: boolean; options?: string; config?: string; store?: string; cwd: string; decisionLog?: string; dialect?: string; takeOver?: boolean; leaseTtl?: string }) => {
      if (!o.stdio) {
        console.error('ckpt serve: --stdio is required (standard input/output is the only transport)');
        process.exitCode = 2;
        return;
      }
      const lease = leaseOptions(o);
      if (typeof lease === 'string') {
        console.error(`ckpt serve: ${lease}`);
        process.exitCode = 2;
        return;
      }
      if (o.dialect !== undefined && o.dialect !== 'lightning') return serveDialectCommand(o.dialect, o, lease);
      let options;
      try {
        options = loadOptions(o);
      } catch (e) {
        console.error(`ckpt serve: ${(e as Error).message}`);
        process.exitCode = 2;
        return;
      }
      if (options !== undefined) {
        const checked = decodeConfig(options);
        if (E.isLeft(checked)) {
          console.error(`ckpt serve: the ModelCheckpoint options are not valid:\n${checked.left.map((i) => `  ${i.message}`).join('\n')}`);
          process.exitCode = 2;
          return;
        }
      }
      let decisionLog: DecisionLog | undefined;
      if (o.decisionLog !== undefined) {
        try {
          decisionLog = openDecisionLog(o.decisionLog, { cwd: o.cwd });
        } catch (e) {
          console.error(`ckpt serve: --decision-log: ${(e as Error).message}`);
          process.exitCode = 2;
          return;
        }
      }
      const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
      const location = o.store;
      try {
        await serve(rl[Symbol.asyncIterator](), (line) => process.stdout.write(jsonLine(line) + '\n'), {
          cwd: o.cwd,
          ...(options !== undefined ? { options } : {}),
          ...(location !== undefined ? { openStore: () => STORE_MODE.open(location) } : {}),
          ...(decisionLog !== undefined ? { decisionLog } : {}),
          ...(lease !== undefined ? { lease } : {}),
          report: (m) => {
            console.error(`ckpt serve: ${m}`);
            process.exitCode = 1;
          },
        });
      } finally {
        // stdin ended: the close record ends the run's segment, and the log is synced
        try {
          decisionLog?.close();
        } catch (e) {
          console.error(`ckpt serve: ${(e as Error).message}`);
          process.exitCode = 1;
        }
      }
    });
}

/** `--dialect keras|orbax|transformers`: decide mode (store mode for orbax with --store), the options arrive in the init line. */
async function serveDialectCommand(name: string, o: { options?: string; config?: string; store?: string; decisionLog?: string }, lease: { takeOver?: boolean; ttlMs?: number } | undefined): Promise<void> {
  if (!(DIALECT_NAMES as readonly string[]).includes(name)) {
    console.error(`ckpt serve: --dialect ${JSON.stringify(name)} is not allowed: expected lightning (the default), ${DIALECT_NAMES.join(', ')}`);
    process.exitCode = 2;
    return;
  }
  const unsupported = (['options', 'config', ...(name === 'orbax' ? [] : ['store' as const])] as const).filter((k) => o[k] !== undefined);
  if (unsupported.length > 0) {
    console.error(`ckpt serve: ${unsupported.map((k) => `--${k}`).join(', ')} cannot be used with --dialect ${name}: a dialect is served in decide mode${name === 'orbax' ? ' or, with --store, store mode' : ''}, its options given in the {"type":"init",...} line`);
    process.exitCode = 2;
    return;
  }
  if (o.store !== undefined) {
    if (o.decisionLog !== undefined) {
      console.error('ckpt serve: --decision-log cannot be used with --dialect orbax --store yet: the dialect decision log replays decide mode only');
      process.exitCode = 2;
      return;
    }
    const location = o.store;
    const { serveOrbaxStore } = await import('../sidecar/dialects/orbaxStore.ts');
    const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
    await serveOrbaxStore(rl[Symbol.asyncIterator](), (line) => process.stdout.write(jsonLine(line) + '\n'), {
      openStore: () => STORE_MODE.open(location),
      ...(lease?.takeOver !== undefined ? { takeOver: lease.takeOver } : {}),
      ...(lease?.ttlMs !== undefined ? { ttlMs: lease.ttlMs } : {}),
      report: (m) => {
        console.error(`ckpt serve: ${m}`);
        process.exitCode = 1;
      },
    });
    return;
  }
  let log: DialectLog | undefined;
  if (o.decisionLog !== undefined) {
    try {
      log = openDialectLog(o.decisionLog, name as DialectName);
    } catch (e) {
      console.error(`ckpt serve: --decision-log: ${(e as Error).message}`);
      process.exitCode = 2;
      return;
    }
  }
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
  try {
    await serveNamedDialect(name as DialectName, rl[Symbol.asyncIterator](), (line) => process.stdout.write(jsonLine(line) + '\n'), log);
  } finally {
    // stdin ended: the close record ends the session's segment, and the log is synced
    try {
      log?.close();
    } catch (e) {
      console.error(`ckpt serve: ${(e as Error).message}`);
      process.exitCode = 1;
    }
  }
}

/** --take-over and --lease-ttl: only with --store (decide mode writes nothing); a TTL in whole or fractional seconds. */
function leaseOptions(o: { store?: string; takeOver?: boolean; leaseTtl?: string }): { takeOver?: boolean; ttlMs?: number } | string | undefined {
  if (o.takeOver === undefined && o.leaseTtl === undefined) return undefined;
  const flag = o.takeOver ? '--take-over' : '--lease-ttl';
  if (o.store === undefined) return `${flag} needs --store: only store mode writes to the folder and holds its writer lease`;
  if (o.leaseTtl === undefined) return { takeOver: true };
  const seconds = Number(o.leaseTtl);
  if (o.leaseTtl.trim() === '' || !Number.isFinite(seconds) || seconds <= 0) return `--lease-ttl: ${JSON.stringify(o.leaseTtl)} is not allowed: give a positive number of seconds, e.g. --lease-ttl 120`;
  return { ...(o.takeOver ? { takeOver: true } : {}), ttlMs: Math.round(seconds * 1000) };
}
