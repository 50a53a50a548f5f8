/**
 * The soak's SVG line chart: stacked panels sharing the time axis, a shaded band for the horizon
 * holder. Scales, ticks and their labels from d3-scale, the lines' path data from d3-shape (both
 * run under Node without a DOM); the few SVG elements around them are written here.
 */
import { scaleLinear, scaleLog } from 'd3-scale';
import { line } from 'd3-shape';
export interface Series {
  label: string;
  color: string;
  values: (number | null)[];
}
export interface Panel {
  title: string;
  unit: string;
  /** A log scale (for latencies, whose range spans several powers of ten). */
  log?: boolean;
  series: Series[];
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function chartSvg(title: string, xs: number[], panels: Panel[], band: [number, number] | null, xLabel: string): string {
  const width = 900;
  const panelH = 150;
  const gap = 40;
  const left = 70;
  const right = 190;
  const top = 40;
  const plotW = width - left - right;
  const height = top + panels.length * (panelH + gap) + 20;
  const xScale = scaleLinear().domain([0, Math.max(1, ...xs)]).range([left, left + plotW]).nice();
  const x = (v: number) => xScale(v);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${left}" y="22" font-size="14" font-weight="bold">${esc(title)}</text>`,
  ];
  panels.forEach((panel, p) => {
    const y0 = top + p * (panelH + gap);
    const all = panel.series.flatMap((s) => s.values.filter((v): v is number => v !== null && Number.isFinite(v)));
    const positive = all.filter((v) => v > 0);
    const yScale = panel.log
      ? scaleLog().domain([Math.min(...positive, 1), Math.max(...positive, 10)]).range([y0 + panelH, y0]).nice()
      : scaleLinear().domain([0, Math.max(1e-9, ...all)]).range([y0 + panelH, y0]).nice(4);
    const y = (v: number) => yScale(v);
    const shown = (v: number | null): v is number => v !== null && Number.isFinite(v) && (!panel.log || v > 0);
    out.push(`<text x="${left}" y="${y0 - 6}" font-weight="bold">${esc(panel.title)} (${esc(panel.unit)})</text>`);
    if (band) out.push(`<rect x="${x(band[0])}" y="${y0}" width="${x(band[1]) - x(band[0])}" height="${panelH}" fill="#f4d03f" opacity="0.25"/>`);
    out.push(`<rect x="${left}" y="${y0}" width="${plotW}" height="${panelH}" fill="none" stroke="#999"/>`);
    const yFormat = panel.log ? (v: number) => v.toLocaleString('en-US') : yScale.tickFormat(4);
    // A log scale's ticks: the powers of ten only.
    const yTicks = panel.log ? yScale.ticks().filter((v) => Number.isInteger(Math.log10(v))) : yScale.ticks(4);
    for (const v of yTicks) {
      out.push(`<line x1="${left}" x2="${left + plotW}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/>`);
      out.push(`<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end">${yFormat(v)}</text>`);
    }
    for (const v of xScale.ticks(6)) out.push(`<text x="${x(v)}" y="${y0 + panelH + 14}" text-anchor="middle">${v}</text>`);
    panel.series.forEach((s, i) => {
      const path = line<number | null>()
        .defined(shown)
        .x((_, k) => x(xs[k]))
        .y((v) => y(v as number));
      const d = path(s.values) ?? '';
      out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.8"/>`);
      const ly = y0 + 12 + i * 16;
      out.push(`<line x1="${left + plotW + 12}" x2="${left + plotW + 32}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"/>`);
      out.push(`<text x="${left + plotW + 38}" y="${ly}">${esc(s.label)}</text>`);
    });
  });
  out.push(`<text x="${left + plotW / 2}" y="${height - 4}" text-anchor="middle">${esc(xLabel)}</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}
