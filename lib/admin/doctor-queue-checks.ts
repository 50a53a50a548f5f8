/** `doctor`'s checks of the schema and the queue: migrations, the oldest due job, paused types, dead letters. */
import type { MigrationStatus } from '../cli/migrations';
import type { PausedType, QueueStats } from '../store/job-store.interface';
import { ago, count } from './doctor-format';
import { DOCTOR_THRESHOLDS, type DoctorCheck, type Verdict } from './doctor.types';

export function schemaCheck(status: MigrationStatus): DoctorCheck {
  const title = 'Schema and migrations';
  const applied = status.migrations.filter((m) => m.state === 'applied').length;
  if (status.upToDate) return { id: 'schema', title, verdict: 'ok', summary: `all ${applied} Doctor Job migrations applied` };
  const problems = status.migrations.filter((m) => m.state === 'failed' || m.state === 'modified');
  if (problems.length) {
    return {
      id: 'schema',
      title,
      verdict: 'fail',
      summary: problems.map((m) => `${m.name} is ${m.state}`).join('; '),
      advice: 'run `npx doctor-job status` for what happened to each and how to get out of it',
    };
  }
  return {
    id: 'schema',
    title,
    verdict: 'fail',
    summary: `${status.pending.length} of ${status.migrations.length} migrations pending: ${status.pending.join(', ')}`,
    advice: 'run `npx doctor-job migrate` (the runner does not start while a migration is pending)',
  };
}

export function oldestDueCheck(stats: QueueStats, paused: PausedType[]): DoctorCheck {
  const title = 'Oldest due job';
  const pausedTypes = new Set(paused.map((p) => p.type));
  const live = stats.types.filter((t) => !pausedTypes.has(t.type) && t.due > 0);
  const due = live.reduce((sum, t) => sum + t.due, 0);
  if (live.length === 0) {
    const held = stats.types.filter((t) => pausedTypes.has(t.type) && t.due > 0).reduce((sum, t) => sum + t.due, 0);
    return { id: 'oldest-due', title, verdict: 'ok', summary: held ? `no due job waits, but ${count(held)} of paused types` : 'no job is waiting to be claimed' };
  }
  const oldest = live.reduce((a, b) => (b.oldestDueAgeMs > a.oldestDueAgeMs ? b : a));
  const { warn, fail } = DOCTOR_THRESHOLDS.oldestDueMs;
  const verdict: Verdict = oldest.oldestDueAgeMs >= fail ? 'fail' : oldest.oldestDueAgeMs >= warn ? 'warn' : 'ok';
  const summary = `${count(due)} due; the oldest (${oldest.type}) has waited ${ago(oldest.oldestDueAgeMs, false)}`;
  if (verdict === 'ok') return { id: 'oldest-due', title, verdict, summary };
  return {
    id: 'oldest-due',
    title,
    verdict,
    summary,
    advice:
      'no runner is claiming fast enough: check that the app instances run (health endpoint, logs: "Could not claim jobs"), ' +
      'that a handler for the type is registered where the runner runs, and raise concurrency/batchSize if the runners are busy (doctor-job stats)',
  };
}

export function pausedCheck(paused: PausedType[], now: Date): DoctorCheck {
  const title = 'Paused job types';
  if (paused.length === 0) return { id: 'paused', title, verdict: 'ok', summary: 'none' };
  return {
    id: 'paused',
    title,
    verdict: 'warn',
    summary: paused.map((p) => `${p.type} (since ${ago(now.getTime() - p.pausedAt.getTime())})`).join(', '),
    advice: `no runner claims them and their jobs wait; resume each with npx doctor-job resume <type> when it should run again`,
  };
}

export function deadLettersCheck(stats: QueueStats): DoctorCheck {
  const total = stats.deadLetters.reduce((sum, d) => sum + d.count, 0);
  const summary = total === 0 ? 'none' : `${count(total)}: ${stats.deadLetters.map((d) => `${d.type} ${count(d.count)}`).join(', ')}`;
  return {
    id: 'dead-letters',
    title: 'Dead letters',
    verdict: 'ok',
    summary,
    advice: total ? 'look at them with npx doctor-job dead-letters list; replay or delete them once the cause is fixed' : undefined,
  };
}
