/**
 * What the parts of Doctor Job's claim cost the server: the claim statement as the store sends it
 * against variants without one part each, and the raw floor's, on a private cluster
 * (bench/db-cost.ts), 20,000 jobs claimed in batches of 1,000 and deleted batch by batch, each
 * variant in turn for BENCH_CLAIM_ROUNDS (3) rounds. Prints, per variant, the server's execution
 * time per 1,000 jobs claimed (pg_stat_statements) and the buffers and WAL bytes per job.
 *
 *   npm run build && npx tsc -p bench/tsconfig.build.json && node .bench-build/bench/db-cost-claim.js
 */
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { claim, claimRows } from '../lib/store/postgresql/postgresql.sql';
import { claimIdsInJson, claimRowsById } from './claim-forms';
import { doctorJobMigrationSql } from './common';
import { RAW_CLAIM_SQL } from './systems/raw';
import { costBetween, prepareCluster, snapshot, startPrivateCluster } from './db-cost';

const JOBS = 20_000;
const BATCH = 1_000;
const ROUNDS = Number(process.env.BENCH_CLAIM_ROUNDS || 3);

const RETURNING = /RETURNING[\s\S]*$/;
// The store sends `claim`: claimRows (the UPDATE ... RETURNING, a row per job) folded into two values (the ids, the jobs' JSON).
// The variants that take a part out start from claimRows, so that they compare with the raw floor's claim, which returns rows too.
const variants: Record<string, { sql: string; params: (token: string) => unknown[]; from?: string }> = {
  'doctor-job claim': { sql: claim, params: (token) => [BATCH, 60_000, token, null] },
  'the form before, the ids inside the JSON': { sql: claimIdsInJson, params: (token) => [BATCH, 60_000, token, null], from: claim },
  'its UPDATE alone (a row per job)': { sql: claimRows, params: (token) => [BATCH, 60_000, token, null], from: claim },
  'without the ordering-key test': {
    sql: claimRows.replace(/AND \(d\."ordering_key" IS NULL OR NOT EXISTS \([\s\S]*?\)\)/, ''),
    params: (token) => [BATCH, 60_000, token, null],
    from: claimRows,
  },
  'without the paused-types test': {
    sql: claimRows.replace(/AND \(\$4::jsonb IS NULL OR [\s\S]*?\)\)\s*\n/, '\n'),
    params: (token) => [BATCH, 60_000, token],
    from: claimRows,
  },
  'the UPDATE by id (a primary-key lookup per row)': {
    sql: claimRowsById,
    params: (token) => [BATCH, 60_000, token, null],
    from: claimRows,
  },
  'its batch by json_agg (the form before)': {
    sql: `WITH claimed AS (${claimRows.replace('j."payload"::text AS "payload"', 'j."payload"')})
       SELECT json_agg(json_build_array(c."id", c."type", c."payload", c."attempts", c."max_attempts", c."created_at", c."trace_context"))::text AS "jobs"
       FROM claimed AS c`,
    params: (token) => [BATCH, 60_000, token, null],
  },
  'raw floor claim': {
    sql: RAW_CLAIM_SQL,
    params: (token) => [BATCH, token],
  },
  'returning id and payload only': {
    sql: claimRows.replace(RETURNING, `RETURNING j."id"::text AS "id", j."payload"::text AS "payload"`),
    params: (token) => [BATCH, 60_000, token, null],
    from: claimRows,
  },
};

async function main(): Promise<void> {
  const cluster = await startPrivateCluster();
  const admin = new Client({ connectionString: cluster.url });
  try {
    await admin.connect();
    await prepareCluster(admin);
    await admin.query('CREATE DATABASE claim_cost');
    const url = cluster.url.replace(/\/postgres$/, '/claim_cost');
    const db = new Client({ connectionString: url });
    await db.connect();
    await db.query(doctorJobMigrationSql());
    for (const [name, v] of Object.entries(variants)) if (v.from !== undefined && v.sql === v.from) throw new Error(`variant "${name}" did not change the statement`);
    const results = new Map<string, { msPer1000: number[]; buffers: number[]; wal: number[] }>();
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, v] of Object.entries(variants)) {
        await db.query('TRUNCATE "doctor_job"');
        await db.query(`INSERT INTO "doctor_job" ("type", "payload", "max_attempts") SELECT 'noop', jsonb_build_object('i', g), 5 FROM generate_series(1, $1::int) g`, [JOBS]);
        await db.query('VACUUM ANALYZE "doctor_job"');
        const before = await snapshot(admin, 'claim_cost');
        let claimed = 0;
        for (;;) {
          const token = randomUUID();
          const { rows } = await db.query({ text: v.sql, values: v.params(token), rowMode: 'array' });
          // `claim` answers one row: the ids, comma-separated, and the jobs' JSON (NULLs when it claimed nothing);
          // the forms before it (also WITH claimed ...), one JSON array of [id, ...] per job; the others a row per job.
          const ids =
            v.sql === claim
              ? ((rows[0][0] as string | null)?.split(',') ?? [])
              : v.sql.startsWith('WITH claimed')
                ? (JSON.parse(rows[0][0] ?? '[]') as unknown[][]).map((job) => job[0])
                : rows.map((r) => r[0]);
          if (ids.length === 0) break;
          claimed += ids.length;
          await db.query(`DELETE FROM "doctor_job" WHERE "id" = ANY($1::bigint[])`, [ids]);
        }
        if (claimed !== JOBS) throw new Error(`${name}: claimed ${claimed} of ${JOBS}`);
        const cost = costBetween(before, await snapshot(admin, 'claim_cost'), JOBS, 10);
        const claimCost = cost.top.find((t) => t.query.includes('UPDATE "doctor_job"'))!;
        const r = results.get(name) ?? { msPer1000: [], buffers: [], wal: [] };
        r.msPer1000.push(Math.round(claimCost.msPerCall * 100) / 100);
        r.buffers.push(claimCost.buffersPerJob);
        r.wal.push(claimCost.walBytesPerJob);
        results.set(name, r);
      }
    }
    await db.end();
    process.stdout.write(`claim of ${BATCH} jobs from ${JOBS}, ${ROUNDS} rounds (server execution ms per claim; buffers and WAL bytes per job)\n`);
    for (const [name, r] of results) process.stdout.write(`  ${name.padEnd(32)} ${r.msPer1000.join(' / ').padEnd(24)} buffers ${r.buffers.join(' / ')}  WAL ${r.wal.join(' / ')}\n`);
  } finally {
    await admin.end().catch(() => {});
    cluster.stop();
  }
}

main().catch((error) => {
  process.stderr.write(`${error?.stack ?? error}\n`);
  process.exit(1);
});
