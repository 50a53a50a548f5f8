import { Eta } from 'eta';
import { DEAD_LETTER_REASONS } from '../store/job-store.interface';
import type { AdminStats, DeadLetterDetail, JobDetail, Page } from '../admin/admin.types';
import type { DeadLetter, QueuedJob } from '../store/job-store.interface';
import { totals, type MinuteCounts } from './dashboard.activity';
import { ASSET_VERSION } from './dashboard.assets';
import { barChart } from './dashboard.chart';
import { TEMPLATES } from './dashboard.templates';

/** What every page needs besides its own data. */
export interface PageContext {
  /** The console's URL path, e.g. `/jobs` (the app's global prefix included). */
  base: string;
  csrf: string;
  readOnly: boolean;
  refreshMs: number;
  /** The app's sign-out path (a POST form in the header), or null. */
  signOutUrl: string | null;
  flash?: string;
}

/** Filters as the query string gave them (text, '' when absent), shown back in the filter form. */
export type QueryEcho = Record<string, string | undefined>;

const eta = new Eta({ autoEscape: true, cache: true, rmWhitespace: true, useWith: false });
for (const [name, text] of Object.entries(TEMPLATES)) eta.loadTemplate(name, text);

/** Formatting helpers the templates call. Their output is HTML the templates insert raw, so every one escapes what it is given. */
const helpers = {
  time(value: Date | string | null): string {
    if (value === null) return '—';
    const date = value instanceof Date ? value : new Date(value);
    const iso = Number.isNaN(date.getTime()) ? String(value) : date.toISOString();
    const text = iso.replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');
    return `<time datetime="${escapeHtml(iso)}">${escapeHtml(text)}</time>`;
  },
  clip(text: string | null, max = 120): string {
    if (!text) return '';
    const line = text.split('\n')[0];
    return line.length > max ? `${line.slice(0, max - 1)}…` : line;
  },
};

export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function page(ctx: PageContext, title: string, nav: string, template: string, data: object): string {
  const body = eta.render(template, { ...ctx, h: helpers, ...data });
  return eta.render('@layout', { ...ctx, assetVersion: ASSET_VERSION, title, nav, body });
}

function action(ctx: PageContext, name: string, fields: [string, string][], label: string, testid: string, options: { danger?: boolean; after?: string; ariaLabel?: string } = {}): string {
  return eta.render('@action', { base: ctx.base, csrf: ctx.csrf, action: name, fields, label, testid, danger: options.danger, after: options.after, label2: options.ariaLabel });
}

function pager(first: string | null, next: string | null): string {
  return eta.render('@pager', { first, next });
}

/** A link to `path` with the given query (empty values left out). */
export function link(base: string, path: string, query: Record<string, string | undefined | null>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined && value !== null && value !== '') params.set(key, value);
  const text = params.toString();
  return `${base}${path}${text ? `?${text}` : ''}`;
}

/** Payloads shown up to this many characters (a page a phone can load); the CLI's `jobs show --json` prints any size. */
export const MAX_PAYLOAD_CHARS = 100_000;

function pretty(payload: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(payload, null, 2) ?? String(payload);
  } catch {
    text = String(payload);
  }
  if (text.length <= MAX_PAYLOAD_CHARS) return text;
  return `${text.slice(0, MAX_PAYLOAD_CHARS)}\n… (${text.length - MAX_PAYLOAD_CHARS} more characters not shown: doctor-job jobs show <id> --json or dead-letters show <id> --json prints it whole)`;
}

function age(ms: number): string {
  if (ms <= 0) return '—';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

function chartLabel(sum: MinuteCounts): string {
  return `Last hour: ${sum.processed} processed, ${sum.failed} failed, ${sum.deadLettered} dead-lettered`;
}

export interface OverviewData {
  stats: AdminStats;
  activity: { startedAt: Date; types: string[]; lastHour: (type?: string) => MinuteCounts[] };
}

export function overviewPage(ctx: PageContext, { stats, activity }: OverviewData): string {
  const byType = new Map(stats.types.map((t) => [t.type, t]));
  for (const type of activity.types) {
    if (!byType.has(type)) byType.set(type, { type, due: 0, scheduled: 0, running: 0, total: 0, oldestDueAgeMs: 0, deadLetters: 0, paused: false, pausedAt: null });
  }
  const rows = [...byType.values()]
    .sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0))
    .map((t) => {
      const series = activity.lastHour(t.type);
      const last = totals(series);
      return {
        ...t,
        oldestDue: age(t.oldestDueAgeMs),
        last,
        spark: barChart(series, { width: 120, height: 20, label: chartLabel(last), className: 'spark' }),
        action: t.paused
          ? action(ctx, 'resume', [['type', t.type]], 'Resume', 'resume', { ariaLabel: `Resume ${t.type}` })
          : action(ctx, 'pause', [['type', t.type]], 'Pause', 'pause', { ariaLabel: `Pause ${t.type}` }),
      };
    });
  const series = activity.lastHour();
  const last = totals(series);
  return page(ctx, 'Overview', 'overview', '@overview', {
    rows,
    totals: stats.totals,
    pausedCount: stats.paused.length,
    last,
    startedAt: activity.startedAt,
    chart: barChart(series, { width: 600, height: 100, label: chartLabel(last), className: 'chart' }),
  });
}

