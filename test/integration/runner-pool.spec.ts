import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { Injectable } from '@nestjs/common';
import { JobEvents, JobHandler } from 'doctor-job';
import { createJobStore } from '../../lib/store/create-job-store';
import type { PostgresqlJobStore } from '../../lib/store/postgresql/postgresql.store';
import { createTestDatabase, describePostgres, type TestDatabase } from '../support/databases';
import { newGate } from '../support/gate';
import { startOutboxApp, type OutboxApp } from '../support/outbox-app';
import { waitFor } from '../support/wait';

@Injectable()
class Handled {
  readonly seen: number[] = [];
  @JobHandler('count')
  count(payload: { n: number }) {
    this.seen.push(payload.n);
  }
}

@Injectable()
class Gated {
  started = 0;
  readonly gate = newGate();
  /** Milliseconds the next handler to pass the gate blocks the event loop (no heartbeat can run meanwhile). */
  blockMs = 0;
  @JobHandler('gated')
  async run() {
    this.started++;
    await this.gate.promise;
    const until = Date.now() + this.blockMs;
    this.blockMs = 0;
    while (Date.now() < until);
  }
}

describePostgres('the runner pool (PostgreSQL)', () => {
  let db: TestDatabase;
  let app: OutboxApp | undefined;

  beforeAll(async () => {
    db = await createTestDatabase('postgresql');
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });
  afterAll(() => db?.dispose());

  /** Connections of this database opened under the runner pool's application_name. */
  const runnerConnections = async () =>
    Number(
      (await db.query<{ n: unknown }>(`SELECT count(*) AS n FROM pg_stat_activity WHERE "application_name" = 'doctor-job-runner' AND "datname" = current_database()`))[0].n,
    );

  const runJobs = async (count: number) => {
    const handled = app!.module.get(Handled);
    await app!.outbox.transaction((tx) =>
      app!.outbox.enqueueMany(
        tx,
        Array.from({ length: count }, (_, n) => ({ type: 'count', payload: { n } })),
      ),
    );
    await waitFor(`${count} jobs handled`, () => handled.seen.length === count);
    await waitFor('the queue is empty', async () => (await db.countJobs()) === 0);
    expect([...handled.seen].sort((a, b) => a - b)).toEqual(Array.from({ length: count }, (_, n) => n));
  };

  it('claims and settles through a pg pool of its own, read from the adapter, and closes it with the app', async () => {
    app = await startOutboxApp(db, [Handled], { batchSize: 50, concurrency: 50 });
    await runJobs(300);
    const open = await runnerConnections();
    expect(open).toBeGreaterThanOrEqual(1);
    expect(open).toBeLessThanOrEqual(2); // max 2 by default
    await app.close();
    app = undefined;
    await waitFor('the runner pool closed', async () => (await runnerConnections()) === 0);
  });

  describe('settling successes', () => {
    const succeededIds = () => {
      const ids: string[] = [];
      app!.module.get(JobEvents).on('job.succeeded', (e) => ids.push(e.id));
      return ids;
    };
    const startGated = async (count: number) => {
      const gated = app!.module.get(Gated);
      const ids = await app!.outbox.transaction((tx) => app!.outbox.enqueueMany(tx, Array.from({ length: count }, () => ({ type: 'gated', payload: {} }))));
      await waitFor(`${count} handlers started`, () => gated.started === count);
      return { gated, ids };
    };

    it('with young leases, one count-only delete: a job deleted meanwhile by someone else is reported, and every run counts as a success', async () => {
      app = await startOutboxApp(db, [Gated], { leaseMs: 60_000 });
      const succeeded = succeededIds();
      const { gated, ids } = await startGated(3);
      await db.execute('DELETE FROM "doctor_job" WHERE "id" = $1::bigint', ids[1]);
      gated.gate.open();
      await waitFor('the queue is empty', async () => (await db.countJobs()) === 0);
      await waitFor('three job.succeeded events', () => succeeded.length === 3);
      expect(succeeded.sort()).toEqual([...ids].sort());
      expect(app.logs.of('warn').filter((m) => /1 of \d+ jobs whose handlers succeeded were no longer in the queue/.test(m))).toHaveLength(1);
      expect(app.logs.of('warn').filter((m) => m.includes('claim no longer holds'))).toHaveLength(0);
    });

    it('with leases older than half their length (the event loop was blocked), the delete reports claim by claim', async () => {
      app = await startOutboxApp(db, [Gated], { leaseMs: 1_500 });
      const succeeded = succeededIds();
      const { gated, ids } = await startGated(2);
      // More than half the lease, and with the last heartbeat (every leaseMs / 3) still short of
      // the whole lease: no job is claimed again, but the leases are too old to trust.
      gated.blockMs = 800;
      await db.execute('DELETE FROM "doctor_job" WHERE "id" = $1::bigint', ids[0]);
      gated.gate.open();
      await waitFor('the queue is empty', async () => (await db.countJobs()) === 0);
      await waitFor('the warning', () => app!.logs.of('warn').some((m) => m.includes(`Job ${ids[0]} (gated): complete skipped, its claim no longer holds`)));
      expect(succeeded).toEqual([ids[1]]);
      expect(app.logs.of('warn').filter((m) => m.includes('were no longer in the queue'))).toHaveLength(0);
    });
  });

  it('claims on a table that leaves half of each page free (so claims and heartbeats are HOT updates)', async () => {
    const [row] = await db.query<{ reloptions: string[] | null }>(`SELECT "reloptions" FROM pg_class WHERE "relname" = 'doctor_job'`);
    expect(row.reloptions).toContain('fillfactor=50');
  });

  it('takes its size from runnerPool.max', async () => {
    app = await startOutboxApp(db, [Handled], { runnerPool: { max: 1 }, batchSize: 10, concurrency: 50 });
    await runJobs(200);
    expect(await runnerConnections()).toBe(1);
  });

  it('goes through the Prisma client with runnerPool: false', async () => {
    app = await startOutboxApp(db, [Handled], { runnerPool: false });
    await runJobs(50);
    expect(await runnerConnections()).toBe(0);
  });

  it('falls back to the Prisma client, and says so, when it cannot read the adapter\'s connection settings', async () => {
    // Prisma keeps the adapter in a private field; a client that hides it stands for an adapter
    // whose settings are not where Doctor Job looks.
    const hidden = new Proxy(db.prisma, {
      get: (target, key) => {
        if (key === '_engineConfig') return undefined;
        const value = Reflect.get(target, key, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    app = await startOutboxApp({ ...db, prisma: hidden }, [Handled], { notify: false });
    expect(app.logs.of('warn').join('\n')).toContain("runnerPool: the connection settings of the Prisma client's adapter could not be read");
    await runJobs(20);
    expect(await runnerConnections()).toBe(0);
  });

  describe('prepared statements', () => {
    const job = { type: 'count', payload: '{"n":1}', maxAttempts: 3, priority: 0 };
    /** A store whose pool has one connection, so that pg_prepared_statements (per session) shows what it prepared. */
    const storeWith = (preparedStatements?: boolean) =>
      createJobStore('postgresql', db.prisma, { notify: false, runnerPool: { connectionString: db.url, max: 1, ...(preparedStatements === undefined ? {} : { preparedStatements }) } }) as PostgresqlJobStore;
    const preparedNames = async (store: PostgresqlJobStore) =>
      (await store.inspect('SELECT "name" FROM pg_prepared_statements ORDER BY "name"', [])).map((row) => row.name);
    let store: PostgresqlJobStore | undefined;
    afterEach(async () => {
      await store?.close();
      store = undefined;
      await db.execute('DELETE FROM "doctor_job"');
    });

    it('are made once per connection for the claim, the settling delete and send, by default', async () => {
      // Another instance listens, so that every send notifies (alone, send's statement has no pg_notify: another shape).
      const other = new Client({ connectionString: db.url, application_name: 'doctor-job-listener' });
      await other.connect();
      try {
        store = storeWith();
        const id = await store.send(job);
        const token = randomUUID();
        const [claimed] = await store.claim({ limit: 10, leaseMs: 60_000, token });
        expect(claimed.id).toBe(id);
        expect(await store.completeUnderLease!([{ id, token }])).toBe(1);
        const names = await preparedNames(store);
        // send's statement shape: notify (bit 0) with the sender's token as payload (bit 7).
        expect(names).toEqual(expect.arrayContaining(['doctor_job_claim_rows', 'doctor_job_complete_under_lease', 'doctor_job_insert_129']));
        // A second round reuses them: the same names, once each.
        await store.send(job);
        await store.claim({ limit: 10, leaseMs: 60_000, token: randomUUID() });
        expect(await preparedNames(store)).toEqual(names);
      } finally {
        await other.end();
      }
    });

    it('are not made with runnerPool.preparedStatements: false', async () => {
      store = storeWith(false);
      const id = await store.send(job);
      expect((await store.claim({ limit: 10, leaseMs: 60_000, token: randomUUID() })).map((j) => j.id)).toEqual([id]);
      expect(await preparedNames(store)).toEqual([]);
    });

    it('survive a change of the table under them: a claim fails at most once, on that connection, and no job is lost', async () => {
      store = storeWith();
      await store.claim({ limit: 10, leaseMs: 60_000, token: randomUUID() }); // prepares the claim
      // A column the claim returns changes type (a migration while the runner runs).
      await db.execute('ALTER TABLE "doctor_job" ALTER COLUMN "attempts" TYPE bigint');
      try {
        const id = await store.send(job);
        const errors: unknown[] = [];
        let claimed: string[] = [];
        for (let i = 0; i < 3 && claimed.length === 0; i++) {
          try {
            claimed = (await store.claim({ limit: 10, leaseMs: 60_000, token: randomUUID() })).map((j) => j.id);
          } catch (error) {
            errors.push(error);
          }
        }
        expect(errors.length).toBeLessThanOrEqual(1);
        expect(claimed).toEqual([id]);
      } finally {
        await db.execute('ALTER TABLE "doctor_job" ALTER COLUMN "attempts" TYPE integer');
      }
    });
  });
});
