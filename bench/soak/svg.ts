/**
 * A hand-built SVG line chart: stacked panels sharing the time axis, a shaded band for the
 * horizon holder. No charting library (see SOAK.md for why).
 */
export interface Series {
  label: string;
  color: string;
  values: (number | null)[];
}
export interface Panel {
  title: string;
  unit: string;
  series: Series[];
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

const fmt = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toPrecision(2)).replace(/\.0+$/, '');

export function chartSvg(title: string, xs: number[], panels: Panel[], band: [number, number] | null, xLabel: string): string {
  const width = 900;
  const panelH = 150;
  const gap = 40;
  const left = 70;
  const right = 190;
  const top = 40;
  const plotW = width - left - right;
  const height = top + panels.length * (panelH + gap) + 20;
  const xMax = Math.max(1, ...xs);
  const x = (v: number) => left + (v / xMax) * plotW;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${left}" y="22" font-size="14" font-weight="bold">${esc(title)}</text>`,
  ];
  panels.forEach((panel, p) => {
    const y0 = top + p * (panelH + gap);
    const all = panel.series.flatMap((s) => s.values.filter((v): v is number => v !== null && Number.isFinite(v)));
    const yMax = niceMax(Math.max(0, ...all));
    const y = (v: number) => y0 + panelH - (v / yMax) * panelH;
    out.push(`<text x="${left}" y="${y0 - 6}" font-weight="bold">${esc(panel.title)} (${esc(panel.unit)})</text>`);
    if (band) out.push(`<rect x="${x(band[0])}" y="${y0}" width="${x(band[1]) - x(band[0])}" height="${panelH}" fill="#f4d03f" opacity="0.25"/>`);
    out.push(`<rect x="${left}" y="${y0}" width="${plotW}" height="${panelH}" fill="none" stroke="#999"/>`);
    for (let k = 0; k <= 4; k++) {
      const v = (yMax * k) / 4;
      out.push(`<line x1="${left}" x2="${left + plotW}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/>`);
      out.push(`<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end">${fmt(v)}</text>`);
    }
    for (let k = 0; k <= 6; k++) {
      const v = (xMax * k) / 6;
      out.push(`<text x="${x(v)}" y="${y0 + panelH + 14}" text-anchor="middle">${fmt(v)}</text>`);
    }
    panel.series.forEach((s, i) => {
      let d = '';
      let pen = false;
      s.values.forEach((v, k) => {
        if (v === null || !Number.isFinite(v)) return void (pen = false);
        d += `${pen ? 'L' : 'M'}${x(xs[k]).toFixed(1)},${y(v).toFixed(1)}`;
        pen = true;
      });
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
