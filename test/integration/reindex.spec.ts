import { Injectable } from '@nestjs/common';
import { JobHandler } from 'doctor-job';
import { Client } from 'pg';
import { PostgresqlJobStore } from '../../lib/store/postgresql/postgresql.store';
import type { ReindexSettings } from '../../lib/store/postgresql/postgresql.reindex';
import { neededIndexBytes } from '../../lib/store/postgresql/postgresql.reindex';
import { createTestDatabase, describePostgres, type TestDatabase } from '../support/databases';
import { startOutboxApp } from '../support/outbox-app';
import { waitFor } from '../support/wait';

const KiB = 1024;
/** The session-level advisory lock the rebuilds take (postgresql.reindex.ts). */
const REBUILD_LOCK_KEY = '4922450894806411352';

@Injectable()
class ReindexJobs {
  readonly ran: number[] = [];
  @JobHandler('reindex-work')
  work(payload: { n: number }) {
    this.ran.push(payload.n);
  }
}

describePostgres('PostgreSQL: the runner rebuilds bloated indexes of the job table', () => {
  let db: TestDatabase;
  const stores: PostgresqlJobStore[] = [];
  const clients: Client[] = [];

  const settings = (over: Partial<ReindexSettings> = {}): ReindexSettings => ({
    connection: { connectionString: db.url },
    minBytes: 256 * KiB,
    factor: 4,
    holderMaxMs: 60_000,
    intervalMs: 1,
    ...over,
  });
  const store = (over: Partial<ReindexSettings> = {}) => {
    const made = new PostgresqlJobStore(db.prisma, undefined, undefined, settings(over));
    stores.push(made);
    return made;
  };
  const client = async (connectionString = db.url) => {
    const made = new Client({ connectionString });
    await made.connect();
    clients.push(made);
    return made;
  };
  const indexSizes = async () =>
    Object.fromEntries(
      (await db.query<{ name: string; bytes: unknown }>(
        `SELECT indexrelname AS name, pg_relation_size(indexrelid) AS bytes FROM pg_stat_user_indexes WHERE relname = 'doctor_job'`,
      )).map((r) => [r.name, Number(r.bytes)]),
    );
  /** 60,000 jobs inserted and deleted (no vacuum runs on this server): the indexes keep their size, for 5 live rows. */
  const bloat = async () => {
    await db.execute(`INSERT INTO "doctor_job" ("type", "payload", "max_attempts", "run_at")
      SELECT 'reindex-bloat', '{}'::jsonb, 1, now() + interval '1 day' FROM generate_series(1, 60000)`);
    await db.execute(`DELETE FROM "doctor_job" WHERE "type" = 'reindex-bloat'`);
    // The rebuilds judge by the live rows in the statistics, which a backend reports within about a second.
    const live = async () => Number((await db.query<{ n: unknown }>(`SELECT n_live_tup AS n FROM pg_stat_user_tables WHERE relname = 'doctor_job'`))[0].n);
    await waitFor('the statistics to count the deleted rows', async () => (await live()) < 100, 10_000);
  };

  beforeAll(async () => {
    db = await createTestDatabase('postgresql');
  });
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
    await Promise.all(clients.splice(0).map((c) => c.end().catch(() => undefined)));
  });
  afterAll(async () => {
    await db?.dispose();
  });

  it('rebuilds each index over the thresholds to the size its rows need, and not again while it stays small', async () => {
    await db.execute(`INSERT INTO "doctor_job" ("type", "payload", "max_attempts") SELECT 'reindex-keep', '{}'::jsonb, 1 FROM generate_series(1, 5)`);
    await bloat();
    const before = await indexSizes();
    expect(Object.keys(before).sort()).toEqual(['doctor_job_dedup_key_key', 'doctor_job_ordering_key_id_idx', 'doctor_job_pkey', 'doctor_job_priority_run_at_id_idx']);
    for (const bytes of Object.values(before)) expect(bytes).toBeGreaterThan(256 * KiB); // the NULL keys are deduplicated: ~400 kB

    const rebuilds = store();
    const upkeep = await rebuilds.rebuildBloatedIndexes();
    const after = await indexSizes();
    console.log(`[reindex] ${upkeep.rebuilt.map((r) => `${r.index} ${r.bytesBefore} -> ${r.bytesAfter} B in ${r.ms} ms`).join('; ')}`);
    expect(upkeep.skipped).toBeUndefined();
    expect(upkeep.rebuilt.map((r) => r.index).sort()).toEqual(Object.keys(before).sort());
    for (const rebuilt of upkeep.rebuilt) {
      expect(rebuilt.error).toBeUndefined();
      expect(rebuilt.bytesBefore).toBe(before[rebuilt.index]);
      expect(rebuilt.bytesAfter).toBe(after[rebuilt.index]);
      expect(rebuilt.bytesAfter).toBeLessThanOrEqual(neededIndexBytes(5, 64));
    }
    // The jobs are all there, the indexes valid and used.
    expect(await db.countJobs()).toBe(5);
    expect(await db.query(`SELECT 1 FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid WHERE c.relname = 'doctor_job' AND NOT x.indisvalid`)).toEqual([]);
    expect(await rebuilds.rebuildBloatedIndexes()).toEqual({ rebuilt: [] });
  });

  it('leaves the indexes alone while a transaction holds the horizon, and while another instance holds the rebuild lock', async () => {
    await bloat();
    const before = await indexSizes();
    const holder = await client();
    await holder.query('BEGIN');
    await holder.query('SELECT txid_current()'); // wrote nothing, holds no snapshot once idle: only its xid holds the horizon
    const held = await store({ holderMaxMs: 1 }).rebuildBloatedIndexes();
    expect(held).toEqual({ rebuilt: [], skipped: expect.stringMatching(/^a transaction has been open for \d+ s: a rebuild now would keep what it holds$/) });
    await holder.query('COMMIT');

    const other = await client();
    expect((await other.query(`SELECT pg_try_advisory_lock(${REBUILD_LOCK_KEY}::bigint) AS locked`)).rows[0].locked).toBe(true);
    expect(await store().rebuildBloatedIndexes()).toEqual({ rebuilt: [], skipped: 'another instance is looking' });
    expect(await indexSizes()).toEqual(before);
    await other.query(`SELECT pg_advisory_unlock(${REBUILD_LOCK_KEY}::bigint)`);

    // Only the sizes over minBytes count, and an instance looks at most once per interval.
    const throttled = store({ minBytes: 1024 * 1024 * KiB, intervalMs: 3_600_000 });
    expect(await throttled.rebuildBloatedIndexes()).toEqual({ rebuilt: [] });
    expect(await throttled.rebuildBloatedIndexes()).toEqual({ rebuilt: [], skipped: 'looked less than the interval ago' });
    expect(await indexSizes()).toEqual(before);
  });

  it('drops the invalid copy that a rebuild whose connection died left behind, at its next look', async () => {
    await db.execute(`INSERT INTO "doctor_job" ("type", "payload", "max_attempts") VALUES ('reindex-dup', '{}', 1), ('reindex-dup', '{}', 1)`);
    // A unique build that fails leaves an invalid index, as a REINDEX CONCURRENTLY cut short does.
    await expect(db.execute(`CREATE UNIQUE INDEX CONCURRENTLY "doctor_job_pkey_ccnew" ON "doctor_job" ("type")`)).rejects.toThrow(/unique|duplicate/i);
    const invalid = () => db.query(`SELECT c.relname FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid WHERE NOT x.indisvalid`);
    expect(await invalid()).toEqual([{ relname: 'doctor_job_pkey_ccnew' }]);
    await store().rebuildBloatedIndexes();
    expect(await invalid()).toEqual([]);
    await db.execute(`DELETE FROM "doctor_job" WHERE "type" = 'reindex-dup'`);
  });

  it("doctor's horizon check names an idle transaction that holds only its xid (no snapshot)", async () => {
    const holder = await client();
    await holder.query('BEGIN');
    await holder.query('SELECT txid_current()');
    const pid = String((await holder.query('SELECT pg_backend_pid() AS pid')).rows[0].pid);
    await waitFor('the holder idle in its transaction', async () =>
      (await db.query(`SELECT 1 FROM pg_stat_activity WHERE pid = $1::int AND state = 'idle in transaction' AND backend_xmin IS NULL`, pid)).length === 1, 10_000);
    const diagnostics = await store().diagnose();
    expect(diagnostics.oldestHorizonHolder).toMatchObject({ kind: 'transaction', id: pid, state: 'idle in transaction', xminAge: expect.any(Number) });
    await holder.query('COMMIT');
  });

  it('turns itself off, saying why, when the connection may not rebuild (not the table owner)', async () => {
    await bloat();
    const role = `dj_reindex_${Math.random().toString(36).slice(2, 8)}`;
    await db.execute(`CREATE ROLE "${role}" LOGIN`);
    try {
      await db.execute(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO "${role}"`);
      const url = new URL(db.url);
      url.username = role;
      const denied = store({ connection: { connectionString: url.toString() } });
      const first = await denied.rebuildBloatedIndexes();
      expect(first.rebuilt).toHaveLength(1);
      expect(first.rebuilt[0].error).toMatch(/must be owner of (index|table)/);
      expect(await denied.rebuildBloatedIndexes()).toEqual({
        rebuilt: [],
        skipped: expect.stringMatching(/^index rebuilds are off: must be owner of .* \(REINDEX needs the owner of the table; pass reindex: false to not try\)$/),
      });
    } finally {
      await Promise.all(stores.splice(0).map((s) => s.close()));
      await db.execute(`REVOKE ALL ON ALL TABLES IN SCHEMA public FROM "${role}"`);
      await db.execute(`DROP ROLE "${role}"`);
    }
  });

  it('the runner looks by itself, logs each rebuild, and its jobs run on', async () => {
    await bloat();
    const app = await startOutboxApp(db, [ReindexJobs], { reindex: { minBytes: 256 * KiB, intervalMs: 200 } });
    try {
      await waitFor('the runner rebuilt the bloated indexes', () => app.logs.of('log').filter((m) => m.startsWith('Rebuilt the bloated index')).length === 4, 30_000);
      expect(app.logs.of('log').filter((m) => m.startsWith('Rebuilt the bloated index')).sort()[0]).toMatch(
        /^Rebuilt the bloated index doctor_job_dedup_key_key: \d+\.\d MB -> 0\.0 MB in \d+ ms \(REINDEX INDEX CONCURRENTLY\)\.$/,
      );
      const jobs = app.module.get(ReindexJobs);
      await app.outbox.send('reindex-work', { n: 1 });
      await waitFor('the job after the rebuilds', () => jobs.ran.includes(1), 10_000);
      expect(app.logs.of('warn')).toEqual([]);
    } finally {
      await app.close();
    }
  });
});
