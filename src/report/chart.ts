/**
 * The report's chart, rendered to SVG in Node (vega-lite compiled to vega, vega's headless view):
 * the monitored metric over global steps with the kept checkpoints highlighted on it, and below it
 * one lane per policy with a marker for every save, link and removal.
 */
import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { SimulationResult } from '../simulate/run.ts';
import { COLORS } from './colors.ts';

export { COLORS } from './colors.ts';

/** Markers per policy drawn at most (evenly thinned beyond it; the tables keep everything). */
const MAX_MARKERS = 4000;

interface Marker {
  policy: string;
  lane: number;
  step: number;
  epoch: number;
  action: 'save' | 'remove' | 'link' | 'kept';
  path: string;
  value: number | null;
}

function thin<T>(xs: T[], max: number): T[] {
  if (xs.length <= max) return xs;
  const out: T[] = [];
  for (let i = 0; i < max; i++) out.push(xs[Math.floor((i * xs.length) / max)]!);
  return out;
}

const finite = (x: number | null | undefined): number | null => (x === null || x === undefined || !Number.isFinite(x) ? null : x);

/** The vega-lite spec of the chart for a simulation. */
export function chartSpec(r: SimulationResult, width = 880): vl.TopLevelSpec {
  const series: { metric: string; step: number; epoch: number; value: number }[] = [];
  for (const [metric, pts] of r.series) for (const p of pts) series.push({ metric, step: p.step, epoch: p.epoch, value: p.value });
  const markers: Marker[] = [];
  const keptOnCurve: Marker[] = [];
  r.policies.forEach((p, lane) => {
    const events: Marker[] = [];
    for (const s of p.saves) events.push({ policy: p.name, lane, step: s.step, epoch: s.epoch, action: s.kind === 'link' ? 'link' : 'save', path: s.path, value: finite(s.metricValue) });
    for (const x of p.removals) events.push({ policy: p.name, lane, step: x.step, epoch: x.epoch, action: 'remove', path: x.path, value: null });
    markers.push(...thin(events, MAX_MARKERS));
    for (const k of p.kept) {
      const m: Marker = { policy: p.name, lane, step: k.step, epoch: k.epoch, action: 'kept', path: k.path, value: finite(k.metricValue) };
      markers.push(m);
      if (m.value !== null) keptOnCurve.push(m);
    }
  });
  const policyNames = r.policies.map((p) => p.name);
  const metricTitle = [...r.series.keys()].join(', ') || 'monitored metric';
  const x = { field: 'step', type: 'quantitative' as const, title: 'global step', scale: { zero: false, nice: false } };
  const tooltip = [
    { field: 'policy', type: 'nominal' as const },
    { field: 'action', type: 'nominal' as const },
    { field: 'path', type: 'nominal' as const },
    { field: 'epoch', type: 'quantitative' as const },
    { field: 'step', type: 'quantitative' as const },
  ];
  const actionScale = {
    domain: ['save', 'link', 'remove', 'kept'],
    range: [COLORS.save, COLORS.link, COLORS.remove, COLORS.kept],
  };
  const shapeScale = { domain: ['save', 'link', 'remove', 'kept'], range: ['triangle-up', 'diamond', 'cross', 'circle'] };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: { font: 'DejaVu Sans, Helvetica, Arial, sans-serif', view: { stroke: '#ddd' }, axis: { labelFontSize: 11, titleFontSize: 12 } },
    resolve: { scale: { x: 'shared' } },
    vconcat: [
      {
        width,
        height: 240,
        title: { text: `${metricTitle} over training`, anchor: 'start', fontSize: 14 },
        layer: [
          {
            data: { values: series },
            mark: { type: 'line', strokeWidth: 1.5, color: COLORS.metric, point: series.length <= 200 ? { size: 14, color: COLORS.metric } : false },
            encoding: {
              x,
              y: { field: 'value', type: 'quantitative', title: metricTitle, scale: { zero: false } },
              detail: { field: 'metric', type: 'nominal' },
            },
          },
          {
            data: { values: keptOnCurve },
            mark: { type: 'point', filled: true, size: 150, stroke: '#000', strokeWidth: 1, opacity: 1, color: COLORS.kept },
            encoding: { x, y: { field: 'value', type: 'quantitative' }, tooltip },
          },
        ],
      },
      {
        width,
        height: Math.max(48, 48 * policyNames.length),
        title: { text: 'decisions per policy (saved, linked, removed; kept files highlighted)', anchor: 'start', fontSize: 13 },
        data: { values: markers },
        mark: { type: 'point', filled: true, size: 70, opacity: 0.9 },
        encoding: {
          x,
          y: { field: 'policy', type: 'nominal', title: null, sort: policyNames, scale: { domain: policyNames } },
          // within a lane: saves above, removals below, kept files on the line
          yOffset: { field: 'action', type: 'nominal', scale: { domain: ['save', 'link', 'kept', 'remove'], paddingOuter: 0.5 } },
          color: { field: 'action', type: 'nominal', scale: actionScale, legend: { title: null, orient: 'bottom' } },
          shape: { field: 'action', type: 'nominal', scale: shapeScale, legend: { title: null, orient: 'bottom' } },
          size: { condition: { test: "datum.action === 'kept'", value: 220 }, value: 70 },
          stroke: { condition: { test: "datum.action === 'kept'", value: '#000' }, value: null },
          order: { field: 'lane', type: 'quantitative' },
          tooltip,
        },
      },
    ],
  } as vl.TopLevelSpec;
}

/** Renders the chart as a standalone SVG document (no browser, no canvas). */
export async function renderChartSvg(r: SimulationResult, width?: number): Promise<string> {
  // vega-lite reports spec warnings on the console; the chart is built here, so they are kept quiet
  const compiled = vl.compile(chartSpec(r, width), { logger: vega.logger(vega.None) }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
