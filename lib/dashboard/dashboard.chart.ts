import type { MinuteCounts } from './dashboard.activity';

/**
 * A stacked bar chart of per-minute counts as inline SVG (no script, no style attribute: colours
 * come from the stylesheet's classes). Each series is one <path> of vertical strokes, so 60 bars
 * cost a few hundred bytes rather than 180 <rect> elements. Only numbers go in: nothing to escape.
 */
export function barChart(series: MinuteCounts[], options: { width: number; height: number; label: string; className: string }): string {
  const { width, height } = options;
  const step = width / series.length;
  const barWidth = Math.max(1, step * 0.8);
  const max = Math.max(1, ...series.map((m) => m.processed + m.failed + m.deadLettered));
  const scale = (height - 1) / max;
  const paths = { processed: '', failed: '', deadLettered: '' };
  series.forEach((m, i) => {
    const x = round(i * step + step / 2);
    let y = height;
    for (const kind of ['processed', 'failed', 'deadLettered'] as const) {
      if (m[kind] === 0) continue;
      const h = round(m[kind] * scale);
      paths[kind] += `M${x} ${round(y)}v-${h}`;
      y -= h;
    }
  });
  const path = (d: string, cls: string) => (d ? `<path class="${cls}" stroke-width="${round(barWidth)}" d="${d}"/>` : '');
  return (
    `<svg class="${options.className}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${options.label}">` +
    `<line class="axis" x1="0" y1="${height - 0.5}" x2="${width}" y2="${height - 0.5}"/>` +
    path(paths.processed, 'p') +
    path(paths.failed, 'f') +
    path(paths.deadLettered, 'd') +
    `</svg>`
  );
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
