/**
 * The soak's Doctor Job app: the same boot as bench/systems/doctor-job.ts (a Nest application
 * context with ScheduleModule.forRoot() + DoctorJobModule.forRoot({ prisma, ... }), Prisma 7 with
 * @prisma/adapter-pg), with a handler that takes the soak's mixed payloads.
 */
import 'reflect-metadata';
import { join } from 'node:path';
import { Injectable, Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { DoctorJobModule, JobHandler, OutboxRunner, OutboxService, type JobContext } from 'doctor-job';
import type { PrismaClient } from '../../generated/postgresql/client';
import { applyMigrations } from '../../sample/database/migrate';
import { ROOT } from '../common';
import { plainPrisma } from '../systems/types';

export const SOAK_JOB = 'soakJob';

/** kind: i = immediate, d = delayed, f = fails its first attempt, k = keyed (orderingKey). */
export interface SoakPayload {
  /** The job's number, 0.. in enqueue order. */
  n: number;
  /** Wall time (ms) just before the enqueue transaction began. */
  t: number;
  /** Delay asked for (ms), 0 for all but delayed jobs. */
  d: number;
  kind: 'i' | 'd' | 'f' | 'k';
}

export type SoakSink = (payload: SoakPayload, job: JobContext) => Promise<void>;
let sink: SoakSink = async () => {};
export const setSink = (fn: SoakSink) => void (sink = fn);

export class PlannedFailure extends Error {}

@Injectable()
export class SoakJobs {
  @JobHandler(SOAK_JOB)
  async run(payload: SoakPayload, job: JobContext): Promise<void> {
    await sink(payload, job);
  }
}

@Module({})
class SoakAppModule {}

export interface SoakApp {
  app: INestApplicationContext;
  outbox: OutboxService<Record<string, SoakPayload>>;
  runner: OutboxRunner;
  prisma: PrismaClient;
  close(): Promise<void>;
}

export interface SoakRunnerOptions {
  autoStart: boolean;
  pollIntervalMs: number;
  batchSize: number;
  concurrency: number;
}

export async function bootSoakApp(url: string, options: SoakRunnerOptions, migrate: boolean): Promise<SoakApp> {
  const prisma = plainPrisma(url);
  if (migrate) await applyMigrations(prisma, 'postgresql', join(ROOT, 'prisma', 'postgresql', 'migrations'));
  const app = await NestFactory.createApplicationContext(
    {
      module: SoakAppModule,
      // A failing-once job is retried after about 200 ms (backoff base 200 ms, jittered), not the default 1 s.
      imports: [ScheduleModule.forRoot(), DoctorJobModule.forRoot({ prisma, ...options, backoff: { baseMs: 200 } })],
      providers: [SoakJobs],
    },
    // No warnings: each planned failure would log one (about 50 a second). 'log' keeps the runner's index rebuild lines.
    { logger: ['error', 'log'] },
  );
  await app.init();
  return {
    app,
    prisma,
    outbox: app.get<OutboxService<Record<string, SoakPayload>>>(OutboxService),
    runner: app.get(OutboxRunner),
    close: async () => {
      await app.close();
      await prisma.$disconnect();
    },
  };
}

/** The table every handler run is recorded in (as test/reliability/support/runs.ts), plus whether the run succeeded. */
export const RUNS_TABLE_SQL = `CREATE TABLE IF NOT EXISTS "soak_run" ("job_id" BIGINT NOT NULL, "n" INT NOT NULL, "worker" TEXT NOT NULL,
  "attempt" INT NOT NULL, "ok" BOOLEAN NOT NULL, "started_at" TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp())`;

/** Messages of the soak's worker processes. */
export type SoakWorkerMessage =
  | { type: 'ready'; rss: number }
  | { type: 'stats'; rss: number; heapUsed: number; heapTotal: number; ok: number; failed: number; latencies: [number, number][] }
  | { type: 'stopped' }
  | { type: 'error'; message: string };
export type SoakCommand = { cmd: 'go' } | { cmd: 'stop' };
