/** pg-boss 10: batch fetch (batchSize) with several work() pollers, one complete(ids) per batch. */
import PgBoss from 'pg-boss';
import { BUSINESS_TABLE_SQL, pgBossConfig } from '../common';
import { BUSINESS_INSERT, customer, observerPool, plainPrisma, type Consumer, type OnJob, type Payload, type Producer } from './types';

function newBoss(url: string, worker: boolean): PgBoss {
  const boss = new PgBoss({
    connectionString: url,
    max: pgBossConfig.max,
    schedule: false, // no cron in this benchmark
    supervise: worker, // maintenance runs in the workers, as in production
  });
  boss.on('error', (error) => process.stderr.write(`[pg-boss] ${error.message}\n`));
  return boss;
}

/** What node-postgres would send for a value (text), for pg-boss SQL run through Prisma, which rejects undefined. */
function toPgParam(value: unknown): unknown {
  if (value === undefined || value === null) return null;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

export async function makeProducer(url: string): Promise<Producer> {
  const boss = newBoss(url, false);
  await boss.start();
  await boss.createQueue(pgBossConfig.queue);
  const prisma = plainPrisma(url);
  const obs = observerPool(url);
  await obs.sql(BUSINESS_TABLE_SQL);
  const q = pgBossConfig.queue;
  return {
    enqueueOne: async (i) => void (await boss.send(q, { i })),
    sendOne: async (i) => void (await boss.send(q, { i })),
    enqueueBulk: async (from, count) => boss.insert(Array.from({ length: count }, (_, k) => ({ name: q, data: { i: from + k } }))),
    businessTx: async (i, withJob) => {
      await prisma.$transaction(async (tx) => {
        await tx.$executeRawUnsafe(BUSINESS_INSERT, customer(i), i % 10_000);
        if (withJob) {
          // pg-boss's documented `db` option: any object with executeSql(text, values) → { rows }.
          const db = { executeSql: async (text: string, values: unknown[] = []) => ({ rows: await tx.$queryRawUnsafe<any[]>(text, ...values.map(toPgParam)) }) };
          const id = await boss.send(q, { i }, { db });
          if (!id) throw new Error('pg-boss send through the Prisma transaction returned no id');
        }
      });
    },
    txEnqueueHow: 'boss.send(queue, data, { db: { executeSql: (text, values) => tx.$queryRawUnsafe(text, ...values) } })',
    remaining: async () =>
      Number((await obs.sql<{ n: string }>(`SELECT count(*) AS n FROM pgboss.job WHERE name = $1 AND state < 'completed'`, [q]))[0].n),
    clear: async () => {
      await obs.sql('DELETE FROM pgboss.job WHERE name = $1', [q]);
      await obs.sql('DELETE FROM pgboss.archive WHERE name = $1', [q]);
    },
    sql: obs.sql,
    close: async () => {
      await boss.stop({ graceful: false, wait: true });
      await prisma.$disconnect();
      await obs.pool.end();
    },
  };
}

export async function makeConsumer(url: string, _variant: string, onJob: OnJob): Promise<Consumer> {
  const boss = newBoss(url, true);
  await boss.start();
  return {
    start: async () => {
      for (let w = 0; w < pgBossConfig.workers; w++) {
        await boss.work<Payload>(
          pgBossConfig.queue,
          { batchSize: pgBossConfig.batchSize, pollingIntervalSeconds: pgBossConfig.pollingIntervalSeconds },
          async (jobs) => {
            for (const job of jobs) onJob(job.data);
          },
        );
      }
    },
    stop: async () => {
      await boss.stop({ graceful: true, wait: true, timeout: 10_000 });
    },
    producer: () => makeProducer(url),
  };
}
