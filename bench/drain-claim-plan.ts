/**
 * The claim statement on the database alone, in the forms the drain work compared: Doctor Job's
 * claim as the store sends it (the locked rows' ctids as an array, read by a TID scan; the batch
 * as one row of the ids and the jobs' JSON, or as rows below CLAIM_AS_JSON_FROM jobs), the same UPDATE with the ids as an array (looked up on the primary key, the form before), joined to its subquery (the form before that, which the planner
 * ran as a hash join over a sequential scan of the whole table), and the raw floor's claim. Each
 * round refills the table with BENCH_CLAIM_JOBS (20,000) due jobs, VACUUM ANALYZE, then runs 5
 * claims of BENCH_CLAIM_BATCH (1,000) per form in a transaction that is rolled back; prints the median ms per claim
 * (client round trip included) over BENCH_CLAIM_ROUNDS (11) rounds and one EXPLAIN ANALYZE each.
 *
 *   npx tsc -p bench/tsconfig.build.json && node .bench-build/bench/drain-claim-plan.js
 */
import { randomUUID } from 'node:crypto';
import { claim, claimRows } from '../lib/store/postgresql/postgresql.sql';
import { claimRowsById, claimRowsJoined } from './claim-forms';
import { createDatabase, doctorJobMigrationSql, dropDatabase, withClient } from './common';
import { RAW_CLAIM_SQL } from './systems/raw';

const JOBS = Number(process.env.BENCH_CLAIM_JOBS || 20_000);
const ROUNDS = Number(process.env.BENCH_CLAIM_ROUNDS || 11);
const BATCH = Number(process.env.BENCH_CLAIM_BATCH || 1_000);

const forms: Record<string, { text: string; params: () => unknown[] }> = {
  'claim (ctid array, JSON batch)': { text: claim, params: () => [BATCH, 60_000, randomUUID(), null] },
  'claim rows (ctid array)': { text: claimRows, params: () => [BATCH, 60_000, randomUUID(), null] },
  'claim rows (by id)': { text: claimRowsById, params: () => [BATCH, 60_000, randomUUID(), null] },
  'claim rows (joined)': { text: claimRowsJoined, params: () => [BATCH, 60_000, randomUUID(), null] },
  'raw floor claim': { text: RAW_CLAIM_SQL, params: () => [BATCH, randomUUID()] },
};

async function main(): Promise<void> {
  const db = await createDatabase('doctor-job');
  try {
    await withClient(db.url, async (c) => {
      await c.query(doctorJobMigrationSql());
      const times: Record<string, number[]> = Object.fromEntries(Object.keys(forms).map((k) => [k, []]));
      const fill = async () => {
        await c.query('TRUNCATE "doctor_job"');
        await c.query(`INSERT INTO "doctor_job" ("type", "payload", "max_attempts") SELECT 'noop', jsonb_build_object('i', g), 5 FROM generate_series(1, $1::int) AS g`, [JOBS]);
        await c.query('VACUUM ANALYZE "doctor_job"');
      };
      for (let round = 0; round < ROUNDS; round++) {
        await fill();
        for (const [name, { text, params }] of Object.entries(forms)) {
          await c.query('BEGIN');
          const t0 = performance.now();
          for (let k = 0; k < 5; k++) await c.query({ text, values: params(), rowMode: 'array' });
          times[name].push((performance.now() - t0) / 5);
          await c.query('ROLLBACK');
        }
      }
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
      for (const [name, xs] of Object.entries(times)) {
        console.log(`${name.padEnd(28)} median ${median(xs).toFixed(2)} ms per claim of ${BATCH} (${xs.map((x) => x.toFixed(1)).join(' ')})`);
      }
      await fill();
      for (const [name, { text, params }] of Object.entries(forms)) {
        await c.query('BEGIN');
        const plan = await c.query({ text: `EXPLAIN (ANALYZE, COSTS OFF) ${text}`, values: params() });
        await c.query('ROLLBACK');
        console.log(`\n${name}:\n${plan.rows.map((row) => `  ${row['QUERY PLAN']}`).join('\n')}`);
      }
    });
  } finally {
    await dropDatabase(db.name);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
