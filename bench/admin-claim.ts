/**
 * What the operator's console costs the PostgreSQL claim, the hot path. The claim statement is
 * unchanged: a running job's holder and claim time travel in its claim token (a UUIDv8 carrying
 * the instance key and the claim time, lib/store/claim-token.ts), and paused types reach the claim
 * as excluded types, read once per poll interval. What could still cost is the schema: the new
 * nullable column (replay_of) in every row. This drains the same queue with the shipped claim on
 * a database with every shipped migration and on one without the console's migration, alternating,
 * and, for the record, with the design this replaced: holder and claim-time columns the claim
 * stamps (`locked_by`, `claimed_at`). It also times the per-poll read of the paused types.
 *
 *   node -r @swc-node/register bench/admin-claim.ts        (BENCH_JOBS, BENCH_ROUNDS, BENCH_BATCH; TEST_DATABASE_URL)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { claimToken, newInstanceKey } from '../lib/store/claim-token';
import * as adminSql from '../lib/store/postgresql/postgresql.admin.sql';
import * as sql from '../lib/store/postgresql/postgresql.sql';

const JOBS = Number(process.env.BENCH_JOBS ?? 50_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const BATCH = Number(process.env.BENCH_BATCH ?? 1_000);
const admin = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
const CONSOLE_MIGRATION = '_doctor_job_admin';

/** The shipped migration files, oldest first (optionally without the console's). */
function migrations(withConsole: boolean): string[] {
  const dir = join(__dirname, '..', 'prisma', 'postgresql', 'migrations');
  return readdirSync(dir)
    .filter((name) => /^\d{14}_doctor_job/.test(name) && (withConsole || !name.endsWith(CONSOLE_MIGRATION)))
    .sort()
    .map((name) => readFileSync(join(dir, name, 'migration.sql'), 'utf8'));
}

async function database(root: Client, name: string, scripts: string[]): Promise<Client> {
  await root.query(`CREATE DATABASE "${name}"`);
  const url = new URL(admin);
  url.pathname = `/${name}`;
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  for (const script of scripts) await client.query(script);
  return client;
}

/** The design this replaced: the claim stamped the holder and the claim time into columns of their own. */
const stamping = sql.claim.replace(`"claim_token" = $3::uuid`, `"claim_token" = $3::uuid, "locked_by" = $5::text, "claimed_at" = now()`);

async function main(): Promise<void> {
  const stamp = Date.now();
  const root = new Client({ connectionString: admin });
  await root.connect();
  const names = ['with', 'without', 'stamping'].map((what) => `doctor_job_bench_claim_${what}_${stamp}`);
  const key = newInstanceKey();
  try {
    const withConsole = await database(root, names[0], migrations(true));
    const withoutConsole = await database(root, names[1], migrations(false));
    const stamped = await database(root, names[2], [...migrations(true), `ALTER TABLE "doctor_job" ADD COLUMN "locked_by" VARCHAR(255), ADD COLUMN "claimed_at" TIMESTAMPTZ(3)`]);
    const variants = [
      { label: 'shipped claim, every shipped migration', db: withConsole, text: sql.claim, params: () => [BATCH, 60_000, claimToken(key), null] },
      { label: 'shipped claim, without the console migration', db: withoutConsole, text: sql.claim, params: () => [BATCH, 60_000, claimToken(key), null] },
      { label: 'shipped claim, a type paused (excluded)', db: withConsole, text: sql.claim, params: () => [BATCH, 60_000, claimToken(key), '["paused-type"]'] },
      { label: 'replaced design: stamping locked_by, claimed_at', db: stamped, text: stamping, params: () => [BATCH, 60_000, claimToken(key), null, `bench:${process.pid}:${key}`] },
    ];
    const times = new Map<string, number[]>(variants.map((v) => [v.label, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const variant of round % 2 ? [...variants].reverse() : variants) {
        const { db } = variant;
        await db.query('TRUNCATE doctor_job');
        await db.query(`INSERT INTO doctor_job (type, payload, max_attempts) SELECT 'work', '{"n":1}', 5 FROM generate_series(1, $1)`, [JOBS]);
        await db.query('VACUUM ANALYZE doctor_job');
        let claimed = 0;
        const started = performance.now();
        for (;;) {
          const { rowCount } = await db.query({ text: variant.text, values: variant.params(), rowMode: 'array' });
          if (!rowCount) break;
          claimed += rowCount;
        }
        const ms = performance.now() - started;
        if (claimed !== JOBS) throw new Error(`${variant.label}: claimed ${claimed} of ${JOBS}`);
        times.get(variant.label)!.push((ms / JOBS) * BATCH);
      }
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    console.log(`PostgreSQL claim: ${JOBS} jobs drained in claims of ${BATCH}, ${ROUNDS} rounds (alternating); ms per claim of ${BATCH}, median (each round):`);
    for (const [label, values] of times) console.log(`  ${label.padEnd(50)} ${median(values).toFixed(2)}  (${values.map((v) => v.toFixed(1)).join(', ')})`);

    await withConsole.query(`INSERT INTO doctor_job_paused_type (type) VALUES ('paused-type')`);
    const reads = 2_000;
    const readStart = performance.now();
    for (let i = 0; i < reads; i++) await withConsole.query(adminSql.listPausedTypes);
    console.log(`  paused types read (listPausedTypes: once per poll interval per instance): ${((performance.now() - readStart) / reads).toFixed(3)} ms`);
    for (const db of [withConsole, withoutConsole, stamped]) await db.end();
  } finally {
    for (const name of names) await root.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await root.end();
  }
}

void main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
