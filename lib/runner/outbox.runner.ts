import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy, OnModuleInit, Optional } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { randomUUID } from 'node:crypto';
import { DOCTOR_JOB_OPTIONS, DOCTOR_JOB_RUNNER_NAME } from '../doctor-job.constants';
import { CLAIM_LOST, CLAIMS_UNKNOWN, JOBS_GONE, LEASE_EXPIRED_ON_LAST_ATTEMPT, LEASE_LOST, NO_HANDLER_AT_RUN, NO_SCHEDULE_MODULE, TIMED_OUT } from '../doctor-job.messages';
import type { ResolvedDoctorJobOptions } from '../doctor-job.options';
import { JobTimeoutError } from '../errors/job-timeout.error';
import { NonRetryableJobError } from '../errors/non-retryable.error';
import type { JobContext } from '../handlers/job-context.interface';
import { JobHandlerRegistry, type RegisteredHandler } from '../handlers/job-handler.registry';
import { toDto } from '../handlers/payload';
import type { Claim, ClaimedJob, JobError } from '../store/job-store.interface';
import { JobStoreHost } from '../store/job-store.host';
import { JobEvents } from '../events/job-events';
import { backoffDelay } from './backoff';

/** A claimed job from its handler's start until its outcome is written. */
class RunningJob implements Claim {
  /** Whether its outcome is written (or given up). */
  settled = false;
  /** When the handler started (Date.now()). */
  startedAt = 0;
  /** Time in the handler, once it succeeded (for the job.succeeded event). */
  durationMs = 0;
  /** Released on shutdown, or its lease was lost: its outcome must not be written. */
  relinquished = false;
  /**
   * performance.now() when the claim, or the last extension its claim still held, was sent. The
   * database starts the lease after that, so the lease is live until at least leaseFrom + leaseMs.
   */
  leaseFrom: number;
  /** Created when the handler first reads `signal` (most never do: an AbortController per job is not free). */
  private controller?: AbortController;
  private abortReason?: unknown;

  constructor(
    readonly job: ClaimedJob,
    readonly token: string,
    leaseFrom: number,
  ) {
    this.leaseFrom = leaseFrom;
  }

  get id(): string {
    return this.job.id;
  }

  /** The claim as the store names lost ones: job id + claim token. */
  get key(): string {
    return `${this.job.id}:${this.token}`;
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.abortReason !== undefined) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  abort(reason: unknown): void {
    if (this.abortReason !== undefined) return;
    this.abortReason = reason;
    this.controller?.abort(reason);
  }
}

/** What the handler is told about its job; `signal` is made on first read. */
class HandlerContext implements JobContext {
  readonly id: string;
  readonly type: string;
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly createdAt: Date;
  readonly #entry: RunningJob;

  constructor(entry: RunningJob) {
    const { job } = entry;
    this.id = job.id;
    this.type = job.type;
    this.attempt = job.attempt;
    this.maxAttempts = job.maxAttempts;
    this.createdAt = job.createdAt;
    this.#entry = entry;
  }

  get signal(): AbortSignal {
    return this.#entry.signal;
  }
}

/**
 * Claims due jobs and runs their handlers: polls on an interval registered in SchedulerRegistry,
 * and claims again at once while claims bring jobs and slots are free. One claim loop per app
 * instance, with up to two claims in flight (see claimLane); at most `concurrency` handlers at once. While a handler runs, a
 * heartbeat extends its lease, so a long handler is not claimed by another worker.
 */
