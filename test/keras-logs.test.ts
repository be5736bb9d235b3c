/**
 * Keras logs: the CSVLogger and History readers on the real logs in ../shared/data/keras-logs
 * (read in place, never copied; skipped with a message when absent) and on malformed files; and
 * simulateKerasLog on them. For each run whose MANIFEST.md quotes a `ModelCheckpoint(...)` call,
 * that call is taken from the manifest text itself and simulated; what the manifest says was
 * written or kept is checked (its sentence is asserted to be in the manifest, so the two cannot
 * drift apart), and what follows from the log is checked against a model computed here from the
 * monitored column alone (strict float32 improvement).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readKerasLog, readCsvLoggerFile, readHistoryFile, KerasLogError, MAX_ROW_BYTES, type KerasLog } from '../src/dialects/keras/logs.ts';
import { simulateKerasLog, renderKerasSimulation, type KerasSimulation } from '../src/dialects/keras/index.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const LOGS = join(root, '../shared/data/keras-logs');
const MANIFEST = join(LOGS, 'MANIFEST.md');
const haveLogs = existsSync(MANIFEST);
const tmp = mkdtempSync(join(tmpdir(), 'ckpt-keras-logs-'));

function skipWithoutLogs(t: TestContext): boolean {
  if (haveLogs) return false;
  t.skip(`the real Keras logs are absent: ${MANIFEST} does not exist (they are read from ../shared/data/keras-logs, never copied)`);
  return true;
}

type Simulated = Extract<KerasSimulation, { _tag: 'Simulated' }>;
function simulated(s: KerasSimulation): Simulated {
  assert.equal(s._tag, 'Simulated', JSON.stringify(s));
  return s as Simulated;
}

// ---- the ModelCheckpoint calls, read from the manifest ------------------------------------------

/** The manifest's section for one file (from its `### name` heading to the next). */
function section(manifest: string, file: string): string {
  const start = manifest.indexOf(`### ${file}`);
  assert.ok(start >= 0, `MANIFEST.md has a section for ${file}`);
  const end = manifest.indexOf('\n### ', start + 4);
  return manifest.slice(start, end < 0 ? undefined : end);
}

/** A Python literal as the calls write them: a string, True/False/None, a number. */
function pyLiteral(text: string): unknown {
  const t = text.trim();
  const s = /^r?(['"])(.*)\1$/s.exec(t);
  if (s) return s[2];
  if (t === 'True') return true;
  if (t === 'False') return false;
  if (t === 'None') return null;
  if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t);
  return undefined;
}

/** Top-level arguments of a call's text (commas inside brackets or strings do not split). */
function splitArgs(text: string): string[] {
  const out: string[] = [];
  let depth = 0, quote: string | null = null, cur = '';
  for (const c of text) {
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === "'" || c === '"') quote = c;
    else if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) depth--;
    else if (c === ',' && depth === 0) {
      out.push(cur);
      cur = '';
      continue;
    }
    cur += c;
  }
  if (cur.trim() !== '') out.push(cur);
  return out;
}

/**
 * The uncommented `ModelCheckpoint(...)` call of a section, as keyword arguments, or null when
 * there is none. A filepath that is an expression: `os.path.join(..., 'name')` is its last string;
 * a variable is the string the section assigns to it (the file name part).
 */
function manifestCall(sec: string): Record<string, unknown> | null {
  const lines = sec.split('\n').filter((l) => !l.trimStart().startsWith('#'));
  const text = lines.join('\n');
  const at = text.indexOf('ModelCheckpoint(');
  if (at < 0) return null;
  let depth = 0, end = at + 'ModelCheckpoint'.length;
  for (; end < text.length; end++) {
    if (text[end] === '(') depth++;
    else if (text[end] === ')' && --depth === 0) break;
  }
  const args = splitArgs(text.slice(at + 'ModelCheckpoint('.length, end));
  const out: Record<string, unknown> = {};
  for (const [i, a] of args.entries()) {
    const kw = /^\s*([a-z_]+)\s*=(?!=)([\s\S]*)$/.exec(a);
    if (kw) {
      out[kw[1]!] = pyLiteral(kw[2]!);
      continue;
    }
    assert.equal(i, 0, `only filepath is positional: ${a}`);
    let path = pyLiteral(a);
    if (path === undefined) {
      const strings = [...a.matchAll(/'([^']*)'|"([^"]*)"/g)].map((m) => m[1] ?? m[2]!);
      const assigned = new RegExp(`${a.trim()}\\s*=\\s*r?['"]([^'"]+)['"]`).exec(sec);
      path = strings.at(-1) ?? assigned?.[1]?.split(/[\\/]/).at(-1);
    }
    assert.equal(typeof path, 'string', `a filepath for ${a}`);
    out.filepath = path;
  }
  return out;
}

