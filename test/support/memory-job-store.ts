import { randomUUID } from 'node:crypto';
import type {
  Claim,
  ClaimedJob,
  ClaimParams,
  DeadLetter,
  DeadLetterFilter,
  DeadLetterQuery,
  DeadLetterReason,
  InsertOptions,
  JobActionResult,
  JobAttempt,
  JobError,
  JobQuery,
  JobStore,
  NewJob,
  PausedType,
  PendingJob,
  QueuedJob,
  QueuedJobWithPayload,
  QueueStats,
  StoreDiagnostics,
} from '../../lib/store/job-store.interface';
import type { TransactionClientLike } from '../../lib/store/prisma-client.interface';
import { tokenInstanceKey, tokenTime } from '../../lib/store/claim-token';
import { compareIds } from '../../lib/store/rows';

/**
 * An in-memory `JobStore` for unit tests of the runner (a test helper, never shipped). Same
 * semantics as the SQL stores, on a `ManualClock`, with hooks that make races deterministic:
 * `hold` a method mid-call, `failNext` call of a method, `expireLease` / `stealClaim` a job.
 */

/** A clock that moves only when told to (ms since epoch). */
export class ManualClock {
  private ms = Date.parse('2026-01-01T00:00:00.000Z');
  now(): number { return this.ms; }
  advance(ms: number): void { this.ms += ms; }
  set(ms: number | Date): void { this.ms = typeof ms === 'number' ? ms : ms.getTime(); }
}

/** A row of the queue table; times in ms since epoch. */
export interface MemoryJobRow {
  id: string; type: string; payload: unknown; attempts: number; maxAttempts: number; priority: number;
  orderingKey: string | null; dedupKey: string | null; lastError: string | null; createdAt: number;
  /** Due from; the lease (null when not claimed); the token of the claim that holds the job. */
  runAt: number; lockedUntil: number | null; claimToken: string | null;
  /** The job whose dead letter it replays. */
  replayOf: string | null;
  /** The enqueue's trace context (null: not traced). */
  traceContext: string | null;
}

/** A row of the dead-letter table (its own id sequence); times in ms since epoch. */
export type MemoryDeadLetterRow = Pick<MemoryJobRow, 'type' | 'payload' | 'attempts' | 'maxAttempts' | 'priority' | 'orderingKey' | 'createdAt' | 'traceContext'> & {
  id: string; jobId: string; errorMessage: string; errorStack: string | null; failedAt: number;
  reason: DeadLetterReason; replayOf: string | null;
};

/** A row of the attempt history: `jobId` the job (or dead letter's jobId) it belongs to, `runJobId` the id it ran as. */
export interface MemoryAttemptRow {
  id: string; jobId: string; runJobId: string; attempt: number; errorMessage: string; errorStack: string | null; failedAt: number;
}

export type JobStoreMethod = Exclude<keyof JobStore, 'dialect'>;

/** Returned by `hold(method)`: calls of the method wait before doing their work until `release()`. */
export class HoldController {
  /** Calls that arrived at the hold (released or not). */
  calls = 0;
  private arrived!: () => void;
  private open!: () => void;
  /** Resolves when the first call arrives at the hold. */
  readonly waiting = new Promise<void>((resolve) => (this.arrived = resolve));
  private readonly gate = new Promise<void>((resolve) => (this.open = resolve));

  constructor(private readonly lift: () => void) {}

  /** Lets the waiting calls (and every later one) through. */
  release(): void {
    this.lift();
    this.open();
  }

  /** @internal A call arrives: waits until released. */
  async enter(): Promise<void> {
    this.calls++;
    this.arrived();
    await this.gate;
  }
}

/** A transaction client of `transaction()`: the store runs no SQL. */
const noSql = () => Promise.reject(new Error('MemoryJobStore runs no SQL'));
/** The client of `send`: in no open transaction, so its writes are committed at once. */
const AUTOCOMMIT: TransactionClientLike = { $queryRawUnsafe: noSql, $executeRawUnsafe: noSql };

