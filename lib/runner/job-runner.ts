import { hostname } from 'node:os';
import { RUNNER_STOPPED, SHUTDOWN_ABORT_REASON, SHUTDOWN_RELEASED } from '../doctor-job.messages';
import type { ResolvedDoctorJobOptions } from '../doctor-job.options';
import type { JobEvents } from '../events/job-events';
import type { RegisteredHandler } from '../handlers/job-handler.registry';
import { claimToken, newInstanceKey } from '../store/claim-token';
import type { JobStore } from '../store/job-store.interface';
import type { TransactionClientLike } from '../store/prisma-client.interface';
import { jobTracing, type JobTracing } from '../tracing/job-tracing';
import { backoffDelay } from './backoff';
import { ClaimLoop } from './claim-loop';
import { CompletionBatcher } from './completion-batcher';
import { FailureSettler } from './failure-settler';
import { Housekeeping } from './housekeeping';
import { JobExecutor } from './job-executor';
import { LeaseKeeper } from './lease-keeper';
import { OutageLog, type RunnerLog } from './outage-log';
import { excluded, PausedTypes } from './paused-types';
import { byToken, type RunningJob } from './running-job';
import { pausedTypesMaxAgeMs } from './runner-tuning';
import { Slots } from './slots';
import { WakeUp } from './wake-up';

export type JobRunnerSettings = Pick<
  ResolvedDoctorJobOptions,
  'concurrency' | 'batchSize' | 'leaseMs' | 'pollIntervalMs' | 'shutdownTimeoutMs' | 'backoff' | 'notify'
>;

/** Type → handler, as JobHandlerRegistry gives it. */
export interface HandlerLookup {
  get(type: string): RegisteredHandler | undefined;
  /** Types whose handler has a `concurrency` of its own. */
  limited(): Set<string>;
}

export interface JobRunnerParts {
  store: JobStore;
  handlers: HandlerLookup;
  events: JobEvents;
  logger: RunnerLog;
  /** Monotonic ms for lease ages and the outage window; performance.now() unless a test controls it. */
  now?: () => number;
  /** Delay before the next attempt; by default the handler's backoff merged over the module's. */
  retryDelay?: (attempt: number, handler: RegisteredHandler) => number;
  /** Opens a transaction of the app's Prisma client, for `transaction: true` handlers (it may stay open up to the lease). */
  transaction?: <T>(fn: (tx: TransactionClientLike) => Promise<T>) => Promise<T>;
  /** Spans of each attempt; by default OpenTelemetry when @opentelemetry/api is installed (no-op otherwise). */
  tracing?: JobTracing;
}

/**
 * The runner without Nest: wires the parts and owns start and shutdown. OutboxRunner (the Nest
 * provider) builds one and drives it; unit tests drive one against an in-memory store.
 *
 *   ClaimLoop ──run──▶ JobExecutor ──success──▶ CompletionBatcher (batched, fenced delete)
 *       ▲                   └──────failure────▶ FailureSettler (fenced retry / dead letter)
 *   WakeUp, interval        Slots: what may run; LeaseKeeper: heartbeat; OutageLog: database failures
 */
export class JobRunner {
  readonly slots: Slots;
  readonly claims: ClaimLoop;
  readonly executor: JobExecutor;
  readonly completions: CompletionBatcher;
  readonly leases: LeaseKeeper;
  readonly wakeUp: WakeUp;
  /** This runner's key, carried by its claim tokens (see claim-token.ts). */
  readonly instanceKey = newInstanceKey();
  /** This runner's name in the jobs it holds (their `lockedBy`): `hostname:pid:key`. */
  readonly instance = `${hostname()}:${process.pid}:${this.instanceKey}`;
  private readonly paused: PausedTypes;
  private readonly housekeeping: Housekeeping;
  private readonly outage: OutageLog;
  private readonly store: JobStore;
  private readonly handlers: HandlerLookup;
  private readonly logger: RunnerLog;
  private active = false;