function jobActions(ctx: PageContext, job: QueuedJob, after?: string): string {
  if (job.state === 'running') return '<span class="muted">running</span>';
  const parts = [action(ctx, 'jobs/cancel', [['ids', job.id]], 'Cancel', 'cancel', { danger: true, after, ariaLabel: `Cancel job ${job.id}` })];
  if (job.state === 'scheduled') parts.push(action(ctx, 'jobs/run-now', [['ids', job.id]], 'Run now', 'run-now', { ariaLabel: `Run job ${job.id} now` }));
  return parts.join(' ');
}

/** `pausedTypes`: the types paused now; their queued jobs say so (a due job that does not run is otherwise a puzzle). */
export function jobsPage(ctx: PageContext, q: QueryEcho, result: Page<QueuedJob>, pausedTypes: ReadonlySet<string> = new Set()): string {
  const query = { state: q.state, type: q.type, orderingKey: q.orderingKey, dedupKey: q.dedupKey, limit: q.limit };
  return page(ctx, 'Jobs', 'jobs', '@jobs', {
    q,
    items: result.items.map((j) => ({ ...j, typePaused: j.state !== 'running' && pausedTypes.has(j.type), actions: ctx.readOnly ? '' : jobActions(ctx, j) })),
    pager: pager(q.cursor ? link(ctx.base, '/jobs', query) : null, result.nextCursor ? link(ctx.base, '/jobs', { ...query, cursor: result.nextCursor }) : null),
  });
}

export function jobPage(ctx: PageContext, job: JobDetail, typePaused = false): string {
  return page(ctx, `Job ${job.id}`, 'jobs', '@job', {
    job,
    typePaused: typePaused && job.state !== 'running',
    payload: pretty(job.payload),
    actions: ctx.readOnly ? '' : jobActions(ctx, job, `${ctx.base}/jobs`),
    history: eta.render('@history', { history: job.history, h: helpers }),
  });
}

export function deadLettersPage(ctx: PageContext, q: QueryEcho, result: Page<DeadLetter>, count: number): string {
  const filter = { type: q.type, reason: q.reason, failedAfter: q.failedAfter, failedBefore: q.failedBefore };
  const given = Object.entries(filter).filter(([, v]) => v);
  const filterText = given.map(([k, v]) => `${k} ${v}`).join(', ');
  const bulkFields = new URLSearchParams(given.length ? (given as [string, string][]) : [['all', 'true']]).toString();
  const query = { ...filter, limit: q.limit };
  return page(ctx, 'Dead letters', 'dead-letters', '@dead-letters', {
    q,
    reasons: ['', ...DEAD_LETTER_REASONS],
    count,
    filterText: filterText ? `(${filterText})` : '',
    bulkFields,
    items: result.items.map((d) => ({
      ...d,
      actions: ctx.readOnly
        ? ''
        : action(ctx, 'dead-letters/replay', [['ids', d.id]], 'Replay', 'replay', { ariaLabel: `Replay dead letter ${d.id}` }) +
          ' ' +
          action(ctx, 'dead-letters/delete', [['ids', d.id]], 'Delete', 'delete', { danger: true, ariaLabel: `Delete dead letter ${d.id}` }),
    })),
    pager: pager(q.cursor ? link(ctx.base, '/dead-letters', query) : null, result.nextCursor ? link(ctx.base, '/dead-letters', { ...query, cursor: result.nextCursor }) : null),
  });
}

export function deadLetterPage(ctx: PageContext, letter: DeadLetterDetail): string {
  const after = `${ctx.base}/dead-letters`;
  return page(ctx, `Dead letter ${letter.id}`, 'dead-letters', '@dead-letter', {
    letter,
    payload: pretty(letter.payload),
    actions: ctx.readOnly
      ? ''
      : action(ctx, 'dead-letters/replay', [['ids', letter.id]], 'Replay', 'replay', { after, ariaLabel: `Replay dead letter ${letter.id}` }) +
        ' ' +
        action(ctx, 'dead-letters/delete', [['ids', letter.id]], 'Delete', 'delete', { danger: true, after, ariaLabel: `Delete dead letter ${letter.id}` }),
    history: eta.render('@history', { history: letter.history, h: helpers }),
  });
}

/** An error page, or the outcome of an action posted by a plain form (no script). */
export function messagePage(ctx: PageContext, options: { title: string; heading: string; message: string; back: string; backLabel?: string; testid: string }): string {
  return page(ctx, options.title, '', '@message', options);
}