export class MemoryJobStore implements JobStore {
  /** A fake: reports PostgreSQL (its store has every optional method) but has no listen/announce/close, so runners poll. */
  readonly dialect: JobStore['dialect'] = 'postgresql';
  readonly clock: ManualClock;
  /** Every call of a JobStore method, in call order. */
  readonly calls: { method: JobStoreMethod; args: unknown[] }[] = [];

  private readonly jobs = new Map<string, MemoryJobRow>();
  private readonly deadLetters = new Map<string, MemoryDeadLetterRow>();
  private readonly attempts: MemoryAttemptRow[] = [];
  private attemptSequence = 0;
  /** Paused job types and since when. */
  private readonly paused = new Map<string, number>();
  /** Runner instances by key: name, last seen. */
  private readonly instances = new Map<string, { name: string; seenAt: number }>();
  private readonly ticks = new Map<string, number>();
  private jobSequence = 0;
  private deadLetterSequence = 0;
  /** Rows written by open transactions, visible only to their own transaction until commit. */
  private readonly open = new Map<TransactionClientLike, MemoryJobRow[]>();
  private readonly finished = new WeakSet<TransactionClientLike>();
  /** Resolves when the open transaction ends (an insert of a dedup key another one holds waits for it, as a database's would). */
  private readonly ending = new Map<TransactionClientLike, Promise<void>>();
  /** Jobs deleted by an open transaction (completeInTransaction): gone at its commit, locked until it ends (claims skip them). */
  private readonly deletes = new Map<TransactionClientLike, string[]>();
  private readonly rowLocks = new Set<string>();
  private readonly failures = new Map<JobStoreMethod, Error[]>();
  private readonly holds = new Map<JobStoreMethod, HoldController>();

  constructor(options: { clock?: ManualClock } = {}) {
    this.clock = options.clock ?? new ManualClock();
  }

  // ---- test hooks ----

  /** The next call of `method` rejects with `error`. */
  failNext(method: JobStoreMethod, error: Error = new Error(`injected failure of ${method}`)): void {
    this.failures.set(method, [...(this.failures.get(method) ?? []), error]);
  }

  /** Calls of `method` wait, before doing their work, until the controller's release(). */
  hold(method: JobStoreMethod): HoldController {
    const controller: HoldController = new HoldController(() => this.holds.get(method) === controller && this.holds.delete(method));
    this.holds.set(method, controller);
    return controller;
  }

  /** The job's lease runs out now: it is due again. */
  expireLease(id: string): void {
    this.row(id).lockedUntil = this.clock.now();
  }

  /** Another worker claims the job (whatever its lease), as after the lease ran out; returns its token. */
  stealClaim(id: string, token: string = randomUUID(), leaseMs = 30_000): string {
    const row = this.row(id);
    Object.assign(row, { claimToken: token, lockedUntil: this.clock.now() + leaseMs, attempts: row.attempts + 1 });
    return token;
  }

  /** Committed queue rows in id order (copies). */
  rows(): MemoryJobRow[] {
    return [...this.jobs.values()].sort(byId).map((row) => structuredClone(row));
  }

  /** Dead-letter rows in id order (copies). */
  deadLetterRows(): MemoryDeadLetterRow[] {
    return [...this.deadLetters.values()].sort(byId).map((row) => structuredClone(row));
  }

  /**
   * Runs `fn` in a transaction: its inserts get ids at once (like a sequence, so a rollback
   * leaves a gap) but join the queue only when `fn` resolves; nothing of them stays if it throws.
   * At commit, a row whose dedup key was taken meanwhile is dropped (a database would have made
   * the insert wait for the other transaction).
   */
  async transaction<T>(fn: (tx: TransactionClientLike) => Promise<T>): Promise<T> {
    const tx: TransactionClientLike = { $queryRawUnsafe: noSql, $executeRawUnsafe: noSql };
    const buffer: MemoryJobRow[] = [];
    let finish!: () => void;
    this.open.set(tx, buffer);
    this.ending.set(tx, new Promise<void>((resolve) => (finish = resolve)));
    try {
      const result = await fn(tx);
      for (const row of buffer) if (row.dedupKey === null || !this.dedupHolder(row.dedupKey, [])) this.jobs.set(row.id, row);
      for (const id of this.deletes.get(tx) ?? []) this.jobs.delete(id);
      return result;
    } finally {
      for (const id of this.deletes.get(tx) ?? []) this.rowLocks.delete(id);
      this.deletes.delete(tx);
      this.open.delete(tx);
      this.ending.delete(tx);
      this.finished.add(tx);
      finish();
    }
  }

