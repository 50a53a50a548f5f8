import type { MigrationStatus } from '../cli/migrations';
import { DeadLetterNotFoundError, InvalidArgumentError } from '../errors/invalid-argument.error';
import { JobNotFoundError, JobRunningError } from '../errors/job-not-found.error';
import type { DeadLetter, JobStore, PausedType, QueuedJob } from '../store/job-store.interface';
import { compareIds } from '../store/rows';
import type {
  AdminStats,
  CancelResult,
  DeadLetterBulkMatch,
  DeadLetterDetail,
  DeadLetterListQuery,
  DeadLetterMatch,
  DeleteResult,
  JobDetail,
  JobListOptions,
  Page,
  PauseResult,
  ReplayResult,
  RunNowResult,
  TypeOverview,
} from './admin.types';
import { checkId, checkIds, checkLimit, checkMatch, checkName, checkState, matchesAll, optionalName } from './admin.validation';
import { doctorReport, type DoctorReport } from './doctor';

/** Where the store comes from: the module's JobStoreHost (the app's Prisma client), or any `{ store }` (the CLI's). */
export interface JobStoreSource {
  readonly store: JobStore;
}

/** The error message of a job cancelled without one of its own. */
export const CANCELLED_MESSAGE = 'Cancelled by an operator';

/**
 * The operator's console as an API: the queue by state, one job in full, cancel and run now; the
 * dead letters with their attempt history, replay and delete by id or by filter; pause and resume
 * a job type for every instance; stats and a diagnosis of the tables. Every action is one
 * transaction and returns what it changed. Injectable (DoctorJobModule provides and exports it);
 * the `doctor-job` CLI and a dashboard call the same methods. It writes no SQL: the store does.
 *
 * Errors are Nest HTTP exceptions, so a controller that lets them through answers with their
 * status: InvalidArgumentError (400) for a malformed id, filter or page size; JobNotFoundError /
 * DeadLetterNotFoundError (404) for ids that are not there; JobRunningError (409) for a job a
 * worker holds under a live lease. An action that throws has changed nothing.
 */
export class DoctorJobAdminService {
  constructor(private readonly source: JobStoreSource) {}

  private get store(): JobStore {
    return this.source.store;
  }

  /** Per type: due, scheduled, running, dead letters, paused, and the oldest due job's age; and the totals. */
  async stats(): Promise<AdminStats> {
    const [queue, paused] = [await this.store.stats(), await this.store.listPausedTypes()];
    const byType = new Map<string, TypeOverview>();
    const entry = (type: string) => {
      let overview = byType.get(type);
      if (!overview) {
        overview = { type, due: 0, scheduled: 0, running: 0, total: 0, oldestDueAgeMs: 0, deadLetters: 0, paused: false, pausedAt: null };
        byType.set(type, overview);
      }
      return overview;
    };
    for (const t of queue.types) Object.assign(entry(t.type), { due: t.due, running: t.running, total: t.total, scheduled: Math.max(0, t.total - t.due - t.running), oldestDueAgeMs: t.oldestDueAgeMs });
    for (const d of queue.deadLetters) entry(d.type).deadLetters = d.count;
    for (const p of paused) Object.assign(entry(p.type), { paused: true, pausedAt: p.pausedAt });
    const types = [...byType.values()].sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
    const sum = (pick: (t: TypeOverview) => number) => types.reduce((total, t) => total + pick(t), 0);
    return {
      types,
      totals: { due: sum((t) => t.due), scheduled: sum((t) => t.scheduled), running: sum((t) => t.running), total: sum((t) => t.total), deadLetters: sum((t) => t.deadLetters) },
      paused,
    };
  }