@Injectable()
export class OutboxRunner implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(OutboxRunner.name);
  /**
   * Handlers running now, keyed by claim (job id + token: a job re-claimed after a lost lease is
   * another entry). A slot frees as soon as its handler returns, so the next claim overlaps the
   * settle of the previous batch.
   */
  private readonly running = new Set<RunningJob>();
  /** Claims not yet settled (running, or writing their outcome). */
  private unsettled = 0;
  /** stop() waiting for `unsettled` to empty. */
  private settledWaiters: (() => void)[] = [];
  /** Handlers running now, per job type, for the types whose handler has its own `concurrency`. */
  private readonly runningByType = new Map<string, number>();
  /** Those types (read at start(), once every handler is registered). */
  private limited = new Set<string>();
  private active = false;
  private loop: Promise<void> | null = null;
  /** Claim lanes running now (at most MAX_CLAIM_LANES), and the slots their claims in flight may fill. */
  private readonly lanes = new Set<Promise<void>>();
  private reserved = 0;
  private pollAgain = false;
  private moreDue = false;
  private outage = false;
  private lastFailureAt = 0;
  private heartbeat?: NodeJS.Timeout;
  private heartbeatBusy = false;
  /** Successes waiting for the next batched DELETE. */
  private completions: RunningJob[] = [];
  /** Batched DELETEs in flight, and whether a claim came back empty meanwhile. */
  private deletesInFlight = 0;
  private emptyClaimDuringDelete = false;
  private stopListening?: () => Promise<void>;
  private listenerDown = false;

  constructor(
    @Inject(DOCTOR_JOB_OPTIONS) private readonly options: ResolvedDoctorJobOptions,
    private readonly host: JobStoreHost,
    private readonly registry: JobHandlerRegistry,
    private readonly events: JobEvents,
    @Optional() private readonly scheduler?: SchedulerRegistry,
  ) {}

  onModuleInit(): void {
    if (!this.scheduler) throw new Error(NO_SCHEDULE_MODULE);
  }

  onApplicationBootstrap(): void {
    if (this.options.autoStart) this.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.stop();
  }

  /** True between start() and stop(). */
  get isRunning(): boolean {
    return this.active;
  }

  /** Handlers running now (not counting those released at shutdown). */
  get inFlight(): number {
    return this.running.size;
  }

  /** Starts polling (done on bootstrap unless `autoStart: false`). */
  start(): void {
    if (this.active) return;
    this.active = true;
    this.limited = this.registry.limited();
    this.scheduler!.addInterval(DOCTOR_JOB_RUNNER_NAME, setInterval(() => void this.poll(), this.options.pollIntervalMs));
    this.heartbeat = setInterval(() => void this.extendLeases(), Math.max(1, Math.floor(this.options.leaseMs / 3)));
    void this.startListening();
    void this.poll();
  }

  /**
   * Stops claiming, waits up to `shutdownTimeoutMs` for running handlers (and a claim under way),
   * then aborts the rest and releases their jobs without consuming the attempt.
   */
  async stop(): Promise<void> {
    if (!this.active) return;
    this.active = false;
    if (this.scheduler!.doesExist('interval', DOCTOR_JOB_RUNNER_NAME)) this.scheduler!.deleteInterval(DOCTOR_JOB_RUNNER_NAME);
    const stopListening = this.stopListening;
    this.stopListening = undefined;
    await stopListening?.();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), this.options.shutdownTimeoutMs)));
    const settled = (async () => {
      await this.loop;
      if (this.unsettled > 0) await new Promise<void>((resolve) => this.settledWaiters.push(resolve));
    })();
    const finished = this.unsettled;
    const outcome = await Promise.race([settled, timedOut]);
    clearTimeout(timer);
    const released = outcome === 'timeout' ? await this.releaseRunning() : 0;
    clearInterval(this.heartbeat);
    this.logger.log(`Runner stopped: ${finished - released} running handler(s) finished, ${released} job(s) released.`);
  }

  /** Runs one claim loop now (the interval calls this); joins the loop already under way. */
  poll(): Promise<void> {
    if (!this.active) return Promise.resolve();
    if (this.loop) {
      this.pollAgain = true;
      // Slots freed while a claim is in flight: claim alongside it, when `concurrency` allows two.
      if (this.lanes.size < this.maxLanes && this.options.concurrency - this.running.size - this.reserved >= this.options.batchSize) this.openLane();
      return this.loop;
    }
    this.loop = this.claimLoop().finally(() => {
      this.loop = null;
      // A wake-up that came after the loop's last look at pollAgain, but before it ended.
      if (this.pollAgain && this.active) void this.poll();
    });
    return this.loop;
  }

  private async claimLoop(): Promise<void> {
    do {
      this.pollAgain = false;
      this.openLane();
      while (this.lanes.size > 0) await Promise.all([...this.lanes]);
    } while (this.pollAgain && this.active);
  }

  private openLane(): void {
    const lane: Promise<void> = this.claimLane().finally(() => this.lanes.delete(lane));
    this.lanes.add(lane);
  }

  /**
   * Claims one batch after another while they bring jobs and slots are free. When
   * `concurrency` has room for two whole batches, poll() opens a second lane as soon as a batch's
   * worth of slots frees while a claim is in flight: two claims then run at once, and the
   * database works on both.
   */
  private async claimLane(): Promise<void> {
    while (this.active) {
      const free = this.options.concurrency - this.running.size - this.reserved;
      if (free <= 0) return;
      const wanted = Math.min(this.options.batchSize, free);
      const token = randomUUID();
      let jobs: ClaimedJob[];
      this.reserved += wanted;
      const sent = performance.now();
      try {
        jobs = await this.host.store.claim(wanted, this.options.leaseMs, token, this.saturatedTypes());
        this.databaseAnswered();
      } catch (error) {
        this.databaseFailed('claim jobs', error);
        return;
      } finally {
        this.reserved -= wanted;
      }
      // Claim again until a claim comes back empty: a short claim does not mean the queue is
      // empty (SKIP LOCKED passes over rows that other claims or deletes hold at that moment).
      this.moreDue = jobs.length > 0;
      // An empty claim that overlapped a batch DELETE may have skipped rows the delete held locked
      // (with InnoDB, possibly due ones): claim once more when the delete is done.
      if (jobs.length === 0 && this.deletesInFlight > 0) this.emptyClaimDuringDelete = true;
      if (!this.active) {
        // stop() came while the claim was in flight: give the jobs straight back.
        await this.release(jobs.map((j) => j.id), token);
        return;
      }
      const excess: string[] = [];
      for (const job of jobs) {
        if (this.hasRoomFor(job.type)) this.run(job, token, sent);
        else excess.push(job.id);
      }
      // A claim can bring more jobs of a type than its handler's concurrency allows: give them back.
      if (excess.length) await this.release(excess, token);
      if (!this.moreDue) return;
    }
  }

  /** Two claims may be in flight when `concurrency` has room for two whole batches. */
  private get maxLanes(): number {
    return this.options.concurrency >= 2 * this.options.batchSize ? MAX_CLAIM_LANES : 1;
  }

  /** Types whose handler runs as many jobs as its own `concurrency` allows. */
  private saturatedTypes(): string[] {
    const full: string[] = [];
    for (const [type, count] of this.runningByType) {
      if (count >= (this.registry.get(type)?.concurrency ?? Infinity)) full.push(type);
    }
    return full;
  }

  private hasRoomFor(type: string): boolean {
    return !this.limited.has(type) || (this.runningByType.get(type) ?? 0) < this.registry.get(type)!.concurrency!;
  }

  private run(job: ClaimedJob, token: string, leaseFrom: number): void {
    const entry = new RunningJob(job, token, leaseFrom);
    this.running.add(entry);
    if (this.limited.has(job.type)) this.runningByType.set(job.type, (this.runningByType.get(job.type) ?? 0) + 1);
    this.unsettled++;
    const handler = this.registry.get(job.type);
    if (handler && !handler.payload && !handler.timeoutMs && job.attempt <= job.maxAttempts) {
      // The common case, without an async function per job: no payload to validate, no timeout to race.
      this.invoke(entry, handler, job.payload).then(
        () => this.succeeded(entry),
        (thrown) => this.failed(entry, handler, thrown),
      );
    } else {
      void this.execute(entry, handler);
    }
  }

  /** The claim's outcome is written (or given up): stop() no longer waits for it. */
  private settled(entry: RunningJob): void {
    if (entry.settled) return;
    entry.settled = true;
    if (--this.unsettled > 0) return;
    for (const wake of this.settledWaiters.splice(0)) wake();
  }

  /** Rejects when `timeoutMs` passes first, aborting the handler's signal; the handler may go on. */
  private withTimeout(running: Promise<unknown>, timeoutMs: number, entry: RunningJob): Promise<unknown> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new JobTimeoutError(TIMED_OUT(timeoutMs));
        entry.abort(error);
        reject(error);
      }, timeoutMs);
    });
    running.catch(() => undefined); // a handler that fails after its timeout has nobody to tell
    return Promise.race([running, timeout]).finally(() => clearTimeout(timer));
  }

  /** The handler is done: its slot may take another job while its outcome is being written. */
  private freeSlot(entry: RunningJob): void {
    if (!this.running.delete(entry)) return;
    if (this.limited.has(entry.job.type)) this.uncount(entry.job.type);
    if (this.moreDue && this.active) void this.poll();
  }

  /**
   * A claimed job that is not the common case: its lease ran out on its last attempt, it has no
   * handler, its payload must pass a DTO, or its handler has a timeout.
   */
  private async execute(entry: RunningJob, handler: RegisteredHandler | undefined): Promise<void> {
    const { job } = entry;
    try {
      if (job.attempt > job.maxAttempts) return await this.writeOutcome(entry, () => this.deadLetter(entry, { message: LEASE_EXPIRED_ON_LAST_ATTEMPT(job.maxAttempts) }));
      if (!handler) return await this.writeOutcome(entry, () => this.deadLetter(entry, { message: NO_HANDLER_AT_RUN(job.type) }));
      let payload: unknown = job.payload;
      if (handler.payload) {
        const checked = await toDto(handler.payload, job.payload);
        if ('problems' in checked) {
          const message = `The payload fails ${handler.payload.name}:\n  - ${checked.problems.join('\n  - ')}`;
          return await this.writeOutcome(entry, () => this.deadLetter(entry, { message }));
        }
        payload = checked.value;
      }
      const running = this.invoke(entry, handler, payload);
      try {
        await (handler.timeoutMs ? this.withTimeout(running, handler.timeoutMs, entry) : running);
      } catch (thrown) {
        return this.failed(entry, handler, thrown);
      }
      this.succeeded(entry);
    } catch (error) {
      this.unexpected(entry, error);
    }
  }

  /** Starts the handler (a handler that throws at once gives a rejected promise). */
  private invoke(entry: RunningJob, handler: RegisteredHandler, payload: unknown): Promise<unknown> {
    const { job } = entry;
    entry.startedAt = Date.now();
    if (this.events.has('job.started')) {
      this.events.emit({ name: 'job.started', id: job.id, type: job.type, attempt: job.attempt, maxAttempts: job.maxAttempts });
    }
    return handler.invoke(payload, new HandlerContext(entry));
  }

  /** The handler returned: its slot frees at once, and its job joins the next batched DELETE. */
  private succeeded(entry: RunningJob): void {
    try {
      entry.durationMs = Date.now() - entry.startedAt;
      this.freeSlot(entry);
      if (entry.relinquished) return this.settled(entry);
      this.complete(entry);
    } catch (error) {
      this.unexpected(entry, error);
    }
  }

  /** The handler threw or timed out: the job is retried after a backoff, or dead-lettered. */
  private failed(entry: RunningJob, handler: RegisteredHandler, thrown: unknown): void {
    try {
      this.freeSlot(entry);
      if (entry.relinquished) return this.settled(entry);
      const { job } = entry;
      const error = toJobError(thrown);
      const durationMs = Date.now() - entry.startedAt;
      const final = thrown instanceof NonRetryableJobError || job.attempt >= job.maxAttempts;
      void this.writeOutcome(entry, () => (final ? this.deadLetter(entry, error, durationMs) : this.retry(entry, handler, error, durationMs)));
    } catch (error) {
      this.unexpected(entry, error);
    }
  }

  /** Writes an outcome other than success (the writes log their own database failures). */
  private async writeOutcome(entry: RunningJob, write: () => Promise<void>): Promise<void> {
    this.freeSlot(entry);
    try {
      await write();
    } catch (error) {
      return this.unexpected(entry, error);
    }
    this.settled(entry);
  }

  private unexpected(entry: RunningJob, error: unknown): void {
    this.logger.error(`Job ${entry.job.id} (${entry.job.type}): unexpected runner error: ${toJobError(error).message}`);
    this.freeSlot(entry);
    this.settled(entry);
  }

  /**
   * Queues a success for the next batched DELETE: every handler that finishes in the same turn of
   * the event loop is settled by one statement, which then settles each claim.
   */
  private complete(entry: RunningJob): void {
    this.completions.push(entry);
    if (this.completions.length === 1) setImmediate(() => void this.flushCompletions());
  }

  private async flushCompletions(): Promise<void> {
    const batch = this.completions;
    this.completions = [];
    const { store } = this.host;
    // While every lease in the batch is young, no other claim can hold these jobs: the store may
    // delete them without reporting claim by claim, which costs the database much less. (This
    // trusts the database's clock not to jump by half a lease; the claim tokens still fence the
    // delete whatever happens, only the reporting would be off.)
    const underLease = store.completeUnderLease !== undefined && this.leasesYoungerThan(batch, this.options.leaseMs / 2);
    let lost: Set<string> | undefined;
    let deleted = 0;
    this.deletesInFlight++;
    try {
      if (underLease) deleted = await store.completeUnderLease!(batch);
      else lost = await store.complete(batch);
      this.databaseAnswered();
    } catch (error) {
      // Not deleted: each job runs again once its lease ends (at-least-once).
      this.databaseFailed(`complete ${batch.length === 1 ? `job ${batch[0].job.id}` : `${batch.length} jobs`}`, error);
      for (const entry of batch) this.settled(entry);
      return;
    } finally {
      if (--this.deletesInFlight === 0 && this.emptyClaimDuringDelete) {
        this.emptyClaimDuringDelete = false;
        if (this.active) void this.poll();
      }
    }
    let announce = this.events.has('job.succeeded');
    if (!lost && deleted < batch.length) {
      if (this.leasesYoungerThan(batch, this.options.leaseMs)) {
        // The delete ran while every lease was live: the missing jobs were deleted by someone
        // else, and each handler still ran its job alone.
        this.logger.warn(JOBS_GONE(batch.length - deleted, batch.length));
      } else {
        // The delete returned after some leases could have run out: which claims held is unknown.
        this.logger.warn(CLAIMS_UNKNOWN(batch.length - deleted, batch.length, this.options.leaseMs));
        announce = false;
      }
    }
    for (const entry of batch) {
      const { job } = entry;
      if (lost && lost.size > 0 && lost.has(entry.key)) {
        if (!entry.relinquished) this.logger.warn(CLAIM_LOST(job.id, job.type, 'complete', this.options.leaseMs));
      } else if (announce) {
        this.events.emit({ name: 'job.succeeded', id: job.id, type: job.type, attempt: job.attempt, maxAttempts: job.maxAttempts, durationMs: entry.durationMs });
      }
      this.settled(entry);
    }
  }

  /** Whether every entry's lease started less than `ms` ago (relinquished entries never get here). */
  private leasesYoungerThan(entries: RunningJob[], ms: number): boolean {
    const oldest = performance.now() - ms;
    for (const entry of entries) if (entry.leaseFrom <= oldest) return false;
    return true;
  }

  /** LISTEN/NOTIFY wake-up where the store offers it (PostgreSQL); polling goes on regardless. */
  private async startListening(): Promise<void> {
    const { store } = this.host;
    if (!store.listen || this.options.notify === false) return;
    try {
      const stop = await store.listen(() => void this.poll(), {
        connected: () => {
          if (this.listenerDown) this.logger.log('LISTEN/NOTIFY wake-up reconnected.');
          this.listenerDown = false;
        },
        lost: (error) => {
          if (this.listenerDown) return;
          this.listenerDown = true;
          this.logger.warn(`LISTEN/NOTIFY wake-up lost its connection (${toJobError(error).message}); reconnecting, polling every ${this.options.pollIntervalMs} ms meanwhile.`);
        },
      });
      if (this.active) this.stopListening = stop;
      else await stop();
    } catch (error) {
      this.logger.warn(`LISTEN/NOTIFY wake-up is off (${toJobError(error).message}); polling every ${this.options.pollIntervalMs} ms. Pass notify: { connectionString } to turn it on.`);
    }
  }

  private async retry(entry: RunningJob, handler: RegisteredHandler, error: JobError, durationMs: number): Promise<void> {
    const { job, token } = entry;
    const delay = backoffDelay(job.attempt, { ...this.options.backoff, ...handler.backoff });
    if (await this.settle(entry, 'retry', () => this.host.store.retry(job.id, token, delay, error))) {
      this.events.emit({ name: 'job.failed', id: job.id, type: job.type, attempt: job.attempt, maxAttempts: job.maxAttempts, durationMs, error, nextAttemptInMs: delay });
    }
  }

  private async deadLetter(entry: RunningJob, error: JobError, durationMs?: number): Promise<void> {
    const { job, token } = entry;
    if (await this.settle(entry, 'dead-letter', () => this.host.store.deadLetter(job.id, token, error))) {
      this.events.emit({ name: 'job.dead-lettered', id: job.id, type: job.type, attempt: job.attempt, maxAttempts: job.maxAttempts, durationMs, error });
    }
  }

  /** Runs a fenced settle; false when the claim was lost (lease expired and taken) or the database failed. */
  private async settle(entry: RunningJob, what: string, write: () => Promise<boolean>): Promise<boolean> {
    try {
      const ok = await write();
      this.databaseAnswered();
      if (!ok && !entry.relinquished) this.logger.warn(CLAIM_LOST(entry.job.id, entry.job.type, what, this.options.leaseMs));
      return ok;
    } catch (error) {
      this.databaseFailed(`${what} job ${entry.job.id}`, error);
      return false;
    }
  }

  /**
   * Heartbeat: pushes the lease of every running job forward. A job whose claim no longer holds
   * (its lease ran out while this process stalled, and another worker took it) is aborted.
   */
  private async extendLeases(): Promise<void> {
    if (this.heartbeatBusy || this.running.size === 0) return;
    this.heartbeatBusy = true;
    try {
      for (const [token, entries] of this.byToken([...this.running].filter((e) => !e.relinquished))) {
        let held: Set<string>;
        const sent = performance.now();
        try {
          held = new Set(await this.host.store.extend(entries.map((e) => e.job.id), token, this.options.leaseMs));
          this.databaseAnswered();
        } catch (error) {
          this.databaseFailed('extend leases', error);
          return;
        }
        for (const entry of entries) {
          if (held.has(entry.job.id)) {
            entry.leaseFrom = sent;
            continue;
          }
          if (!this.running.has(entry)) continue; // finished meanwhile
          entry.relinquished = true;
          entry.abort(new Error(LEASE_LOST(entry.job.id)));
          this.logger.warn(LEASE_LOST(entry.job.id));
        }
      }
    } finally {
      this.heartbeatBusy = false;
    }
  }

  private async releaseRunning(): Promise<number> {
    const entries = [...this.running]; // handlers still running (not those writing their outcome)
    for (const entry of entries) {
      entry.relinquished = true;
      entry.abort(new Error('Doctor Job is shutting down'));
    }
    let count = 0;
    for (const [token, group] of this.byToken(entries)) count += await this.release(group.map((e) => e.job.id), token);
    // Their handlers may go on (they were asked to stop); they no longer count as running.
    this.running.clear();
    this.runningByType.clear();
    for (const entry of entries) this.settled(entry);
    this.logger.warn(
      `Shutdown timeout (${this.options.shutdownTimeoutMs} ms) passed with ${entries.length} handler(s) still running: ` +
        `aborted them and released ${count} job(s) for another worker, attempt not consumed.`,
    );
    return count;
  }

  private uncount(type: string): void {
    const left = (this.runningByType.get(type) ?? 1) - 1;
    if (left > 0) this.runningByType.set(type, left);
    else this.runningByType.delete(type);
  }

  private byToken(entries: RunningJob[]): Map<string, RunningJob[]> {
    const groups = new Map<string, RunningJob[]>();
    for (const entry of entries) groups.set(entry.token, [...(groups.get(entry.token) ?? []), entry]);
    return groups;
  }

  private async release(ids: string[], token: string): Promise<number> {
    if (ids.length === 0) return 0;
    try {
      return await this.host.store.release(ids, token);
    } catch (error) {
      this.databaseFailed(`release jobs ${ids.join(', ')}`, error);
      return 0;
    }
  }

  /**
   * An outage ends when the database has answered with no failure for a while: right after a
   * restart, queries on pooled connections that died with it fail one by one among the first
   * successes, and that is still the same outage.
   */
  private databaseAnswered(): void {
    if (!this.outage || Date.now() - this.lastFailureAt < Math.max(1_000, 2 * this.options.pollIntervalMs)) return;
    this.outage = false;
    this.logger.log('The database answers again; claiming resumed.');
  }

  /** Logs an outage once, not once per poll (or per failed query); the interval keeps retrying. */
  private databaseFailed(what: string, error: unknown): void {
    this.lastFailureAt = Date.now();
    if (this.outage) return;
    this.outage = true;
    this.logger.error(
      `Could not ${what}: ${toJobError(error).message.trim().split('\n').pop()}. Retrying every ${this.options.pollIntervalMs} ms; ` +
        `further failures are not logged until the database answers again. Jobs not settled become due again when their lease ends.`,
    );
  }
}

/** Claims in flight at once, at most (see claimLane). */
const MAX_CLAIM_LANES = 2;

function toJobError(thrown: unknown): JobError {
  if (thrown instanceof Error) return { message: thrown.message || thrown.name, stack: thrown.stack };
  return { message: typeof thrown === 'string' ? thrown : `Non-error thrown: ${safeString(thrown)}` };
}

function safeString(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
