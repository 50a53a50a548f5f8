// A worker process for the reliability suite: a Nest application context with DoctorJobModule
// on DATABASE_URL, and handlers that record every run in the "runs" table. Configured by
// environment variables; prints "READY <pid>" once its runner has started.
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { PrismaPg } from '@prisma/adapter-pg';
import { DoctorJobModule, JobHandler, type JobContext, type PrismaClientLike, type TransactionalJobContext } from 'doctor-job';
import { PrismaClient } from '../../../generated/postgresql/client';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const WORKER = process.env.WORKER_NAME ?? `w${process.pid}`;
const [delayMin, delayMax] = (process.env.HANDLER_DELAY_MS ?? '0,0').split(',').map(Number);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const prisma = new PrismaClient({
  adapter: new PrismaPg({ connectionString: process.env.DATABASE_URL!, max: env('POOL_MAX', 10), application_name: `dj-${WORKER}` }),
});

async function recordStart(job: JobContext, n: number | null): Promise<void> {
  await prisma.$executeRawUnsafe(
    'INSERT INTO "runs" ("job_id", "n", "worker", "attempt") VALUES ($1::bigint, $2::int, $3, $4::int)',
    job.id,
    n,
    WORKER,
    job.attempt,
  );
}

@Injectable()
class ReliabilityHandlers {
  /** Records the run as it starts, then takes a random time. */
  @JobHandler('record', { maxAttempts: 20 })
  async record(payload: { n: number }, job: JobContext) {
    await recordStart(job, payload.n);
    const delay = delayMin + Math.random() * (delayMax - delayMin);
    if (delay > 0) await sleep(delay);
  }

  /** Always fails. */
  @JobHandler('fail', { maxAttempts: 3 })
  async fail(_payload: unknown, job: JobContext) {
    await recordStart(job, null);
    throw new Error(`fails on attempt ${job.attempt}`);
  }

  /** Kills its own process, the way a segfault or an OOM kill would. */
  @JobHandler('exit', { maxAttempts: 3 })
  async exit(_payload: unknown, job: JobContext) {
    await recordStart(job, null);
    process.exit(42);
  }

  /** Throws from a callback nobody awaits: an uncaught exception kills the process. */
  @JobHandler('uncaught', { maxAttempts: 3 })
  async uncaught(_payload: unknown, job: JobContext) {
    await recordStart(job, null);
    setTimeout(() => {
      throw new Error('uncaught in a callback');
    }, 1);
    await sleep(60_000);
  }

  /** Opens its own interactive transaction and holds it a while (pool pressure). */
  @JobHandler('transactional', { maxAttempts: 20 })
  async transactional(payload: { n: number }, job: JobContext) {
    await prisma.$transaction(
      async (tx) => {
        await tx.$executeRawUnsafe('INSERT INTO "runs" ("job_id", "n", "worker", "attempt") VALUES ($1::bigint, $2::int, $3, $4::int)', job.id, payload.n, WORKER, job.attempt);
        await sleep(delayMin + Math.random() * (delayMax - delayMin));
        await tx.$queryRawUnsafe('SELECT COUNT(*) FROM "runs"');
      },
      { maxWait: 60_000, timeout: 60_000 },
    );
  }

  /** A business write outside any transaction of the job's (at-least-once): a run that is repeated writes twice. */
  @JobHandler('business-plain', { maxAttempts: 20 })
  async businessPlain(payload: { n: number }, job: JobContext) {
    await prisma.$executeRawUnsafe('INSERT INTO "business" ("n", "job_id", "worker", "kind") VALUES ($1::int, $2::bigint, $3, \'plain\')', payload.n, job.id, WORKER);
    await sleep(delayMin + Math.random() * (delayMax - delayMin));
  }

  /** The same write through job.tx: it commits with the job's completion, or not at all. */
  @JobHandler('business-tx', { maxAttempts: 20, transaction: true })
  async businessTx(payload: { n: number }, job: TransactionalJobContext<typeof prisma>) {
    await job.tx.$executeRawUnsafe('INSERT INTO "business" ("n", "job_id", "worker", "kind") VALUES ($1::int, $2::bigint, $3, \'tx\')', payload.n, job.id, WORKER);
    await sleep(delayMin + Math.random() * (delayMax - delayMin));
  }

  /** Long-running (LONG_MS) and obedient: stops when its signal aborts. */
  @JobHandler('long', { maxAttempts: 20 })
  async long(payload: { n: number }, job: JobContext) {
    await recordStart(job, payload.n);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, env('LONG_MS', 20_000));
      job.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()));
    });
  }
}

@Module({
  imports: [
    ScheduleModule.forRoot(),
    DoctorJobModule.forRoot({
      prisma: prisma as unknown as PrismaClientLike,
      concurrency: env('CONCURRENCY', 10),
      batchSize: env('BATCH_SIZE', 20),
      leaseMs: env('LEASE_MS', 30_000),
      pollIntervalMs: env('POLL_MS', 200),
      shutdownTimeoutMs: env('SHUTDOWN_TIMEOUT_MS', 5_000),
      backoff: { baseMs: env('BACKOFF_MS', 100), maxMs: env('BACKOFF_MS', 100) * 4, jitter: 0.5 },
    }),
  ],
  providers: [ReliabilityHandlers],
})
class WorkerModule {}

async function main() {
  const app = await NestFactory.createApplicationContext(WorkerModule, { logger: ['log', 'warn', 'error'] });
  app.enableShutdownHooks();
  process.on('exit', () => void prisma.$disconnect());
  process.stdout.write(`READY ${process.pid}\n`);
}

void main();
