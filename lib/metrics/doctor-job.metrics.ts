import { Inject, Injectable, OnModuleDestroy, OnModuleInit, Optional } from '@nestjs/common';
import { Counter, Gauge, Histogram, register as defaultRegistry, type Registry } from 'prom-client';
import { JobEvents } from '../events/job-events';
import { OutboxService } from '../outbox/outbox.service';
import type { QueueStats } from '../store/job-store.interface';

/** Provide a prom-client Registry under this token to use it instead of the default one. */
export const DOCTOR_JOB_METRICS_REGISTRY = Symbol('DOCTOR_JOB_METRICS_REGISTRY');

/**
 * Prometheus metrics (prom-client): queue depth and oldest due age per type and dead letters per
 * type, read from the database at each scrape; processed jobs per type and outcome and handler
 * durations, from the runner's events. Add it to your providers and expose the registry.
 */
@Injectable()
export class DoctorJobMetrics implements OnModuleInit, OnModuleDestroy {
  readonly registry: Registry;
  private readonly names: string[] = [];
  private readonly unsubscribe: (() => void)[] = [];

  constructor(
    private readonly events: JobEvents,
    private readonly outbox: OutboxService,
    @Optional() @Inject(DOCTOR_JOB_METRICS_REGISTRY) registry?: Registry,
  ) {
    this.registry = registry ?? defaultRegistry;
  }

  onModuleInit(): void {
    const registers = [this.registry];
    // One database read per scrape, shared by the three gauges (their collect() run together).
    let pending: Promise<QueueStats> | undefined;
    const stats = () => {
      pending ??= this.outbox.stats().finally(() => setTimeout(() => (pending = undefined), 0));
      return pending;
    };
    new Gauge({
      name: 'doctor_job_queue_depth',
      help: 'Jobs in the queue, by type and state (due: waiting to be claimed; running: under a lease; total: also scheduled for later).',
      labelNames: ['type', 'state'],
      registers,
      async collect() {
        const { types } = await stats();
        this.reset();
        for (const t of types) {
          this.set({ type: t.type, state: 'due' }, t.due);
          this.set({ type: t.type, state: 'running' }, t.running);
          this.set({ type: t.type, state: 'total' }, t.total);
        }
      },
    });
    new Gauge({
      name: 'doctor_job_oldest_due_age_seconds',
      help: 'How long the oldest due job of a type has waited.',
      labelNames: ['type'],
      registers,
      async collect() {
        const { types } = await stats();
        this.reset();
        for (const t of types) this.set({ type: t.type }, t.oldestDueAgeMs / 1000);
      },
    });
    new Gauge({
      name: 'doctor_job_dead_letters',
      help: 'Jobs in the dead-letter table, by type.',
      labelNames: ['type'],
      registers,
      async collect() {
        const { deadLetters } = await stats();
        this.reset();
        for (const d of deadLetters) this.set({ type: d.type }, d.count);
      },
    });
    const processed = new Counter({
      name: 'doctor_job_processed_total',
      help: 'Handler runs by type and outcome (succeeded, failed: will retry, dead_lettered).',
      labelNames: ['type', 'outcome'],
      registers,
    });
    const duration = new Histogram({
      name: 'doctor_job_handler_duration_seconds',
      help: 'Time in the handler, by type and outcome.',
      labelNames: ['type', 'outcome'],
      buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
      registers,
    });
    this.names.push('doctor_job_queue_depth', 'doctor_job_oldest_due_age_seconds', 'doctor_job_dead_letters', 'doctor_job_processed_total', 'doctor_job_handler_duration_seconds');
    const record = (outcome: string) => (event: { type: string; durationMs?: number }) => {
      processed.inc({ type: event.type, outcome });
      if (event.durationMs !== undefined) duration.observe({ type: event.type, outcome }, event.durationMs / 1000);
    };
    this.unsubscribe.push(
      this.events.on('job.succeeded', record('succeeded')),
      this.events.on('job.failed', record('failed')),
      this.events.on('job.dead-lettered', record('dead_lettered')),
    );
  }

  onModuleDestroy(): void {
    for (const stop of this.unsubscribe.splice(0)) stop();
    for (const name of this.names.splice(0)) this.registry.removeSingleMetric(name);
  }
}