/** The epochs at which a save_best_only callback writes, from the monitored column alone. */
function strictImprovements(log: KerasLog, monitor: string, op: 'min' | 'max'): string[] {
  let best: number | null = null;
  const out: string[] = [];
  for (const e of log.epochs) {
    const v = e.logs[monitor] as number;
    const f = Math.fround(v);
    if (best === null || (op === 'min' ? f < Math.fround(best) : f > Math.fround(best))) {
      best = v;
      out.push(`${e.fit}:${e.epoch}`);
    }
  }
  return out;
}

/** What the manifest says about each run with a quoted call, as it says it, and what that means. */
const CLAIMS: Record<string, { sentence: RegExp; writes?: number[]; kept: [fit: number, epoch: number] }> = {
  '01-tomato-leaf-cnn.csv': { sentence: /`model\.h5` was rewritten\s+at epochs 0, 1, 2, 3, 5, 6, 8, 14, 15 and 18/, writes: [0, 1, 2, 3, 5, 6, 8, 14, 15, 18], kept: [0, 18] },
  '02-brain-tumor-append.csv': { sentence: /the lowest val_loss is at segment 3, epoch 8 \(row 17\)/, kept: [2, 8] },
  '03-mnist-digit-cnn.csv': { sentence: /val_accuracy\s+strictly improves at epochs 0, 1, 2, 3, 5, 6, 8, 10, 11, 12, 13, 17, 18, 21 and 29, so the\s+kept model is epoch 29/, writes: [0, 1, 2, 3, 5, 6, 8, 10, 11, 12, 13, 17, 18, 21, 29], kept: [0, 29] },
  '04-blood-group-fingerprint.csv': { sentence: /the best val_accuracy \(0\.9497\) is at epoch 27/, kept: [0, 27] },
  '08-pneumonia-history.json': { sentence: /val_accuracy improves at epochs 0, 2, 3, 4, 5, 7 and 9, so the checkpoint was\s+rewritten 7 times and the last write is epoch 9/, writes: [0, 2, 3, 4, 5, 7, 9], kept: [0, 9] },
};

