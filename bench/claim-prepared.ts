/**
 * A claim of one job, the latency path's claim (a runner woken by NOTIFY for a job or two asks for
 * a whole batch): Doctor Job's claim statements as one-off (unnamed) statements, parsed and planned
 * on every call, against the same statements prepared (named), as the runner pool sends them. Each
 * round inserts one due job, times one claim of each form, then empties the table; prints the
 * median and 90th percentile over BENCH_CLAIM_ROUNDS (200) rounds, and the planning and execution
 * time of one EXPLAIN ANALYZE.
 *
 *   npx tsc -p bench/tsconfig.build.json && node .bench-build/bench/claim-prepared.js
 */
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { claim, claimRows } from '../lib/store/postgresql/postgresql.sql';
import { createDatabase, doctorJobMigrationSql, dropDatabase, positiveIntEnv } from './common';

const ROUNDS = positiveIntEnv('BENCH_CLAIM_ROUNDS', 200);

const forms: Record<string, { text: string; limit: number; name?: string }> = {
  'prepared, JSON, limit 1000': { text: claim, limit: 1000, name: 'bench_claim' },
  'prepared, rows, limit 1000': { text: claimRows, limit: 1000, name: 'bench_claim_rows' },
  'one-off, JSON, limit 1000': { text: claim, limit: 1000 },
  'one-off, rows, limit 1000': { text: claimRows, limit: 1000 },
  'one-off, rows, limit 1': { text: claimRows, limit: 1 },
};

async function main(): Promise<void> {
  const db = await createDatabase('doctor-job');
  const c = new Client({ connectionString: db.url });
  try {
    await c.connect();
    await c.query(doctorJobMigrationSql());
    const insert = () => c.query(`INSERT INTO "doctor_job" ("type", "payload", "max_attempts") VALUES ('noop', '{"i":1}', 5)`);
    const times: Record<string, number[]> = Object.fromEntries(Object.keys(forms).map((k) => [k, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const [key, { text, limit, name }] of Object.entries(forms)) {
        await insert();
        const t0 = performance.now();
        await c.query({ name, text, values: [limit, 60_000, randomUUID(), null], rowMode: 'array' });
        times[key].push(performance.now() - t0);
        await c.query('DELETE FROM "doctor_job"');
      }
    }
    await insert();
    const plan = await c.query(`EXPLAIN (ANALYZE) ${claimRows}`, [1000, 60_000, randomUUID(), null]);
    process.stdout.write(`claim of 1 due job, ${ROUNDS} rounds (ms, round trip included)\n`);
    for (const [key, t] of Object.entries(times)) {
      t.sort((a, b) => a - b);
      process.stdout.write(`  ${key.padEnd(28)} p50 ${t[Math.floor(t.length / 2)].toFixed(3)}  p90 ${t[Math.floor(t.length * 0.9)].toFixed(3)}\n`);
    }
    const lines = plan.rows.map((r: Record<string, string>) => r['QUERY PLAN']).filter((l: string) => /Planning|Execution/.test(l));
    process.stdout.write(`  EXPLAIN ANALYZE of the one-off rows claim: ${lines.join(', ')}\n`);
  } finally {
    await c.end().catch(() => {});
    await dropDatabase(db.name);
  }
}

main().catch((error) => {
  process.stderr.write(`${error?.stack ?? error}\n`);
  process.exit(1);
});