  // ---- JobStore ----

  /**
   * Writes at once, or into the transaction's buffer for a tx of `transaction()`. A dedup key that
   * another open transaction has written makes the insert wait until that one ends, as a unique
   * index does: then the key's job is the committed one, or the key is free again.
   */
  async insert(tx: TransactionClientLike, jobs: NewJob[], options?: InsertOptions): Promise<string[]> {
    await this.run('insert', [tx, jobs, options], () => undefined); // the call log, holds and injected failures
    return this.write(tx, jobs);
  }

  /** Outside any transaction: committed at once, like an autocommit statement. */
  async send(job: NewJob): Promise<string> {
    await this.run('send', [job], () => undefined);
    const [id] = await this.write(AUTOCOMMIT, [job]);
    return id;
  }

  private async write(tx: TransactionClientLike, jobs: NewJob[]): Promise<string[]> {
    for (let blocker = this.otherWriterOf(tx, jobs); blocker; blocker = this.otherWriterOf(tx, jobs)) await blocker;
    // From the check above to the write below nothing else runs: the key cannot be taken in between.
    if (this.finished.has(tx)) throw new Error('the transaction has already finished');
    const buffer = this.open.get(tx);
    return jobs.map((job) => {
      const holder = job.dedupKey === undefined ? undefined : this.dedupHolder(job.dedupKey, buffer ?? []);
      if (holder) return holder.id;
      const runAt = job.runAt ? job.runAt.getTime() : this.clock.now() + Math.round(job.delayMs ?? 0);
      const row = this.newRow({ ...job, payload: JSON.parse(job.payload) }, runAt);
      if (buffer) buffer.push(row);
      else this.jobs.set(row.id, row);
      return row.id;
    });
  }

  /** The end of another open transaction that has written one of these jobs' dedup keys, if any. */
  private otherWriterOf(tx: TransactionClientLike, jobs: NewJob[]): Promise<void> | undefined {
    const keys = new Set(jobs.flatMap((job) => (job.dedupKey === undefined ? [] : [job.dedupKey])));
    if (keys.size === 0) return undefined;
    for (const [other, buffer] of this.open) {
      if (other !== tx && buffer.some((row) => row.dedupKey !== null && keys.has(row.dedupKey))) return this.ending.get(other);
    }
    return undefined;
  }

  /** Due heads by priority desc, runAt, id; stamps token, lease and attempt; returns in id order. */
  claim(params: ClaimParams): Promise<ClaimedJob[]> {
    return this.run('claim', [params], () => {
      const { limit, leaseMs, token, excludeTypes = [] } = params;
      const now = this.clock.now();
      const all = [...this.jobs.values()];
      const isHead = (job: MemoryJobRow) => job.orderingKey === null || !all.some((o) => o.orderingKey === job.orderingKey && compareIds(o.id, job.id) < 0);
      const picked = all
        .filter((job) => isDue(job, now) && !this.rowLocks.has(job.id) && !excludeTypes.includes(job.type) && isHead(job))
        .sort((a, b) => b.priority - a.priority || a.runAt - b.runAt || compareIds(a.id, b.id))
        .slice(0, Math.max(0, limit));
      for (const job of picked) Object.assign(job, { lockedUntil: now + leaseMs, attempts: job.attempts + 1, claimToken: token });
      return picked
        .sort(byId)
        .map(({ id, type, payload, attempts, maxAttempts, createdAt, traceContext }) => ({ id, type, payload: structuredClone(payload), attempt: attempts, maxAttempts, createdAt: new Date(createdAt), traceContext }));
    });
  }

