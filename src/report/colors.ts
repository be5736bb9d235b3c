/** Marker colours of the report (the browser test looks for them in the screenshot). */
export const COLORS = {
  save: '#2ca02c',
  remove: '#d62728',
  link: '#1f77b4',
  kept: '#f2b701',
  metric: '#4c78a8',
} as const;
