/**
 * `doctor`'s checks of what holds cleanup back: the oldest transaction (or slot, or prepared
 * transaction) on PostgreSQL and MariaDB, and MariaDB's InnoDB purge backlog.
 */
import type { Dialect } from '../doctor-job.options';
import type { HorizonHolder, StoreDiagnostics } from '../store/job-store.interface';
import { ago, count, unavailableNote } from './doctor-format';
import { DOCTOR_THRESHOLDS, type DoctorCheck, type Verdict } from './doctor.types';

export function horizonCheck(diagnostics: StoreDiagnostics): DoctorCheck {
  const title = diagnostics.dialect === 'postgresql' ? 'Oldest transaction holding back vacuum' : 'Oldest open transaction (holds back purge)';
  const holder = diagnostics.oldestHorizonHolder;
  if (holder === undefined) return { id: 'horizon', title, verdict: 'unknown', summary: `could not be read${unavailableNote(diagnostics)}` };
  if (holder === null) return { id: 'horizon', title, verdict: 'ok', summary: 'no other transaction is open' };
  const { warn, fail } = DOCTOR_THRESHOLDS.horizonMs;
  const age = holder.ageMs;
  const inactiveSlot = holder.kind === 'replication slot' && holder.state === 'inactive';
  const verdict: Verdict = inactiveSlot ? 'fail' : age === null ? 'ok' : age >= fail ? 'fail' : age >= warn ? 'warn' : 'ok';
  const summary = describeHolder(holder);
  if (verdict === 'ok') return { id: 'horizon', title, verdict, summary };
  return { id: 'horizon', title, verdict, summary, advice: holderAdvice(diagnostics.dialect, holder) };
}

function describeHolder(holder: HorizonHolder): string {
  const who = [holder.user && `user ${holder.user}`, holder.application && `application ${JSON.stringify(holder.application)}`, holder.database && `database ${holder.database}`]
    .filter(Boolean)
    .join(', ');
  const age = holder.ageMs === null ? '' : ` open for ${ago(holder.ageMs, false)}`;
  const xmin = holder.xminAge === null ? '' : ` (${count(holder.xminAge)} transactions old)`;
  const state = holder.state ? `, ${holder.state}` : '';
  const query = holder.query ? `; last statement: ${JSON.stringify(holder.query.replace(/\s+/g, ' ').slice(0, 120))}` : '';
  const name = holder.kind === 'transaction' ? `transaction of connection ${holder.id}` : `${holder.kind} ${JSON.stringify(holder.id)}`;
  return `${name}${age}${xmin}${state}${who ? ` (${who})` : ''}${query}`;
}

function holderAdvice(dialect: Dialect, holder: HorizonHolder): string {
  if (holder.kind === 'replication slot') {
    return `a replication slot keeps every row version since its xmin: if its consumer is gone, drop it: SELECT pg_drop_replication_slot('${holder.id}')`;
  }
  if (holder.kind === 'prepared transaction') return `a forgotten two-phase transaction: finish it with COMMIT PREPARED '${holder.id}' or ROLLBACK PREPARED '${holder.id}'`;
  if (dialect === 'postgresql') {
    return (
      `while it is open, vacuum cannot remove any row version it might still see, so doctor_job fills with dead rows. ` +
      `Find out what it is, then end it: SELECT pg_terminate_backend(${holder.id}); to stop it happening, set idle_in_transaction_session_timeout ` +
      `(and statement_timeout) for that role`
    );
  }
  return `while it is open, InnoDB cannot purge old row versions (the undo log grows and queries slow down). Find out what it is, then end it: KILL ${holder.id}`;
}

export function purgeCheck(diagnostics: StoreDiagnostics): DoctorCheck {
  const title = 'InnoDB purge backlog (history list length)';
  const backlog = diagnostics.purgeBacklog;
  if (backlog === null || backlog === undefined) return { id: 'purge', title, verdict: 'unknown', summary: `could not be read${unavailableNote(diagnostics)}` };
  const { warn, fail } = DOCTOR_THRESHOLDS.purge;
  const verdict: Verdict = backlog >= fail ? 'fail' : backlog >= warn ? 'warn' : 'ok';
  const summary = `${count(backlog)} undo log records not yet purged`;
  if (verdict === 'ok') return { id: 'purge', title, verdict, summary };
  return { id: 'purge', title, verdict, summary, advice: 'a long-running transaction holds purge back (see the transaction check): end it; if none is open, raise innodb_purge_threads' };
}