  /** Deletes the jobs each claim still holds; returns the other claims as `${id}:${token}`. */
  complete(claims: Claim[]): Promise<Set<string>> {
    return this.run('complete', [claims], () => {
      const held = claims.filter(({ id, token }) => this.jobs.get(id)?.claimToken === token);
      for (const { id } of held) this.jobs.delete(id);
      return new Set(claims.filter((claim) => !held.includes(claim)).map(({ id, token }) => `${id}:${token}`));
    });
  }

  /** If the token holds: deletes the job when `tx` commits (locked until then, as the DELETE's row lock would). */
  completeInTransaction(tx: TransactionClientLike, claim: Claim): Promise<boolean> {
    return this.run('completeInTransaction', [tx, claim], () => {
      if (!this.held(claim.id, claim.token) || this.rowLocks.has(claim.id)) return false;
      if (!this.open.has(tx)) return this.jobs.delete(claim.id);
      this.rowLocks.add(claim.id);
      this.deletes.set(tx, [...(this.deletes.get(tx) ?? []), claim.id]);
      return true;
    });
  }

  /** Like PostgreSQL: deletes the jobs among the ids held by any token of the batch; returns the count. */
  completeUnderLease(claims: Claim[]): Promise<number> {
    return this.run('completeUnderLease', [claims], () => {
      const tokens = new Set(claims.map((claim) => claim.token));
      return [...new Set(claims.map((claim) => claim.id))].filter((id) => {
        const token = this.jobs.get(id)?.claimToken;
        return token != null && tokens.has(token) && this.jobs.delete(id);
      }).length;
    });
  }

  /** If the token holds: due again after delayMs, lease dropped, error recorded (attempt kept). */
  retry(id: string, token: string, delayMs: number, error: JobError): Promise<boolean> {
    const update = { runAt: this.clock.now() + Math.round(delayMs), lockedUntil: null, claimToken: null, lastError: error.message };
    return this.run('retry', [id, token, delayMs, error], () =>
      this.updateHeld([id], token, (job) => {
        this.recordAttempt(job, error);
        Object.assign(job, update);
      }).length > 0,
    );
  }

  /** If the token holds: moves the job to the dead letters, the failed attempt into its history. */
  deadLetter(id: string, token: string, error: JobError, reason: DeadLetterReason = 'failed'): Promise<boolean> {
    return this.run('deadLetter', [id, token, error, reason], () => {
      const job = this.held(id, token);
      if (!job) return false;
      this.recordAttempt(job, error);
      this.toDeadLetters(job, { message: error.message, stack: error.stack }, reason);
      return true;
    });
  }

  /** Moves a queued job to the dead letters (its history stays keyed by its id, the dead letter's jobId). */
  private toDeadLetters(job: MemoryJobRow, error: JobError, reason: DeadLetterReason): void {
    const { id, type, payload, attempts, maxAttempts, priority, orderingKey, createdAt, traceContext, replayOf } = job;
    this.jobs.delete(id);
    const deadId = String(++this.deadLetterSequence);
    const failure = { errorMessage: error.message, errorStack: error.stack ?? null, failedAt: this.clock.now() };
    this.deadLetters.set(deadId, { id: deadId, jobId: id, type, payload, attempts, maxAttempts, priority, orderingKey, createdAt, traceContext, ...failure, reason, replayOf });
  }

  private recordAttempt(job: MemoryJobRow, error: JobError): void {
    const failedAt = this.clock.now();
    this.attempts.push({ id: String(++this.attemptSequence), jobId: job.id, runJobId: job.id, attempt: job.attempts, errorMessage: error.message, errorStack: error.stack ?? null, failedAt });
  }

  /** Pushes the lease of the jobs the token holds; returns their ids. */
  extend(ids: string[], token: string, leaseMs: number): Promise<string[]> {
    return this.run('extend', [ids, token, leaseMs], () => this.updateHeld(ids, token, (job) => (job.lockedUntil = this.clock.now() + leaseMs)));
  }

