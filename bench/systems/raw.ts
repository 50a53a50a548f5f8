/**
 * The raw floor: plain pg on a table of Doctor Job's shape (its own migration SQL). Claims a batch
 * with FOR UPDATE SKIP LOCKED (a lease in locked_until + a token, in the index order Doctor Job
 * claims in, without its ordering-key and per-type checks), runs the handlers, and settles the
 * whole batch with one DELETE.
 */
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { BUSINESS_TABLE_SQL, doctorJobMigrationSql, rawConfig, sleep } from '../common';
import { BUSINESS_INSERT, customer, observerPool, plainPrisma, type Consumer, type OnJob, type Payload, type Producer } from './types';

/** The raw floor's claim: one batch of due jobs under FOR UPDATE SKIP LOCKED, leased and returned (bench/db-cost-claim.ts measures it too). */
export const RAW_CLAIM_SQL = `UPDATE "doctor_job" AS j
         SET "locked_until" = now() + interval '60 seconds', "attempts" = j."attempts" + 1, "claim_token" = $2::uuid
         FROM (
           SELECT "id" FROM "doctor_job" WHERE "run_at" <= now() AND ("locked_until" IS NULL OR "locked_until" <= now())
           ORDER BY "priority" DESC, "run_at", "id" LIMIT $1::int
           FOR UPDATE SKIP LOCKED
         ) AS due
         WHERE j."id" = due."id"
         RETURNING j."id"::text AS "id", j."payload"`;
const INSERT = `INSERT INTO "doctor_job" ("type", "payload", "max_attempts") VALUES ($1, $2::jsonb, 5)`;

export async function makeProducer(url: string): Promise<Producer> {
  const obs = observerPool(url);
  const [{ n }] = await obs.sql<{ n: number }>(`SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'doctor_job'`);
  if (n === 0) await obs.sql(doctorJobMigrationSql());
  await obs.sql(BUSINESS_TABLE_SQL);
  const prisma = plainPrisma(url);
  return {
    enqueueOne: async (i) => void (await obs.pool.query(INSERT, ['noop', JSON.stringify({ i })])),
    sendOne: async (i) => void (await obs.pool.query(INSERT, ['noop', JSON.stringify({ i })])),
    enqueueBulk: async (from, count) => {
      const payloads = Array.from({ length: count }, (_, k) => ({ i: from + k }));
      await obs.pool.query(
        `INSERT INTO "doctor_job" ("type", "payload", "max_attempts")
         SELECT 'noop', p, 5 FROM jsonb_array_elements($1::jsonb) AS p`,
        [JSON.stringify(payloads)],
      );
    },
    businessTx: async (i, withJob) => {
      await prisma.$transaction(async (tx) => {
        await tx.$executeRawUnsafe(BUSINESS_INSERT, customer(i), i % 10_000);
        if (withJob) await tx.$executeRawUnsafe(INSERT, 'noop', JSON.stringify({ i }));
      });
    },
    txEnqueueHow: 'INSERT INTO doctor_job through the Prisma tx',
    remaining: async () => Number((await obs.sql<{ n: string }>('SELECT count(*) AS n FROM "doctor_job"'))[0].n),
    clear: async () => void (await obs.sql('TRUNCATE "doctor_job"')),
    sql: obs.sql,
    close: async () => {
      await prisma.$disconnect();
      await obs.pool.end();
    },
  };
}

export async function makeConsumer(url: string, _variant: string, onJob: OnJob): Promise<Consumer> {
  const pool = new Pool({ connectionString: url, max: rawConfig.loops + 1 });
  await (await pool.connect()).release();
  let active = false;
  const loops: Promise<void>[] = [];
  const loop = async () => {
    while (active) {
      const token = randomUUID();
      const { rows } = await pool.query<{ id: string; payload: Payload }>(
        RAW_CLAIM_SQL,
        [rawConfig.batchSize, token],
      );
      if (rows.length) {
        await Promise.all(rows.map(async (row) => onJob(row.payload)));
        await pool.query(`DELETE FROM "doctor_job" WHERE "id" = ANY($1::bigint[]) AND "claim_token" = $2::uuid`, [rows.map((r) => r.id), token]);
      }
      if (rows.length < rawConfig.batchSize && active) await sleep(rawConfig.pollIntervalMs);
    }
  };
  return {
    start: async () => {
      active = true;
      for (let k = 0; k < rawConfig.loops; k++) loops.push(loop());
    },
    stop: async () => {
      active = false;
      await Promise.all(loops);
      await pool.end();
    },
    pause: async () => {
      active = false;
      await Promise.all(loops.splice(0));
    },
    producer: () => makeProducer(url),
  };
}
