/**
 * The report's chart, rendered to SVG in Node (vega-lite compiled to vega, vega's headless view):
 * one panel per metric the policies are measured on (its own axis, colour and legend entry: two
 * monitors never share a scale), each over global steps with the kept checkpoints of the policies
 * measured on it highlighted, and below them one lane per policy with a marker for every save,
 * link and removal.
 */
import * as vega from 'vega';
import * as vl from 'vega-lite';
import { toReport, type ReportInput } from '../simulate/dialects/result.ts';
import { COLORS, METRIC_COLORS } from './colors.ts';

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
export function chartSpec(input: ReportInput, width = 880): vl.TopLevelSpec {
  const r = toReport(input);
  const markers: Marker[] = [];
  /** kept files on the curve of the metric their policy is measured on */
  const keptOn = new Map<string, Marker[]>();
  r.policies.forEach((p, lane) => {
    const events: Marker[] = [];
    for (const s of p.saves) events.push({ policy: p.name, lane, step: s.step, epoch: s.epoch, action: 'kind' in s && s.kind === 'link' ? 'link' : 'save', path: s.path, value: finite(s.metricValue) });
    for (const x of p.removals) events.push({ policy: p.name, lane, step: x.step, epoch: x.epoch, action: 'remove', path: x.path, value: null });
    markers.push(...thin(events, MAX_MARKERS));
    const metric = p.bestObserved?.metric ?? p.metric?.name ?? null;
    for (const k of p.kept) {
      const m: Marker = { policy: p.name, lane, step: k.step, epoch: k.epoch, action: 'kept', path: k.path, value: finite(k.metricValue) };
      markers.push(m);
      if (m.value !== null && metric !== null) keptOn.set(metric, [...(keptOn.get(metric) ?? []), m]);
    }
  });
  const policyNames = r.policies.map((p) => p.name);
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
  const metricNames = [...r.series.keys()];
  const colorOf = (i: number) => METRIC_COLORS[i % METRIC_COLORS.length]!;
  const legend = { field: 'metric', type: 'nominal' as const, scale: { domain: metricNames, range: metricNames.map((_, i) => colorOf(i)) }, legend: { title: null, orient: 'top-right' as const } };
  const panels = (metricNames.length ? metricNames : ['monitored metric']).map((metric, i) => {
    const values = (r.series.get(metric) ?? []).map((p) => ({ metric, step: p.step, epoch: p.epoch, value: p.value }));
    return {
      width,
      height: metricNames.length > 1 ? 180 : 240,
      title: { text: `${metric} over training`, anchor: 'start', fontSize: 14 },
      // each panel its own y scale: a loss and an accuracy are never drawn on one axis
      resolve: { scale: { y: 'independent', color: 'independent' } },
      layer: [
        {
          data: { values },
          mark: { type: 'line', strokeWidth: 1.5, color: colorOf(i), point: values.length <= 200 ? { size: 14, color: colorOf(i) } : false },
          encoding: { x, y: { field: 'value', type: 'quantitative', title: metric, scale: { zero: false } }, color: legend },
        },
        {
          data: { values: keptOn.get(metric) ?? [] },
          mark: { type: 'point', filled: true, size: 150, stroke: '#000', strokeWidth: 1, opacity: 1, color: COLORS.kept },
          encoding: { x, y: { field: 'value', type: 'quantitative' }, tooltip },
        },
      ],
    };
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: { font: 'DejaVu Sans, Helvetica, Arial, sans-serif', view: { stroke: '#ddd' }, axis: { labelFontSize: 11, titleFontSize: 12 } },
    resolve: { scale: { x: 'shared' } },
    vconcat: [
      ...panels,
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
export async function renderChartSvg(r: ReportInput, width?: number): Promise<string> {
  // vega-lite reports spec warnings on the console; the chart is built here, so they are kept quiet
  const compiled = vl.compile(chartSpec(r, width), { logger: vega.logger(vega.None) }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