  /** Gives back the jobs the token holds, handing back their attempt; returns the count. */
  release(ids: string[], token: string): Promise<number> {
    const update = (job: MemoryJobRow) => Object.assign(job, { lockedUntil: null, claimToken: null, attempts: Math.max(job.attempts - 1, 0) });
    return this.run('release', [ids, token], () => this.updateHeld(ids, token, update).length);
  }

  /** Newest first, optionally of one type and older than `before`. */
  listDeadLetters(query: DeadLetterQuery): Promise<DeadLetter[]> {
    return this.run('listDeadLetters', [query], () =>
      [...this.deadLetters.values()]
        .filter((row) => matches(row, query) && (query.before === undefined || compareIds(row.id, query.before) < 0))
        .sort((a, b) => compareIds(b.id, a.id))
        .slice(0, query.limit)
        .map(toDeadLetter),
    );
  }

  getDeadLetter(id: string): Promise<DeadLetter | null> {
    return this.run('getDeadLetter', [id], () => (this.deadLetters.has(id) ? toDeadLetter(this.deadLetters.get(id)!) : null));
  }

  /** New jobs, due now with 0 attempts, in dead-letter id order; the dead letters go, their history moves to the new jobs. */
  replayDeadLetters(ids: string[]): Promise<string[]> {
    return this.run('replayDeadLetters', [ids], () => this.replay(ids));
  }

  private replay(ids: string[]): string[] {
    const moved = [...new Set(ids)].flatMap((id) => this.deadLetters.get(id) ?? []).sort(byId);
    return moved.map(({ id, jobId, type, payload, maxAttempts, priority, orderingKey, traceContext }) => {
      this.deadLetters.delete(id);
      const row = this.newRow({ type, payload, maxAttempts, priority, orderingKey, traceContext, replayOf: jobId }, this.clock.now());
      this.jobs.set(row.id, row);
      for (const attempt of this.attempts) if (attempt.jobId === jobId) attempt.jobId = row.id;
      return row.id;
    });
  }

  deleteDeadLetters(ids: string[]): Promise<number> {
    return this.run('deleteDeadLetters', [ids], () => this.remove(ids));
  }

  private remove(ids: string[]): number {
    const gone = [...new Set(ids)].flatMap((id) => this.deadLetters.get(id) ?? []);
    for (const letter of gone) this.deadLetters.delete(letter.id);
    const jobIds = new Set(gone.map((letter) => letter.jobId));
    this.attempts.splice(0, this.attempts.length, ...this.attempts.filter((attempt) => !jobIds.has(attempt.jobId)));
    return gone.length;
  }

  // ---- the operator's console ----

  /** Committed jobs by state (on the manual clock) and keys, in id order after `after`. */
  findJobs(query: JobQuery): Promise<QueuedJob[]> {
    return this.run('findJobs', [query], () =>
      [...this.jobs.values()]
        .sort(byId)
        .map((row) => this.toQueuedJob(row))
        .filter(
          (job) =>
            (query.state === undefined || job.state === query.state) &&
            (query.type === undefined || job.type === query.type) &&
            (query.orderingKey === undefined || job.orderingKey === query.orderingKey) &&
            (query.dedupKey === undefined || job.dedupKey === query.dedupKey) &&
            (query.after === undefined || compareIds(job.id, query.after) > 0),
        )
        .slice(0, query.limit),
    );
  }

  getJob(id: string): Promise<QueuedJobWithPayload | null> {
    return this.run('getJob', [id], () => {
      const row = this.jobs.get(id);
      return row ? { ...this.toQueuedJob(row), payload: structuredClone(row.payload) } : null;
    });
  }

  listAttempts(jobId: string): Promise<JobAttempt[]> {
    return this.run('listAttempts', [jobId], () =>
      this.attempts
        .filter((attempt) => attempt.jobId === jobId)
        .map(({ runJobId, attempt, errorMessage, errorStack, failedAt }) => ({ jobId: runJobId, attempt, errorMessage, errorStack, failedAt: new Date(failedAt) })),
    );
  }

