/** The console commands' shared pieces of text: plurals, the next-page line, times, a job's failed attempts. */
import type { Page } from '../admin/admin.types';
import type { JobAttempt } from '../store/job-store.interface';
import { cell, relative, table } from './output';

export const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;

export function more(page: Page<unknown>): string {
  return page.nextCursor ? `More: --cursor ${page.nextCursor}\n` : '';
}

export function history(attempts: JobAttempt[]): string {
  if (attempts.length === 0) return 'History: no failed attempt recorded\n';
  const rows = attempts.map((a) => [a.jobId, String(a.attempt), time(a.failedAt), cell(a.errorMessage, 80)]);
  return `History (${plural(attempts.length, 'failed attempt')}):\n${table(['JOB', 'ATTEMPT', 'FAILED AT', 'ERROR'], rows).replace(/^(?=.)/gm, '  ')}`;
}

export const time = (date: Date | null) => (date ? `${date.toISOString()} (${relative(date)})` : '');