  /** Jobs in the queue, by id (oldest first), filtered by state, type and keys; a page at a time. */
  async listJobs(options: JobListOptions = {}): Promise<Page<QueuedJob>> {
    const limit = checkLimit(options.limit);
    const query = {
      state: checkState(options.state),
      type: optionalName(options.type, 'type'),
      orderingKey: optionalName(options.orderingKey, 'orderingKey'),
      dedupKey: optionalName(options.dedupKey, 'dedupKey'),
      after: options.cursor === undefined ? undefined : checkId(options.cursor, 'job', 'cursor'),
    };
    const items = await this.store.findJobs({ ...query, limit: limit + 1 });
    const page = items.slice(0, limit);
    return { items: page, nextCursor: items.length > limit ? page[page.length - 1].id : null };
  }

  /** One job in full, with its failed attempts (across replays). Throws JobNotFoundError when it is not in the queue. */
  async getJob(id: string): Promise<JobDetail> {
    checkId(id, 'job');
    const job = await this.store.getJob(id);
    if (!job) throw new JobNotFoundError([id]);
    return { ...job, history: await this.store.listAttempts(id) };
  }

  /**
   * Cancels queued jobs: they leave the queue and become dead letters with reason `cancelled` (and
   * `message` as their error), so nothing disappears without a trace; replay one to undo. All or
   * nothing, in one transaction: an id not in the queue throws JobNotFoundError, a job a worker
   * holds under a live lease (running) throws JobRunningError, and then nothing changes.
   */
  async cancelJobs(ids: string | string[], options: { message?: string } = {}): Promise<CancelResult> {
    const list = checkIds(ids, 'job');
    const message = options.message === undefined ? CANCELLED_MESSAGE : checkMessage(options.message);
    const result = await this.store.cancelJobs(list, message);
    if (result.missing.length) throw new JobNotFoundError(result.missing);
    if (result.running.length) throw new JobRunningError(result.running, 'cancel');
    return { count: result.done.length, jobIds: result.done };
  }

  /**
   * Makes scheduled jobs (delayed, or waiting to retry) due now; jobs already due are left as they
   * are (`alreadyDue`). All or nothing, as cancelJobs: unknown ids throw JobNotFoundError, running
   * ones JobRunningError. A job behind an earlier one of its ordering key still waits for it.
   */
  async runJobsNow(ids: string | string[]): Promise<RunNowResult> {
    const list = checkIds(ids, 'job');
    const result = await this.store.runJobsNow(list);
    if (result.missing.length) throw new JobNotFoundError(result.missing);
    if (result.running.length) throw new JobRunningError(result.running, 'run now');
    return { count: result.done.length, jobIds: result.done, alreadyDue: result.unchanged };
  }

  /** Dead letters, newest first, filtered by type, reason and failure time; a page at a time. */
  async listDeadLetters(query: DeadLetterListQuery = {}): Promise<Page<DeadLetter>> {
    const limit = checkLimit(query.limit);
    const filter = checkMatch(query);
    const before = query.cursor === undefined ? undefined : checkId(query.cursor, 'dead-letter', 'cursor');
    const items = await this.store.listDeadLetters({ ...filter, limit: limit + 1, before });
    const page = items.slice(0, limit);
    return { items: page, nextCursor: items.length > limit ? page[page.length - 1].id : null };
  }

  /** One dead letter, with every failed attempt of its job (across replays). Throws DeadLetterNotFoundError when there is none. */
  async getDeadLetter(id: string): Promise<DeadLetterDetail> {
    checkId(id, 'dead-letter');
    const letter = await this.store.getDeadLetter(id);
    if (!letter) throw new DeadLetterNotFoundError([id]);
    return { ...letter, history: await this.store.listAttempts(letter.jobId) };
  }

  /** How many dead letters match (all of them without a filter): what a bulk action would touch. */
  async countDeadLetters(match: DeadLetterMatch = {}): Promise<number> {
    return this.store.countDeadLetters(checkMatch(match));
  }

  /**
   * Puts dead letters back in the queue, due now, with a fresh attempt count, in one transaction;
   * each keeps its attempt history. Unknown ids throw DeadLetterNotFoundError and nothing is replayed.
   */
  async replayDeadLetters(ids: string | string[]): Promise<ReplayResult> {
    const list = await this.existingDeadLetters(ids);
    const jobIds = await this.store.replayDeadLetters(list);
    return { count: jobIds.length, jobIds };
  }

