import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { DoctorJobAdminService } from '../admin/admin.service';
import { OutboxService } from '../outbox/outbox.service';
import type { QueueStats } from '../store/job-store.interface';
import { OutboxRunner } from '../runner/outbox.runner';

export interface DoctorJobHealthOptions {
  /** Down when a job has been due, unclaimed, for longer than this (ms). Default 60000. */
  maxOldestDueAgeMs?: number;
  /** Down when this instance's runner is not running (default true; false for producer-only instances). */
  requireRunner?: boolean;
}

/**
 * A @nestjs/terminus health indicator: up when the database answers, the runner runs, and no job
 * has waited longer than the threshold (jobs of paused types wait on purpose: they do not count;
 * the details list the paused types). Add it to the providers of the module that has your
 * HealthController (which imports TerminusModule).
 */
@Injectable()
export class DoctorJobHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly runner: OutboxRunner,
    private readonly outbox: OutboxService,
    private readonly admin: DoctorJobAdminService,
  ) {}

  async isHealthy<const Key extends string = 'doctor-job'>(key: Key = 'doctor-job' as Key, options: DoctorJobHealthOptions = {}) {
    const indicator = this.health.check(key);
    const maxOldestDueAgeMs = options.maxOldestDueAgeMs ?? 60_000;
    const runner = this.runner.isRunning ? 'running' : 'stopped';
    let stats: QueueStats;
    let paused: string[];
    try {
      stats = await this.outbox.stats();
      paused = (await this.admin.pausedTypes()).map((p) => p.type);
    } catch (error) {
      return indicator.down({ runner, database: 'unreachable', error: (error as Error).message.trim().split('\n').pop() });
    }
    const sum = (pick: (t: (typeof stats.types)[number]) => number) => stats.types.reduce((total, t) => total + pick(t), 0);
    const oldestDueAgeMs = Math.max(0, ...stats.types.filter((t) => !paused.includes(t.type)).map((t) => t.oldestDueAgeMs));
    const details = {
      runner,
      database: 'reachable',
      due: sum((t) => t.due),
      running: sum((t) => t.running),
      deadLetters: stats.deadLetters.reduce((total, d) => total + d.count, 0),
      oldestDueAgeMs,
      maxOldestDueAgeMs,
      paused,
    };
    if ((options.requireRunner ?? true) && !this.runner.isRunning) return indicator.down(details);
    if (oldestDueAgeMs > maxOldestDueAgeMs) return indicator.down(details);
    return indicator.up(details);
  }
}