test('the manifest quotes ModelCheckpoint calls for 01, 02, 03, 04 and 08; 05 is commented out; simulating each call writes what the manifest says', async (t) => {
  if (skipWithoutLogs(t)) return;
  const manifest = readFileSync(MANIFEST, 'utf8');
  const files = [...manifest.matchAll(/^### (\S+)$/gm)].map((m) => m[1]!);
  assert.equal(files.length, 10);
  const withCall = files.filter((f) => manifestCall(section(manifest, f)) !== null);
  assert.deepEqual(withCall, Object.keys(CLAIMS));
  for (const file of withCall) {
    const call = manifestCall(section(manifest, file))!;
    const claim = CLAIMS[file]!;
    assert.match(section(manifest, file), claim.sentence, `${file}: the manifest says so`);
    const log = await readKerasLog(join(LOGS, file));
    const sim = simulated(simulateKerasLog(call, log));
    const monitor = call.monitor as string;
    assert.equal(sim.stopped, null, file);
    // one fixed path: only the last write survives, and it holds the claimed epoch
    assert.equal(sim.files.length, 1, file);
    assert.equal(sim.files[0]!.filepath, call.filepath);
    assert.deepEqual([sim.files[0]!.fit, sim.files[0]!.epoch], claim.kept, `${file}: the file at the end holds the epoch the manifest names`);
    assert.deepEqual([sim.best!.fit, sim.best!.epoch], claim.kept, `${file}: the best`);
    assert.equal(sim.lastHoldsBest, true, file);
    const wrote = sim.epochs.filter((e) => e.action._tag !== 'NotSaved');
    if (claim.writes) assert.deepEqual(wrote.map((e) => e.epoch), claim.writes, `${file}: the epochs written`);
    // what follows from the log: writes are the strict float32 improvements of the monitored column
    const op = sim.monitorOp === 'less' ? 'min' : 'max';
    assert.equal(op, monitor === 'val_loss' ? 'min' : 'max', `${file}: mode from ${call.mode === undefined ? 'the name' : 'mode='}`);
    assert.deepEqual(wrote.map((e) => `${e.fit}:${e.epoch}`), strictImprovements(log, monitor, op), file);
    assert.equal(wrote[0]!.action._tag, 'Wrote', `${file}: the first write creates the file`);
    assert.ok(wrote.slice(1).every((e) => e.action._tag === 'Overwrote'), `${file}: every later write overwrites it`);
    assert.equal(sim.files[0]!.writes, wrote.length);
  }
});

test('02 (append=True, 4 fit calls): one callback keeps its best across fits; a new callback per fit ends holding the last fit\'s best', async (t) => {
  if (skipWithoutLogs(t)) return;
  const log = await readCsvLoggerFile(join(LOGS, '02-brain-tumor-append.csv'));
  assert.deepEqual([...new Set(log.epochs.map((e) => e.fit))], [0, 1, 2, 3]);
  assert.deepEqual(log.epochs.map((e) => e.epoch).join(','), '0,1,2,3,4,0,1,2,3,0,1,2,3,4,5,6,7,8,9,0,1,2,3,4');
  const call = { filepath: 'best_model.h5', save_best_only: true, monitor: 'val_loss' };
  const perFit = simulated(simulateKerasLog(call, log, { fits: 'callbackPerFit' }));
  // a fresh callback writes at the first epoch of every fit, whatever the earlier fits reached
  assert.deepEqual(perFit.epochs.filter((e) => e.epoch === 0).map((e) => e.action._tag), ['Wrote', 'Overwrote', 'Overwrote', 'Overwrote']);
  const lastFit = log.epochs.filter((e) => e.fit === 3);
  const lastBest = lastFit.reduce((a, b) => ((b.logs.val_loss as number) < (a.logs.val_loss as number) ? b : a));
  assert.deepEqual([perFit.files[0]!.fit, perFit.files[0]!.epoch], [3, lastBest.epoch]);
  assert.deepEqual([perFit.best!.fit, perFit.best!.epoch], [2, 8]);
  assert.equal(perFit.lastHoldsBest, false, 'the run\'s best (fit 2) was overwritten by fit 3');
  assert.match(renderKerasSimulation(perFit, log, call), /the last file written holds the best epoch: no/);
});

test('every real log reads: rows, columns, CRLF, fit segments and values as the manifest describes', async (t) => {
  if (skipWithoutLogs(t)) return;
  const expected: Record<string, [epochs: number, fits: number, firstMetric: string]> = {
    '01-tomato-leaf-cnn.csv': [29, 1, 'accuracy'],
    '02-brain-tumor-append.csv': [24, 4, 'accuracy'],
    '03-mnist-digit-cnn.csv': [30, 1, 'accuracy'],
    '04-blood-group-fingerprint.csv': [41, 1, 'accuracy'],
    '05-brats2020-unet.csv': [24, 1, 'accuracy'],
    '06-braincnn-keras2.csv': [25, 1, 'acc'],
    '07-dm19-lab2.csv': [25, 1, 'acc'],
    '08-pneumonia-history.json': [10, 1, 'loss'],
    '09-vgg16-transfer-history.json': [100, 1, 'loss'],
    '10-maize-history.json': [10, 1, 'accuracy'],
  };
  let total = 0;
  for (const [file, [n, fits, first]] of Object.entries(expected)) {
    const text = readFileSync(join(LOGS, file), 'utf8');
    const log = await readKerasLog(join(LOGS, file));
    assert.equal(log.format, file.endsWith('.json') ? 'History' : 'CSVLogger');
    assert.equal(log.epochs.length, n, file);
    assert.equal(new Set(log.epochs.map((e) => e.fit)).size, fits, file);
    assert.equal(log.metrics[0], first, file);
    total += n;
    if (log.format === 'CSVLogger') {
      assert.ok(text.endsWith('\r\n') && !/[^\r]\n/.test(text), `${file} is CRLF`);
      const rows = text.split(/\r?\r\n/); // 03 and 04 end rows in \r\r\n (Windows text mode)
      assert.equal(rows[0], ['epoch', ...log.metrics].join(','));
      // each value is the number its cell's text denotes, and each epoch's line is its row
      for (const e of log.epochs) {
        const cells = rows[e.at.line - 1]!.split(',');
        assert.equal(Number(cells[0]), e.epoch);
        log.metrics.forEach((m, i) => assert.equal(e.logs[m], Number(cells[i + 1]), `${file}:${e.at.line} ${m}`));
      }
    } else {
      const json = JSON.parse(text) as Record<string, number[]>;
      assert.deepEqual(log.metrics, Object.keys(json));
      for (const e of log.epochs) for (const m of log.metrics) assert.equal(e.logs[m], json[m]![e.epoch]);
    }
  }
  assert.equal(total, 318, 'the manifest\'s total of epoch records');
  // 05's lr is short float32 text
  const l05 = await readKerasLog(join(LOGS, '05-brats2020-unet.csv'));
  assert.ok(l05.epochs.some((e) => e.logs.lr === 4.0000003e-5));
});

test('logs without a ModelCheckpoint: what save_best_only would keep follows from the log (07, 09, 10 as the manifest says)', async (t) => {
  if (skipWithoutLogs(t)) return;
  const manifest = readFileSync(MANIFEST, 'utf8');
  assert.match(section(manifest, '09-vgg16-transfer-history.json'), /val_accuracy makes a new best at epochs 0, 8, 12, 16, 25 and 32, and val_loss at 0, 11,\s+12, 16, 25 and 32/);
  const l09 = await readKerasLog(join(LOGS, '09-vgg16-transfer-history.json'));
  for (const [monitor, writes] of [['val_accuracy', [0, 8, 12, 16, 25, 32]], ['val_loss', [0, 11, 12, 16, 25, 32]]] as const) {
    const sim = simulated(simulateKerasLog({ filepath: 'best.keras', monitor, save_best_only: true }, l09));
    assert.deepEqual(sim.epochs.filter((e) => e.action._tag !== 'NotSaved').map((e) => e.epoch), writes, monitor);
  }
  // 10: the monitor changes the kept model; the tie at 7 and 8 is no improvement
  assert.match(section(manifest, '10-maize-history.json'), /the best val_loss is at epoch 1 \(0\.2139\) but the best val_accuracy is at\s+epoch 6 \(0\.9455\)/);
  const l10 = await readKerasLog(join(LOGS, '10-maize-history.json'));
  const byLoss = simulated(simulateKerasLog({ filepath: 'm.keras', save_best_only: true }, l10));
  const byAcc = simulated(simulateKerasLog({ filepath: 'm.keras', monitor: 'val_accuracy', save_best_only: true }, l10));
  assert.equal(byLoss.files[0]!.epoch, 1);
  assert.equal(byAcc.files[0]!.epoch, 6);
  assert.equal(byAcc.epochs[8]!.action._tag, 'NotSaved');
  // 07 (2019 naming): val_acc decides 'max' by its name; both monitors freeze at epoch 2
  const l07 = await readKerasLog(join(LOGS, '07-dm19-lab2.csv'));
  for (const monitor of ['val_acc', 'val_loss']) {
    const sim = simulated(simulateKerasLog({ filepath: 'm.h5', monitor, save_best_only: true }, l07));
    assert.equal(sim.files[0]!.epoch, 2, monitor);
    assert.equal(sim.monitorOp, monitor === 'val_acc' ? 'greater' : 'less');
  }
  // without save_best_only every epoch writes; a templated path writes one file per epoch
  const every = simulated(simulateKerasLog({ filepath: 'ep{epoch:02d}-{val_loss:.2f}.keras' }, l07));
  assert.equal(every.files.length, 25);
  assert.equal(every.files[0]!.filepath, 'ep01-1.26.keras', "epoch 0's val_loss 1.2596004208501546, {epoch} 1-based");
  assert.equal(every.lastHoldsBest, null);
});

test('undetermined, never guessed: an integer save_freq; mode=auto on a name that does not decide it', async (t) => {
  if (skipWithoutLogs(t)) return;
  const l05 = await readKerasLog(join(LOGS, '05-brats2020-unet.csv'));
  const freq = simulateKerasLog({ filepath: 'm.keras', save_freq: 100 }, l05);
  assert.equal(freq._tag, 'Undetermined');
  assert.equal(freq._tag === 'Undetermined' && freq.what, 'save_freq');
  assert.match(freq._tag === 'Undetermined' ? freq.message : '', /save_freq=100 .*holds no batches/);
  for (const monitor of ['val_dice_coef', 'val_mean_io_u_5', 'lr']) {
    const s = simulateKerasLog({ filepath: 'm.keras', monitor, save_best_only: true }, l05);
    assert.equal(s._tag, 'Undetermined', monitor);
    assert.match(s._tag === 'Undetermined' ? s.message : '', new RegExp(`monitor='${monitor}'.*Give mode='min' or mode='max'`));
  }
  const given = simulated(simulateKerasLog({ filepath: 'm.keras', monitor: 'val_dice_coef', mode: 'max', save_best_only: true }, l05));
  assert.equal(given.modeFrom, 'given');
  const dice = l05.epochs.map((e) => e.logs.val_dice_coef as number);
  assert.equal(given.files[0]!.epoch, dice.indexOf(Math.max(...dice)));
  // 05's commented-out call: its '.m5' suffix is Keras's constructor ValueError
  const m5 = simulateKerasLog({ filepath: 'model_.{epoch:02d}-{val_loss:.6f}.m5', verbose: 1, save_best_only: true, save_weights_only: true }, l05);
  assert.equal(m5._tag, 'ConstructionFailed');
  assert.match(m5._tag === 'ConstructionFailed' ? m5.error.message : '', /must end in `\.weights\.h5`/);
  // a filepath key the logs lack: Keras raises KeyError at the first epoch end, and fit ends there
  const key = simulated(simulateKerasLog({ filepath: '{val_acc:.3f}.keras' }, l05));
  assert.deepEqual([key.stopped?.epoch, key.stopped?.error.type, key.epochs.length, key.files.length], [0, 'KeyError', 0, 0]);
  // a monitor missing from the logs: Keras warns and saves anyway (06 has no validation)
  const l06 = await readKerasLog(join(LOGS, '06-braincnn-keras2.csv'));
  const missing = simulated(simulateKerasLog({ filepath: 'm.h5', save_best_only: true }, l06));
  assert.equal(missing.files[0]!.writes, 25);
  assert.equal(missing.best, null);
  assert.ok(missing.messages.some((m) => m.level === 'warning' && /Can save best model only with val_loss available/.test(m.message)));
});

// ---- malformed input ------------------------------------------------------------------------------

function write(name: string, content: string | Buffer): string {
  const p = join(tmp, name);
  writeFileSync(p, content);
  return p;
}

async function readError(file: string): Promise<KerasLogError> {
  try {
    await readKerasLog(file);
  } catch (e) {
    assert.ok(e instanceof KerasLogError, `a KerasLogError, not ${(e as Error).stack}`);
    return e;
  }
  assert.fail(`${file} was read`);
}

test('CSVLogger files: NA, arrays, nan/inf, LF, blank lines, an empty file; malformed files name the line and column', async () => {
  const ok = await readCsvLoggerFile(write('ok.csv', 'epoch,loss,per_class,val_loss\n0,0.5,"""[0.25, 0.5]""",nan\n\n1,0.25,"""[0.5, 0.75]""",NA\n2,inf,"""[]""",-inf\n'));
  assert.deepEqual(ok.epochs.map((e) => [e.epoch, e.at.line, e.logs]), [
    [0, 2, { loss: 0.5, per_class: { ndarray: [0.25, 0.5], dtype: 'float32', shape: [2] }, val_loss: NaN }],
    [1, 4, { loss: 0.25, per_class: { ndarray: [0.5, 0.75], dtype: 'float32', shape: [2] } }],
    [2, 5, { loss: Infinity, per_class: { ndarray: [], dtype: 'float32', shape: [0] }, val_loss: -Infinity }],
  ]);
  const empty = await readCsvLoggerFile(write('empty.csv', ''));
  assert.deepEqual([empty.metrics, empty.epochs], [[], []]);
  const semi = await readCsvLoggerFile(write('semi.csv', 'epoch;loss\r\n0;1.5\r\n'), { separator: ';' });
  assert.equal(semi.epochs[0]!.logs.loss, 1.5);

  const cases: [string, string | Buffer, RegExp][] = [
    ['lightning.csv', 'epoch,step,val_loss\n0,9,0.5\n', /lightning\.csv:1: header: expected a keras\.callbacks\.CSVLogger file .*first column is 'epoch'; got epoch,step,val_loss; it has a 'step' column/],
    ['semicolon.csv', 'epoch;loss\n0;1\n', /semicolon\.csv:1: header: .*one column: was it written with another separator than ","\?/],
    ['dup.csv', 'epoch,loss,loss\n', /dup\.csv:1: header: column 'loss' appears twice \(columns 2 and 3\)/],
    ['cells.csv', 'epoch,loss,val_loss\r\n0,1,2\r\n1,1\r\n', /cells\.csv:3: 2 cells where the header has 3 columns \(epoch, loss, val_loss\)/],
    ['epoch.csv', 'epoch,loss\r\n0,1\r\n1.5,1\r\n', /epoch\.csv:3: epoch: expected the 0-based epoch index \(a non-negative integer\), got "1\.5"/],
    ['cell.csv', 'epoch,loss,val_loss\r\n0,1,0.5x\r\n', /cell\.csv:2: val_loss: expected a number \(nan, inf and NA allowed\), got "0\.5x"/],
    ['quote.csv', 'epoch,loss\r\n0,1\r\n1,"2\r\n', /quote\.csv:\d+: a quoted cell is never closed/],
    ['long.csv', 'epoch,loss\n0,' + '1'.repeat(MAX_ROW_BYTES + 10) + '\n', new RegExp(`long\\.csv:2: a row longer than ${MAX_ROW_BYTES} characters`)],
    ['binary.csv', Buffer.from([0x1f, 0x8b, 0, 0, 1, 2, 3, 0, 0]), /binary\.csv: does not look like a CSV text file \(binary data: NUL bytes\)/],
    ['missing.csv', '', /missing\.csv: no such file/],
  ];
  for (const [name, content, re] of cases) {
    const file = name === 'missing.csv' ? join(tmp, 'never', name) : write(name, content);
    const e = await readError(file);
    assert.match(e.message, re, name);
  }
  mkdirSync(join(tmp, 'folder.csv'));
  assert.match((await readError(join(tmp, 'folder.csv'))).message, /folder\.csv: is not a file/);
});

test('History dumps: NaN and Infinity as Python writes them; lists of other lengths, non-numbers and bad JSON name the line and key', async () => {
  const nan = readHistoryFile(write('nan.json', '{"loss": [NaN, 0.5, Infinity], "val_loss": [-Infinity, 0.25, 1e-3], "note": ["NaN"]'.replace(', "note": ["NaN"]', '') + '}'));
  assert.deepEqual(nan.epochs.map((e) => e.logs), [{ loss: NaN, val_loss: -Infinity }, { loss: 0.5, val_loss: 0.25 }, { loss: Infinity, val_loss: 0.001 }]);
  const cases: [string, string, RegExp][] = [
    ['short.json', '{\n    "loss": [1, 2, 3],\n    "val_loss": [1]\n}', /short\.json:3: val_loss: 1 values where 'loss' has 3; .*validation_freq > 1\?/],
    ['string.json', '{\n "loss": [1, "NaN", 2]\n}', /string\.json:2: loss: value 1 \(epoch 1\) is "NaN"; expected a number/],
    ['null.json', '{"loss": [1, null]}', /null\.json:1: loss: value 1 \(epoch 1\) is "null"; expected a number/],
    ['notlist.json', '{"loss": 0.5}', /notlist\.json:1: loss: expected a list of per-epoch values, got 0\.5/],
    ['list.json', '[0.5]', /list\.json:1: the top level is a list; expected a JSON dump of keras History\.history/],
    ['cut.json', '{\n"loss": [1,\n2,', /cut\.json:3: not JSON \(.*\); expected a JSON dump/],
    ['bad.json', '{\n"loss": [1,]\n}', /bad\.json(:2)?: not JSON \(Unexpected token '?\]'?[^\n]*\); expected/],
  ];
  for (const [name, content, re] of cases) assert.match((await readError(write(name, content))).message, re, name);
});

test('a rendering of a simulation names the writes, the overwrites, the files at the end and the best', async () => {
  const file = write('run.csv', 'epoch,loss,val_loss\r\n0,1.0,0.9\r\n1,0.8,0.95\r\n2,0.6,0.7\r\n');
  const log = await readCsvLoggerFile(file);
  const call = { filepath: 'best.keras', monitor: 'val_loss', save_best_only: true };
  const text = renderKerasSimulation(simulateKerasLog(call, log), log, call);
  assert.equal(
    text,
    [
      `ModelCheckpoint(filepath='best.keras', monitor='val_loss', save_best_only=True) on ${file} (CSVLogger, 3 epochs)`,
      "mode: min (mode='auto', decided by the name 'val_loss')",
      'epoch      val_loss  file',
      'epoch 0     0.90000  wrote best.keras (improved from None)',
      'epoch 1     0.95000  - (did not improve from 0.90000)',
      'epoch 2     0.70000  overwrote best.keras, which held epoch 0 (improved from 0.90000)',
      'files at the end:',
      '  best.keras  holds epoch 2 (val_loss 0.70000), written 2 times',
      'best: epoch 2 (val_loss 0.70000)',
      'the last file written holds the best epoch: yes',
      '',
    ].join('\n'),
  );
});
