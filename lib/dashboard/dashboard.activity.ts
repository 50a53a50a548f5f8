import { Inject, Injectable, Optional, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { JobEvents } from '../events/job-events';

/** Minutes kept per type: the last hour. */
export const ACTIVITY_MINUTES = 60;
/** Types tracked at most (types come from the runner's events; a flood of unknown types stops here). */
export const MAX_ACTIVITY_TYPES = 1_000;

export interface MinuteCounts {
  processed: number;
  failed: number;
  deadLettered: number;
}

interface Ring {
  /** The minute (ms since the epoch / 60000) each slot counts, or -1. */
  minutes: Int32Array;
  processed: Uint32Array;
  failed: Uint32Array;
  deadLettered: Uint32Array;
}

/**
 * This instance's job outcomes per type and minute over the last hour, from the runner's
 * lifecycle events (JobEvents), in a ring of 60 per-minute slots per type: processed (handler
 * succeeded), failed (an attempt failed and will be retried), dead-lettered. Only what this
 * process ran since it started: other instances' work is not in it.
 */
@Injectable()
export class DashboardActivity implements OnModuleInit, OnModuleDestroy {
  readonly startedAt = new Date();
  private readonly rings = new Map<string, Ring>();
  private readonly unsubscribe: (() => void)[] = [];

  // Optional: without DoctorJobModule the dashboard's options factory refuses to start with a message that says so.
  constructor(@Optional() @Inject(JobEvents) private readonly events: JobEvents) {}

  onModuleInit(): void {
    this.unsubscribe.push(
      this.events.on('job.succeeded', (e) => this.count(e.type, 'processed')),
      this.events.on('job.failed', (e) => this.count(e.type, 'failed')),
      this.events.on('job.dead-lettered', (e) => this.count(e.type, 'deadLettered')),
    );
  }

  onModuleDestroy(): void {
    for (const off of this.unsubscribe.splice(0)) off();
  }

  /** Counts one outcome now (also used by tests through the events, never directly). */
  private count(type: string, kind: keyof MinuteCounts, now = Date.now()): void {
    let ring = this.rings.get(type);
    if (!ring) {
      if (this.rings.size >= MAX_ACTIVITY_TYPES) return;
      ring = { minutes: new Int32Array(ACTIVITY_MINUTES).fill(-1), processed: new Uint32Array(ACTIVITY_MINUTES), failed: new Uint32Array(ACTIVITY_MINUTES), deadLettered: new Uint32Array(ACTIVITY_MINUTES) };
      this.rings.set(type, ring);
    }
    const minute = Math.floor(now / 60_000);
    const slot = minute % ACTIVITY_MINUTES;
    if (ring.minutes[slot] !== minute) {
      ring.minutes[slot] = minute;
      ring.processed[slot] = ring.failed[slot] = ring.deadLettered[slot] = 0;
    }
    ring[kind][slot]++;
  }

  /** The types seen, by name. */
  types(): string[] {
    return [...this.rings.keys()].sort();
  }

  /** A type's (or, without one, every type's) counts for each of the last 60 minutes, oldest first; the last is the current minute. */
  lastHour(type?: string, now = Date.now()): MinuteCounts[] {
    const current = Math.floor(now / 60_000);
    const rings = type === undefined ? [...this.rings.values()] : this.rings.has(type) ? [this.rings.get(type)!] : [];
    const out: MinuteCounts[] = [];
    for (let minute = current - ACTIVITY_MINUTES + 1; minute <= current; minute++) {
      const slot = minute % ACTIVITY_MINUTES;
      const counts = { processed: 0, failed: 0, deadLettered: 0 };
      for (const ring of rings) {
        if (ring.minutes[slot] !== minute) continue;
        counts.processed += ring.processed[slot];
        counts.failed += ring.failed[slot];
        counts.deadLettered += ring.deadLettered[slot];
      }
      out.push(counts);
    }
    return out;
  }
}

/** The sums of a series. */
export function totals(series: MinuteCounts[]): MinuteCounts {
  return series.reduce((sum, m) => ({ processed: sum.processed + m.processed, failed: sum.failed + m.failed, deadLettered: sum.deadLettered + m.deadLettered }), { processed: 0, failed: 0, deadLettered: 0 });
}
