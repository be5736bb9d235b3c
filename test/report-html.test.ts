/**
 * The HTML report: a self-contained page whose chart is SVG rendered in Node, checked in a real
 * headless browser (Debian's chromium): the screenshot must be a non-trivial picture holding the
 * chart's colours. Skipped with a message when chromium is not installed (.ci/setup-chromium.sh).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../src/core/config.ts';
import { loadLightningRun, runFactsOf } from '../src/simulate/lightningRun.ts';
import { simulate, type SimulationResult } from '../src/simulate/run.ts';
import { COLORS, renderChartSvg } from '../src/report/chart.ts';
import { renderHtml } from '../src/report/html.ts';

const runDir = fileURLToPath(new URL('./fixtures/lightning-runs/runs/008-val-half-epoch-topk2', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'ckpt-report-'));

function chromium(): string | null {
  for (const bin of ['chromium', 'chromium-browser']) {
    const r = spawnSync('sh', ['-c', `command -v ${bin}`], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.trim()) return r.stdout.trim();
  }
  return null;
}
const browser = chromium();

let cached: SimulationResult | null = null;
async function comparison(): Promise<SimulationResult> {
  if (cached) return cached;
  const run = loadLightningRun(runDir);
  cached = await simulate({
    policies: [
      { name: 'as run (top-2)', config: run.config },
      { name: 'top-1', config: parseConfig({ dirpath: 'ckpts', monitor: 'val_loss', save_top_k: 1 }) },
      { name: 'every validation', config: parseConfig({ dirpath: 'ckpts', save_top_k: -1 }) },
    ],
    logs: run.csvLogs,
    run: runFactsOf(run, true),
    cwd: run.dir,
    ckptSize: 1.5e9,
    metric: { name: 'val_loss', mode: 'min' },
  });
  return cached;
}

/** A minimal PNG decoder: 8-bit RGB or RGBA, not interlaced (what chromium writes). */
function decodePng(buf: Buffer): { width: number; height: number; rgba: Uint8Array } {
  assert.deepEqual([...buf.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10], 'PNG signature');
  let pos = 8;
  let width = 0;
  let height = 0;
  let colorType = 0;
  const idat: Buffer[] = [];
  while (pos < buf.length) {
    const len = buf.readUInt32BE(pos);
    const type = buf.toString('latin1', pos + 4, pos + 8);
    const data = buf.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      assert.equal(data[8], 8, 'bit depth');
      colorType = data[9]!;
      assert.equal(data[12], 0, 'not interlaced');
    } else if (type === 'IDAT') idat.push(data);
    pos += 12 + len;
  }
  const channels = colorType === 6 ? 4 : colorType === 2 ? 3 : 0;
  assert.ok(channels > 0, `colour type ${colorType}`);
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const out = new Uint8Array(width * height * 4);
  const prev = new Uint8Array(stride);
  const cur = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)]!;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? cur[i - channels]! : 0;
      const b = prev[i]!;
      const c = i >= channels ? prev[i - channels]! : 0;
      let v = line[i]!;
      if (f === 1) v += a;
      else if (f === 2) v += b;
      else if (f === 3) v += (a + b) >> 1;
      else if (f === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      cur[i] = v & 0xff;
    }
    for (let x = 0; x < width; x++) {
      for (let k = 0; k < 3; k++) out[(y * width + x) * 4 + k] = cur[x * channels + k]!;
      out[(y * width + x) * 4 + 3] = channels === 4 ? cur[x * channels + 3]! : 255;
    }
    prev.set(cur);
  }
  return { width, height, rgba: out };
}

const hex = (h: string) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16)) as [number, number, number];

function pixelsNear(img: { rgba: Uint8Array }, color: string, tolerance = 24): number {
  const [r, g, b] = hex(color);
  let n = 0;
  for (let i = 0; i < img.rgba.length; i += 4) {
    if (Math.abs(img.rgba[i]! - r) <= tolerance && Math.abs(img.rgba[i + 1]! - g) <= tolerance && Math.abs(img.rgba[i + 2]! - b) <= tolerance) n++;
  }
  return n;
}

test('the chart is SVG rendered in Node: the metric line, one lane per policy, markers in their colours', async () => {
  const r = await comparison();
  const svg = await renderChartSvg(r);
  assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.ok(svg.includes(`stroke="${COLORS.metric}"`), 'metric line');
  for (const c of [COLORS.kept, COLORS.save, COLORS.remove]) assert.ok(svg.includes(`fill="${c}"`), `markers in ${c}`);
  for (const p of r.policies) assert.ok(svg.includes(`>${p.name}<`), `a lane labelled ${p.name}`);
});

test('the page is self-contained: inline SVG and CSS, no script, nothing to fetch', async () => {
  const html = await renderHtml(await comparison());
  assert.ok(html.startsWith('<!doctype html>'));
  assert.ok(html.includes('<svg '));
  assert.ok(!/<script|<link |\ssrc=|@import|url\(/i.test(html));
  const external = html.match(/https?:\/\/[^"'\s<]+/g) ?? [];
  assert.deepEqual([...new Set(external)].filter((u) => !u.startsWith('http://www.w3.org/')), []);
  for (const p of (await comparison()).policies) for (const k of p.kept) assert.ok(html.includes(k.path), k.path);
});

test('in a real browser the page shows the chart: a varied picture with the chart colours', { skip: browser ? false : 'chromium is not installed (run .ci/setup-chromium.sh)', timeout: 90_000 }, async () => {
  const page = join(tmp, 'report.html');
  writeFileSync(page, await renderHtml(await comparison()));
  const png = join(tmp, 'shot.png');
  execFileSync(
    browser!,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--hide-scrollbars',
      `--user-data-dir=${mkdtempSync(join(tmp, 'profile-'))}`,
      '--window-size=1150,820',
      `--screenshot=${png}`,
      `file://${page}`,
    ],
    { stdio: 'ignore', timeout: 80_000 },
  );
  const img = decodePng(readFileSync(png));
  assert.deepEqual([img.width, img.height], [1150, 820]);
  const colours = new Set<number>();
  for (let i = 0; i < img.rgba.length; i += 4) colours.add((img.rgba[i]! << 16) | (img.rgba[i + 1]! << 8) | img.rgba[i + 2]!);
  assert.ok(colours.size > 200, `only ${colours.size} distinct colours: an empty or broken page`);
  const white = pixelsNear(img, '#ffffff', 2);
  assert.ok(white < img.width * img.height * 0.97, 'the page is almost all white');
  for (const [name, c] of Object.entries({ kept: COLORS.kept, save: COLORS.save, remove: COLORS.remove, metric: COLORS.metric })) {
    assert.ok(pixelsNear(img, c) >= 20, `no ${name} colour (${c}) on screen`);
  }
});
