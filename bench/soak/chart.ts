/**
 * The soak's chart from its samples: throughput, latency (log scale), table and index sizes,
 * tuples, worker memory. Used by bench/soak.ts at the end of a run, and by itself to draw a saved
 * run again: `node .bench-build/bench/soak/chart.js bench/results/soak.json bench/results/soak.svg`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { chartSvg } from './svg';

/** What the chart needs of a sample (bench/soak.ts's Sample, as saved in the results JSON). */
export interface ChartSample {
  at: number;
  producedPerS: number;
  donePerS: number;
  queue: number;
  p50: number | null;
  p99: number | null;
  tableBytes: number;
  indexes: Record<string, number>;
  live: number;
  dead: number;
  workers: { rss: number; heap: number }[];
}

const MB = 1048576;
const finite = (v: number | null) => (v !== null && Number.isFinite(v) ? v : null);

export function soakChart(title: string, samples: ChartSample[], held: { from: number; to: number }, lengthMs: number): string {
  const xs = samples.map((s) => s.at / 1000);
  const indexNames = Object.keys(samples[0]?.indexes ?? {});
  const workers = samples[0]?.workers.length ?? 0;
  return chartSvg(
    title,
    xs,
    [
      { title: 'throughput', unit: 'jobs/s', series: [{ label: 'enqueued/s', color: '#999', values: samples.map((s) => s.producedPerS) }, { label: 'done/s', color: '#1f77b4', values: samples.map((s) => s.donePerS) }] },
      { title: 'commit -> start latency', unit: 'ms, log scale', log: true, series: [{ label: 'p50', color: '#2ca02c', values: samples.map((s) => finite(s.p50)) }, { label: 'p99', color: '#d62728', values: samples.map((s) => finite(s.p99)) }] },
      {
        title: 'job table size',
        unit: 'MB',
        series: [
          { label: 'table', color: '#1f77b4', values: samples.map((s) => s.tableBytes / MB) },
          ...indexNames.map((n, i) => ({ label: n, color: ['#ff7f0e', '#2ca02c', '#9467bd', '#8c564b', '#e377c2'][i % 5], values: samples.map((s) => (s.indexes[n] ?? 0) / MB) })),
        ],
      },
      { title: 'tuples', unit: 'rows', series: [{ label: 'live', color: '#1f77b4', values: samples.map((s) => s.live) }, { label: 'dead', color: '#d62728', values: samples.map((s) => s.dead) }, { label: 'queue (count)', color: '#999', values: samples.map((s) => s.queue) }] },
      {
        title: 'worker memory',
        unit: 'MB',
        series: Array.from({ length: workers }, (_, i) => [
          { label: `w${i + 1} RSS`, color: ['#1f77b4', '#ff7f0e'][i % 2], values: samples.map((s) => s.workers[i].rss / MB) },
          { label: `w${i + 1} heap`, color: ['#aec7e8', '#ffbb78'][i % 2], values: samples.map((s) => s.workers[i].heap / MB) },
        ]).flat(),
      },
    ],
    [held.from / 1000, (held.to || lengthMs) / 1000],
    'seconds since the start',
  );
}

if (require.main === module) {
  const [input, output] = process.argv.slice(2);
  if (!input || !output) {
    process.stderr.write('usage: node .bench-build/bench/soak/chart.js <results.json> <chart.svg>\n');
    process.exit(2);
  }
  const run = JSON.parse(readFileSync(input, 'utf8'));
  const { seconds, rate } = run.settings;
  writeFileSync(output, soakChart(`Doctor Job soak: ${seconds} s at ${rate} jobs/s, 2 workers (shaded: horizon holder open)`, run.samples, run.held, seconds * 1000));
  process.stdout.write(`wrote ${output}\n`);
}