  /** All or none: running (live lease, or locked by an open transactional delete) or missing ids change nothing. */
  cancelJobs(ids: string[], message: string): Promise<JobActionResult> {
    return this.run('cancelJobs', [ids, message], () =>
      this.actOn(ids, (rows) => {
        for (const row of rows) this.toDeadLetters(row, { message }, 'cancelled');
        return { done: rows.map((row) => row.id), unchanged: [] };
      }),
    );
  }

  runJobsNow(ids: string[]): Promise<JobActionResult> {
    return this.run('runJobsNow', [ids], () =>
      this.actOn(ids, (rows) => {
        const now = this.clock.now();
        const scheduled = rows.filter((row) => row.runAt > now);
        for (const row of scheduled) row.runAt = now;
        return { done: scheduled.map((row) => row.id), unchanged: rows.filter((row) => !scheduled.includes(row)).map((row) => row.id) };
      }),
    );
  }

  countDeadLetters(filter: DeadLetterFilter): Promise<number> {
    return this.run('countDeadLetters', [filter], () => [...this.deadLetters.values()].filter((row) => matches(row, filter)).length);
  }

  replayDeadLettersMatching(filter: DeadLetterFilter): Promise<string[]> {
    return this.run('replayDeadLettersMatching', [filter], () => this.replay(this.matching(filter)));
  }

  deleteDeadLettersMatching(filter: DeadLetterFilter): Promise<number> {
    return this.run('deleteDeadLettersMatching', [filter], () => this.remove(this.matching(filter)));
  }

  pauseType(type: string): Promise<boolean> {
    return this.run('pauseType', [type], () => !this.paused.has(type) && !!this.paused.set(type, this.clock.now()));
  }

  resumeType(type: string): Promise<boolean> {
    return this.run('resumeType', [type], () => this.paused.delete(type));
  }

  listPausedTypes(): Promise<PausedType[]> {
    return this.run('listPausedTypes', [], () => [...this.paused].sort(([a], [b]) => (a < b ? -1 : 1)).map(([type, at]) => ({ type, pausedAt: new Date(at) })));
  }

  registerInstance(key: string, name: string): Promise<void> {
    return this.run('registerInstance', [key, name], () => void this.instances.set(key, { name, seenAt: this.clock.now() }));
  }

  pruneInstances(maxAgeMs: number): Promise<number> {
    return this.run('pruneInstances', [maxAgeMs], () => {
      const old = [...this.instances].filter(([, instance]) => instance.seenAt < this.clock.now() - maxAgeMs);
      for (const [key] of old) this.instances.delete(key);
      return old.length;
    });
  }

  /** History rows whose job is neither queued nor a dead letter. */
  pruneAttempts(limit: number): Promise<number> {
    return this.run('pruneAttempts', [limit], () => {
      const letters = new Set([...this.deadLetters.values()].map((letter) => letter.jobId));
      const orphans = this.attempts.filter((attempt) => !this.jobs.has(attempt.jobId) && !letters.has(attempt.jobId)).slice(0, limit);
      this.attempts.splice(0, this.attempts.length, ...this.attempts.filter((attempt) => !orphans.includes(attempt)));
      return orphans.length;
    });
  }

  diagnose(): Promise<StoreDiagnostics> {
    return this.run('diagnose', [], () => ({
      dialect: this.dialect,
      tables: [
        { table: 'doctor_job', rows: this.jobs.size, deadRows: 0, tableBytes: null, indexBytes: null, freeBytes: null, lastVacuum: null, lastAutovacuum: null, indexes: [] },
      ],
      oldestHorizonHolder: null,
      unavailable: ['sizes: an in-memory store has none'],
    }));
  }

  /** Attempt history rows (copies), for tests. */
  attemptRows(): MemoryAttemptRow[] {
    return this.attempts.map((row) => ({ ...row }));
  }

