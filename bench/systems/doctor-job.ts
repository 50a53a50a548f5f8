/** Doctor Job: a real Nest application context with ScheduleModule.forRoot() + DoctorJobModule.forRoot(). */
import 'reflect-metadata';
import { join } from 'node:path';
import { Injectable, Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { DoctorJobModule, JobHandler, OutboxRunner, OutboxService } from 'doctor-job';
import type { PrismaClient } from '../../generated/postgresql/client';
import { applyMigrations } from '../../sample/database/migrate';
import { BUSINESS_TABLE_SQL, doctorJobConfig, ROOT } from '../common';
import { BARE_JOB_INSERT, BUSINESS_INSERT, customer, observerPool, plainPrisma, type Consumer, type OnJob, type Payload, type Producer } from './types';

export const JOB_TYPE = 'benchNoop';
let sink: OnJob = () => {};

@Injectable()
export class BenchJobs {
  /** No DTO: the handler gets the parsed JSON, no validation cost. */
  @JobHandler(JOB_TYPE)
  async noop(payload: Payload): Promise<void> {
    sink(payload);
  }
}

@Module({})
class BenchAppModule {}

export interface DoctorJobApp {
  app: INestApplicationContext;
  outbox: OutboxService<Record<string, Payload>>;
  runner: OutboxRunner;
  prisma: PrismaClient;
  close(): Promise<void>;
}

/** Boots the bench's Doctor Job app (migrating first when `migrate`); also used by bench/enqueue-overhead.ts. */
export async function boot(
  url: string,
  options: { autoStart: boolean; pollIntervalMs: number; batchSize: number; concurrency: number },
  migrate: boolean,
): Promise<DoctorJobApp> {
  // The app's client: Prisma 7 with @prisma/adapter-pg only. The producer (in the orchestrator)
  // migrates the database (Doctor Job's tables and the sample's) before any worker starts; a
  // worker whose handlers make no Prisma query never starts Prisma's query compiler (about 50 MB).
  const prisma = plainPrisma(url);
  if (migrate) await applyMigrations(prisma, 'postgresql', join(ROOT, 'prisma', 'postgresql', 'migrations'));
  const app = await NestFactory.createApplicationContext(
    {
      module: BenchAppModule,
      imports: [ScheduleModule.forRoot(), DoctorJobModule.forRoot({ prisma, ...options })],
      providers: [BenchJobs],
    },
    { logger: ['error', 'warn'] },
  );
  await app.init();
  return {
    app,
    prisma,
    outbox: app.get<OutboxService<Record<string, Payload>>>(OutboxService),
    runner: app.get(OutboxRunner),
    close: async () => {
      await app.close();
      await prisma.$disconnect();
    },
  };
}

/** `standalone`: the latency workload's producer sends (outbox.send) instead of enqueueing in a transaction. */
async function producerOf(url: string, dj: DoctorJobApp, ownsApp: boolean, standalone = false): Promise<Producer> {
  const obs = observerPool(url);
  await obs.sql(BUSINESS_TABLE_SQL);
  const { outbox } = dj;
  const sendOne = async (i: number) => void (await outbox.send(JOB_TYPE, { i }));
  return {
    enqueueOne: standalone
      ? sendOne
      : async (i) => {
          await outbox.transaction((tx) => outbox.enqueue(tx, JOB_TYPE, { i }));
        },
    sendOne,
    enqueueBulk: async (from, count) => {
      const jobs = Array.from({ length: count }, (_, k) => ({ type: JOB_TYPE, payload: { i: from + k } }));
      await outbox.transaction((tx) => outbox.enqueueMany(tx, jobs), { timeout: 60_000 });
    },
    businessTx: async (i, withJob) => {
      await outbox.transaction(async (tx) => {
        await tx.$executeRawUnsafe(BUSINESS_INSERT, customer(i), i % 10_000);
        if (withJob) await outbox.enqueue(tx, JOB_TYPE, { i });
      });
    },
    bareInsertTx: async (i) => {
      await outbox.transaction(async (tx) => {
        await tx.$executeRawUnsafe(BUSINESS_INSERT, customer(i), i % 10_000);
        await tx.$executeRawUnsafe(BARE_JOB_INSERT, JOB_TYPE, JSON.stringify({ i }), 5);
      });
    },
    anotherInstanceListens: async () => {
      const { Client } = require('pg') as typeof import('pg');
      const listener = new Client({ connectionString: url, application_name: 'doctor-job-listener' });
      await listener.connect();
      await listener.query('LISTEN "doctor_job"');
      return () => listener.end();
    },
    txEnqueueHow: 'outbox.enqueue(tx, ...) inside outbox.transaction (= prisma.$transaction)',
    remaining: async () => Number((await obs.sql<{ n: string }>('SELECT count(*) AS n FROM "doctor_job"'))[0].n),
    clear: async () => void (await obs.sql('TRUNCATE "doctor_job"')),
    sql: obs.sql,
    close: async () => {
      await obs.pool.end();
      if (ownsApp) await dj.close();
    },
  };
}

/** The orchestrator's producer: an app with the handler registered and `autoStart: false` (a producer-only instance). */
export async function makeProducer(url: string): Promise<Producer> {
  return producerOf(url, await boot(url, { ...doctorJobConfig.default, autoStart: false }, true), true);
}

export async function makeConsumer(url: string, variant: string, onJob: OnJob): Promise<Consumer> {
  sink = onJob;
  // 'standalone': the default configuration, its latency producer calling outbox.send.
  const config = variant === 'fastPoll' ? doctorJobConfig.fastPoll : doctorJobConfig.default;
  // autoStart false so that booting is not timed; start() is the runner's public start().
  const dj = await boot(url, { ...config, autoStart: false }, false);
  return {
    start: async () => dj.runner.start(),
    stop: () => dj.close(),
    // The runner stops (claims, heartbeat, LISTEN) and starts again as the same JobRunner, on the same pools.
    pause: () => dj.runner.stop(),
    producer: () => producerOf(url, dj, false, variant === 'standalone'),
  };
}
