/** Marker colours of the report (the browser test looks for them in the screenshot). */
export const COLORS = {
  save: '#2ca02c',
  remove: '#d62728',
  link: '#1f77b4',
  kept: '#f2b701',
  metric: '#4c78a8',
} as const;

/** One colour per metric panel (the first is COLORS.metric; none is a marker colour). */
export const METRIC_COLORS = ['#4c78a8', '#9467bd', '#8c564b', '#17becf', '#e377c2', '#7f7f7f'] as const;