  private matching(filter: DeadLetterFilter): string[] {
    return [...this.deadLetters.values()].filter((row) => matches(row, filter)).map((row) => row.id);
  }

  private actOn(ids: string[], act: (rows: MemoryJobRow[]) => Pick<JobActionResult, 'done' | 'unchanged'>): JobActionResult {
    const unique = [...new Set(ids)];
    const now = this.clock.now();
    const missing = unique.filter((id) => !this.jobs.has(id));
    const running = unique.filter((id) => {
      const row = this.jobs.get(id);
      return row !== undefined && (this.rowLocks.has(id) || (row.lockedUntil !== null && row.lockedUntil > now));
    });
    if (missing.length || running.length || unique.length === 0) return { done: [], unchanged: [], running, missing };
    const { done, unchanged } = act(unique.map((id) => this.jobs.get(id)!).sort(byId));
    return { done: done.sort(compareIds), unchanged: unchanged.sort(compareIds), running: [], missing: [] };
  }

  private toQueuedJob(row: MemoryJobRow): QueuedJob {
    const now = this.clock.now();
    const { id, type, attempts, maxAttempts, priority, orderingKey, dedupKey, lastError, replayOf } = row;
    const key = tokenInstanceKey(row.claimToken);
    const lockedBy = (key && this.instances.get(key)?.name) ?? null;
    const state = row.lockedUntil !== null && row.lockedUntil > now ? 'running' : row.runAt <= now ? 'due' : 'scheduled';
    const date = (ms: number | null) => (ms === null ? null : new Date(ms));
    return {
      id, type, state, attempts, maxAttempts, priority, orderingKey, dedupKey, lastError, lockedBy, replayOf,
      runAt: new Date(row.runAt), lockedUntil: date(row.lockedUntil), claimedAt: tokenTime(row.claimToken), createdAt: new Date(row.createdAt),
    };
  }

  /** The type's last cron tick; with `init`, recorded if there is none. */
  lastTick(type: string, init?: Date): Promise<Date | null> {
    return this.run('lastTick', [type, init], () => {
      if (init && !this.ticks.has(type)) this.ticks.set(type, init.getTime());
      const tick = this.ticks.get(type);
      return tick === undefined ? null : new Date(tick);
    });
  }

  /** Moves the last tick forward to `tick` and inserts the job (due now), or returns null if taken. */
  claimTick(type: string, tick: Date, job: NewJob): Promise<string | null> {
    return this.run('claimTick', [type, tick, job], () => {
      const last = this.ticks.get(type);
      if (last !== undefined && last >= tick.getTime()) return null;
      this.ticks.set(type, tick.getTime());
      const row = this.newRow({ type, payload: JSON.parse(job.payload), maxAttempts: job.maxAttempts, priority: job.priority }, this.clock.now());
      this.jobs.set(row.id, row);
      return row.id;
    });
  }

  /** Per type (sorted): due, running, total, oldest due age; dead letters per type. */
  stats(): Promise<QueueStats> {
    return this.run('stats', [], () => {
      const now = this.clock.now();
      const types = [...new Set([...this.jobs.values()].map((job) => job.type))].sort().map((type) => {
        const jobs = [...this.jobs.values()].filter((job) => job.type === type);
        const due = jobs.filter((job) => isDue(job, now));
        const oldest = Math.min(...due.map((job) => job.runAt));
        const running = jobs.filter((job) => job.lockedUntil !== null && job.lockedUntil > now).length;
        return { type, due: due.length, running, total: jobs.length, oldestDueAgeMs: due.length ? Math.max(0, now - oldest) : 0 };
      });
      const counts = new Map<string, number>();
      for (const row of this.deadLetters.values()) counts.set(row.type, (counts.get(row.type) ?? 0) + 1);
      return { types, deadLetters: [...counts].sort(([a], [b]) => (a < b ? -1 : 1)).map(([type, count]) => ({ type, count })) };
    });
  }