  /** Replays every dead letter that matches, in one transaction (`{ all: true }` for all of them). */
  async replayDeadLettersWhere(match: DeadLetterBulkMatch): Promise<ReplayResult> {
    const jobIds = await this.store.replayDeadLettersMatching(bulkFilter(match));
    return { count: jobIds.length, jobIds };
  }

  /** Deletes dead letters and their attempt history, in one transaction. Unknown ids throw DeadLetterNotFoundError and nothing is deleted. */
  async deleteDeadLetters(ids: string | string[]): Promise<DeleteResult> {
    const list = await this.existingDeadLetters(ids);
    return { count: await this.store.deleteDeadLetters(list) };
  }

  /** Deletes every dead letter that matches, with its history, in one transaction (`{ all: true }` for all of them). */
  async deleteDeadLettersWhere(match: DeadLetterBulkMatch): Promise<DeleteResult> {
    return { count: await this.store.deleteDeadLettersMatching(bulkFilter(match)) };
  }

  /**
   * Pauses a job type for every instance: no runner claims its jobs from one poll interval on (a
   * job running now finishes); they stay queued. Kept in the database, so it holds across restarts.
   */
  async pause(type: string): Promise<PauseResult> {
    const changed = await this.store.pauseType(checkName(type, 'type'));
    return { type, paused: true, changed };
  }

  /** Resumes a paused job type: runners claim it again from one poll interval on. */
  async resume(type: string): Promise<PauseResult> {
    const changed = await this.store.resumeType(checkName(type, 'type'));
    return { type, paused: false, changed };
  }

  /** The paused job types, by name. */
  pausedTypes(): Promise<PausedType[]> {
    return this.store.listPausedTypes();
  }

  /**
   * A diagnosis of Doctor Job's tables and queue: the job table's size and dead rows, vacuum, the
   * oldest transaction holding cleanup back, the oldest due job, paused types, dead letters (and,
   * given `migrations` from migrationStatus, the schema), each with a verdict and what to do.
   */
  async doctor(options: { migrations?: MigrationStatus } = {}): Promise<DoctorReport> {
    const diagnostics = await this.store.diagnose();
    const [stats, paused] = [await this.store.stats(), await this.store.listPausedTypes()];
    return doctorReport({ diagnostics, stats, paused, migrations: options.migrations });
  }

  /** The ids, checked and without repeats, once each is known to be a dead letter. */
  private async existingDeadLetters(ids: string | string[]): Promise<string[]> {
    const list = checkIds(ids, 'dead-letter');
    const found = await Promise.all(list.map((id) => this.store.getDeadLetter(id)));
    const missing = list.filter((_, i) => found[i] === null);
    if (missing.length) throw new DeadLetterNotFoundError(missing);
    return list.sort(compareIds);
  }
}

function bulkFilter(match: DeadLetterBulkMatch) {
  if (typeof match !== 'object' || match === null) throw new InvalidArgumentError('a bulk action needs a filter (type, reason, failedBefore, failedAfter) or { all: true }');
  const { all, ...criteria } = match;
  const filter = checkMatch(criteria);
  if (all !== undefined && typeof all !== 'boolean') throw new InvalidArgumentError('all must be true or false');
  if (matchesAll(filter) && all !== true) {
    throw new InvalidArgumentError('a bulk action without a filter would touch every dead letter: give type, reason, failedBefore or failedAfter, or { all: true }');
  }
  if (all === true && !matchesAll(filter)) throw new InvalidArgumentError('all: true selects every dead letter: leave out the other criteria, or all');
  return filter;
}

function checkMessage(message: unknown): string {
  if (typeof message !== 'string' || message.trim() === '' || message.length > 2_000 || message.includes('\u0000')) {
    throw new InvalidArgumentError('message must be a non-empty text of at most 2000 characters');
  }
  return message;
}
