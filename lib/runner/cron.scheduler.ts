import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy, Optional } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { CronTime } from 'cron';
import { DOCTOR_JOB_OPTIONS } from '../doctor-job.constants';
import type { ResolvedDoctorJobOptions } from '../doctor-job.options';
import { JobHandlerRegistry, type RegisteredHandler } from '../handlers/job-handler.registry';
import { JobStoreHost } from '../store/job-store.host';

/**
 * Enqueues the jobs of recurring handlers (`@JobHandler(type, { cron })`). Every instance keeps a
 * timer per type, registered in SchedulerRegistry as `doctor-job.cron.<type>`; at a tick, each
 * tries to move the type's last tick forward to that tick in the database, and only the one that
 * does enqueues the job, in the same statement. A tick is identified by its scheduled time, so
 * instances whose clocks differ still agree on it. On start, a tick missed while every instance
 * was down is enqueued once (several missed ticks are coalesced into that one).
 */
@Injectable()
export class CronScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(CronScheduler.name);
  private readonly names = new Set<string>();
  private stopped = false;
  /** Start-up checks and tick enqueues under way: shutdown waits for them, so none outlives the app's client. */
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    @Inject(DOCTOR_JOB_OPTIONS) private readonly options: ResolvedDoctorJobOptions,
    private readonly host: JobStoreHost,
    private readonly registry: JobHandlerRegistry,
    @Optional() private readonly scheduler?: SchedulerRegistry,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.options.autoStart || !this.scheduler) return;
    for (const handler of this.registry.recurring()) await this.track(this.start(handler));
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    for (const name of this.names) if (this.scheduler?.doesExist('timeout', name)) this.scheduler.deleteTimeout(name);
    this.names.clear();
    await Promise.all([...this.inFlight]);
  }

  private track(work: Promise<void>): Promise<void> {
    this.inFlight.add(work);
    return work.finally(() => this.inFlight.delete(work));
  }

  private async start(handler: RegisteredHandler): Promise<void> {
    const time = new CronTime(handler.cron!);
    const now = new Date();
    try {
      const last = await this.host.store.lastTick(handler.type, now);
      const missed = last && time.getNextDateFrom(last).toJSDate();
      if (missed && missed <= now) await this.enqueue(handler, missed, 'catch-up');
    } catch (error) {
      this.logger.error(`Recurring job ${handler.type}: could not check for a missed tick: ${(error as Error).message}`);
    }
    this.schedule(handler, time, time.getNextDateFrom(now).toJSDate());
  }

  private schedule(handler: RegisteredHandler, time: CronTime, tick: Date): void {
    if (this.stopped) return;
    const name = `doctor-job.cron.${handler.type}`;
    if (this.scheduler!.doesExist('timeout', name)) this.scheduler!.deleteTimeout(name);
    const timer = setTimeout(() => {
      void this.track(this.enqueue(handler, tick, 'tick')).finally(() => this.schedule(handler, time, time.getNextDateFrom(tick).toJSDate()));
    }, Math.max(0, tick.getTime() - Date.now()));
    this.scheduler!.addTimeout(name, timer);
    this.names.add(name);
  }

  private async enqueue(handler: RegisteredHandler, tick: Date, why: 'tick' | 'catch-up'): Promise<void> {
    try {
      const id = await this.host.store.claimTick(handler.type, tick, {
        type: handler.type,
        payload: JSON.stringify({ scheduledAt: tick.toISOString() }),
        maxAttempts: handler.maxAttempts ?? this.options.maxAttempts,
        priority: 0,
      });
      if (id && why === 'catch-up') this.logger.log(`Recurring job ${handler.type}: enqueued the missed tick of ${tick.toISOString()} as job ${id}.`);
    } catch (error) {
      this.logger.error(`Recurring job ${handler.type}: could not enqueue the tick of ${tick.toISOString()}: ${(error as Error).message}`);
    }
  }
}