  constructor(
    private readonly settings: JobRunnerSettings,
    { store, handlers, events, logger, now = () => performance.now(), retryDelay, transaction, tracing = jobTracing() }: JobRunnerParts,
  ) {
    this.store = store;
    this.handlers = handlers;
    this.logger = logger;
    const { leaseMs } = settings;
    this.outage = new OutageLog(settings.pollIntervalMs, logger, now);
    this.slots = new Slots(settings.concurrency);
    // The callbacks called once per job are bound methods where their target exists already, not
    // arrow functions: V8 compiles a hot arrow function on its own besides inlining it into its
    // callers, a bound function only inlined. (slotFreed stays an arrow: the claim loop is made later.)
    this.completions = new CompletionBatcher(store, leaseMs, events, this.outage, logger, {
      closed: this.slots.close.bind(this.slots),
      claimAgain: () => void this.claims.poll(),
    }, now);
    const failures = new FailureSettler(store, leaseMs, events, this.outage, logger);
    const delay = retryDelay ?? ((attempt: number, handler: RegisteredHandler) => backoffDelay(attempt, { ...settings.backoff, ...handler.backoff }));
    this.executor = new JobExecutor(handlers, delay, this.slots, failures, events, logger, {
      slotFreed: () => this.claims.slotFreed(),
      succeeded: this.completions.add.bind(this.completions),
    }, transaction && { run: transaction, complete: (tx, claim) => store.completeInTransaction(tx, claim) }, tracing);
    // Paused types are read once per poll interval, not per claim: the claim statement stays as it is.
    this.paused = new PausedTypes(store, pausedTypesMaxAgeMs(settings.pollIntervalMs), now);
    this.housekeeping = new Housekeeping(store, { key: this.instanceKey, name: this.instance }, now, logger);
    const claim = (limit: number, token: string, paused: string[]) =>
      store.claim({ limit, leaseMs, token, excludeTypes: excluded(this.slots.saturatedTypes(), paused) });
    this.claims = new ClaimLoop(settings, this.slots, {
      claim: (limit, token) =>
        this.outage.run('claim jobs', () => {
          const paused = this.paused.current();
          return Array.isArray(paused) ? claim(limit, token, paused) : paused.then((types) => claim(limit, token, types));
        }),
      run: this.executor.run.bind(this.executor),
      release: (ids, token) => this.release(ids, token),
      claimedNothing: () => this.completions.claimedNothing(),
    }, now, () => claimToken(this.instanceKey));
    this.leases = new LeaseKeeper(store, leaseMs, () => this.slots.runningJobs(), this.outage, logger, now);
    this.wakeUp = new WakeUp(store, settings.pollIntervalMs, logger, () => void this.poll());
  }

  get isRunning(): boolean {
    return this.active;
  }

  get inFlight(): number {
    return this.slots.size;
  }

  start(): void {
    if (this.active) return;
    this.active = true;
    const limits = new Map<string, number>();
    for (const type of this.handlers.limited()) limits.set(type, this.handlers.get(type)!.concurrency!);
    this.slots.limitTypes(limits);
    this.claims.start();
    this.leases.start();
    if (this.settings.notify !== false) void this.wakeUp.start();
    void this.poll();
  }

  poll(): Promise<void> {
    if (this.active) this.housekeeping.tick();
    return this.claims.poll();
  }

  /** Resolves once no claim is open (nothing running, no outcome being settled). */
  idle(): Promise<void> {
    return this.slots.allClosed();
  }

  /**
   * Stops claiming, waits up to `shutdownTimeoutMs` for open claims (running handlers, outcomes
   * being settled, a claim under way), then aborts the handlers still running and releases their
   * jobs without consuming the attempt.
   */
  async stop(): Promise<void> {
    if (!this.active) return;
    this.active = false;
    const claimsStopped = this.claims.stop();
    await this.wakeUp.stop();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), this.settings.shutdownTimeoutMs)));
    const closed = claimsStopped.then(() => this.slots.allClosed());
    const open = this.slots.openClaims;
    const outcome = await Promise.race([closed, timedOut]);
    clearTimeout(timer);
    const released = outcome === 'timeout' ? await this.releaseRunning() : 0;
    this.leases.stop();
    this.logger.log(RUNNER_STOPPED(open - released, released));
  }

  /** Shutdown timeout: aborts the handlers still running and gives their jobs back. */
  private async releaseRunning(): Promise<number> {
    const entries: RunningJob[] = this.slots.runningJobs(); // not those settling their outcome
    for (const entry of entries) {
      entry.relinquished = true;
      entry.span?.abandoned('relinquished');
      entry.abort(new Error(SHUTDOWN_ABORT_REASON));
    }
    let count = 0;
    for (const [token, group] of byToken(entries)) count += await this.release(group.map((e) => e.job.id), token);
    // Their handlers may go on (they were asked to stop); they no longer count as running.
    this.slots.evict();
    for (const entry of entries) this.slots.close(entry);
    this.logger.warn(SHUTDOWN_RELEASED(this.settings.shutdownTimeoutMs, entries.length, count));
    return count;
  }

  private async release(ids: string[], token: string): Promise<number> {
    if (ids.length === 0) return 0;
    try {
      return await this.store.release(ids, token);
    } catch (error) {
      this.outage.failed(`release jobs ${ids.join(', ')}`, error);
      return 0;
    }
  }
}