  /** Committed jobs in id order, optionally of one type. */
  listJobs(query: { type?: string; limit: number }): Promise<PendingJob[]> {
    return this.run('listJobs', [query], () => {
      const now = this.clock.now();
      return [...this.jobs.values()]
        .filter((job) => query.type === undefined || job.type === query.type)
        .sort(byId)
        .slice(0, query.limit)
        .map(({ id, type, payload, attempts, maxAttempts, runAt, lastError, lockedUntil, createdAt }) => {
          const claimed = lockedUntil !== null && lockedUntil > now;
          return { id, type, payload: structuredClone(payload), attempts, maxAttempts, runAt: new Date(runAt), lastError, claimed, createdAt: new Date(createdAt) };
        });
    });
  }

  // ---- internals ----

  /** Logs the call, waits at a hold, throws an injected failure, then does the work in one step. */
  private async run<T>(method: JobStoreMethod, args: unknown[], work: () => T): Promise<T> {
    this.calls.push({ method, args });
    const failure = this.failures.get(method)?.shift();
    await this.holds.get(method)?.enter();
    if (failure) throw failure;
    return work();
  }

  /** A fresh row with the next id of the sequence; `payload` already parsed. */
  private newRow(job: NewRow, runAt: number): MemoryJobRow {
    const { type, payload, maxAttempts, priority } = job;
    const fresh = { attempts: 0, lockedUntil: null, claimToken: null, lastError: null, createdAt: this.clock.now(), replayOf: job.replayOf ?? null };
    const { orderingKey = null, dedupKey = null, traceContext = null } = job;
    return { id: String(++this.jobSequence), type, payload, maxAttempts, priority, orderingKey, dedupKey, runAt, traceContext, ...fresh };
  }

  /** The queued job holding a dedup key: committed, or in the given transaction buffer. */
  private dedupHolder(key: string, buffer: MemoryJobRow[]): MemoryJobRow | undefined {
    return [...this.jobs.values(), ...buffer].find((job) => job.dedupKey === key);
  }

  /** Applies `update` to the jobs (each once) that `token` holds; returns their ids. */
  private updateHeld(ids: string[], token: string, update: (job: MemoryJobRow) => void): string[] {
    return [...new Set(ids)].filter((id) => {
      const job = this.held(id, token);
      if (job) update(job);
      return job !== undefined;
    });
  }

  /** The job, if `token` holds it. */
  private held(id: string, token: string): MemoryJobRow | undefined {
    const job = this.jobs.get(id);
    return job?.claimToken === token ? job : undefined;
  }

  private row(id: string): MemoryJobRow {
    const job = this.jobs.get(id);
    if (!job) throw new Error(`no job ${id} in the queue`);
    return job;
  }
}

type NewRow = Pick<MemoryJobRow, 'type' | 'payload' | 'maxAttempts' | 'priority'> & { orderingKey?: string | null; dedupKey?: string; traceContext?: string | null; replayOf?: string };

/** Whether a dead letter matches a DeadLetterFilter. */
function matches(row: MemoryDeadLetterRow, filter: DeadLetterFilter): boolean {
  return (
    (filter.type === undefined || row.type === filter.type) &&
    (filter.reason === undefined || row.reason === filter.reason) &&
    (filter.failedBefore === undefined || row.failedAt < filter.failedBefore.getTime()) &&
    (filter.failedAfter === undefined || row.failedAt >= filter.failedAfter.getTime())
  );
}

/** Due: its time has come and no live lease holds it. */
function isDue(job: MemoryJobRow, now: number): boolean {
  return job.runAt <= now && (job.lockedUntil === null || job.lockedUntil <= now);
}

function byId(a: { id: string }, b: { id: string }): number {
  return compareIds(a.id, b.id);
}

function toDeadLetter(row: MemoryDeadLetterRow): DeadLetter {
  const { id, jobId, type, payload, attempts, maxAttempts, errorMessage, errorStack, createdAt, failedAt, reason, replayOf } = row;
  return { id, jobId, type, payload: structuredClone(payload), attempts, maxAttempts, errorMessage, errorStack, createdAt: new Date(createdAt), failedAt: new Date(failedAt), reason, replayOf };
}
