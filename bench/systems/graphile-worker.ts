/** graphile-worker 0.17 with the configuration of its performance page (local queue, batched completion). */
import { Logger, makeWorkerUtils, run, runMigrations, type Runner } from 'graphile-worker';
import { BUSINESS_TABLE_SQL, graphileConfig } from '../common';
import { BUSINESS_INSERT, customer, observerPool, plainPrisma, type Consumer, type OnJob, type Payload, type Producer } from './types';

/** Quiet: errors only. */
const logger = new Logger(() => (level, message) => {
  if (level === 'error') process.stderr.write(`[graphile-worker] ${message}\n`);
});

export async function makeProducer(url: string): Promise<Producer> {
  await runMigrations({ connectionString: url, logger });
  const utils = await makeWorkerUtils({ connectionString: url, logger });
  const prisma = plainPrisma(url);
  const obs = observerPool(url);
  await obs.sql(BUSINESS_TABLE_SQL);
  return {
    enqueueOne: async (i) => void (await utils.addJob('noop', { i })),
    sendOne: async (i) => void (await utils.addJob('noop', { i })),
    enqueueBulk: async (from, count) =>
      void (await utils.addJobs(Array.from({ length: count }, (_, k) => ({ identifier: 'noop', payload: { i: from + k } })))),
    businessTx: async (i, withJob) => {
      await prisma.$transaction(async (tx) => {
        await tx.$executeRawUnsafe(BUSINESS_INSERT, customer(i), i % 10_000);
        if (withJob) await tx.$executeRawUnsafe(`SELECT graphile_worker.add_job('noop', $1::json)`, JSON.stringify({ i }));
      });
    },
    txEnqueueHow: "SELECT graphile_worker.add_job('noop', $1::json) through the Prisma tx",
    remaining: async () => Number((await obs.sql<{ n: string }>('SELECT count(*) AS n FROM graphile_worker._private_jobs'))[0].n),
    clear: async () => void (await obs.sql('DELETE FROM graphile_worker._private_jobs')),
    sql: obs.sql,
    close: async () => {
      await utils.release();
      await prisma.$disconnect();
      await obs.pool.end();
    },
  };
}

export async function makeConsumer(url: string, _variant: string, onJob: OnJob): Promise<Consumer> {
  let runner: Runner | undefined;
  return {
    start: async () => {
      runner = await run({
        noHandleSignals: true,
        taskList: { noop: async (payload) => onJob(payload as Payload) },
        preset: { worker: { connectionString: url, logger, ...graphileConfig } },
      });
    },
    stop: async () => {
      await runner?.stop();
    },
    producer: () => makeProducer(url),
  };
}
