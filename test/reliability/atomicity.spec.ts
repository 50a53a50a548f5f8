import { Injectable } from '@nestjs/common';
import { Pool } from 'pg';
import { JobHandler, type TransactionClientLike } from 'doctor-job';
import { createTestDatabase, describePostgres, type TestDatabase } from '../support/databases';
import { startOutboxApp, type OutboxApp } from '../support/outbox-app';
import { figure } from './support/figures';

const TRANSACTIONS = Number(process.env.ATOMICITY_TRANSACTIONS ?? 1_000);
const PARALLEL = 8;

@Injectable()
class OrderJobs {
  @JobHandler('order.created')
  created() {}
}

type Outcome = 'commit' | 'throw' | 'constraint' | 'terminate';

describePostgres('1. atomicity: a job exists if and only if its transaction committed', () => {
  let db: TestDatabase;
  let app: OutboxApp;
  let admin: Pool;

  beforeAll(async () => {
    db = await createTestDatabase('postgresql');
    await db.execute('CREATE TABLE "orders" ("id" SERIAL PRIMARY KEY, "key" TEXT NOT NULL UNIQUE)');
    await db.execute(`INSERT INTO "orders" ("key") VALUES ('taken')`);
    app = await startOutboxApp(db, [OrderJobs], { autoStart: false });
    admin = new Pool({ connectionString: db.url, max: PARALLEL });
    // pg-pool's end() resolves before its clients' sockets have closed, and the database's
    // DROP ... WITH (FORCE) in dispose() then terminates them: without a listener, that FATAL
    // reached the pool as an unhandled 'error' and failed a fresh-clone CI run after every
    // assertion had passed.
    admin.on('error', () => undefined);
  });
  afterAll(async () => {
    await admin?.end();
    await app?.close();
    await db?.dispose();
  });

  it(`${TRANSACTIONS} transactions that enqueue, then commit or fail at random: 0 orphans, 0 missing`, async () => {
    const outcomes: Outcome[] = ['commit', 'commit', 'throw', 'constraint', 'terminate'];
    const planned = new Map<string, Outcome>();
    const committed = new Set<string>();
    const failedAsPlanned: Record<Outcome, number> = { commit: 0, throw: 0, constraint: 0, terminate: 0 };
    // A transaction planned to commit can still fail when the pool hands it a connection whose
    // backend was just terminated ("Server has closed the connection"); it then fails whole.
    const collateral: string[] = [];

    const one = async (i: number) => {
      const key = `order-${i}`;
      const outcome = outcomes[Math.floor(Math.random() * outcomes.length)];
      planned.set(key, outcome);
      try {
        await app.outbox.transaction(async (tx: TransactionClientLike) => {
          await tx.$executeRawUnsafe('INSERT INTO "orders" ("key") VALUES ($1)', key);
          await app.outbox.enqueue(tx, 'order.created', { key });
          if (outcome === 'throw') throw new Error('the callback fails after the enqueue');
          if (outcome === 'constraint') await tx.$executeRawUnsafe(`INSERT INTO "orders" ("key") VALUES ('taken')`);
          if (outcome === 'terminate') {
            const [{ pid }] = await tx.$queryRawUnsafe<{ pid: number }[]>('SELECT pg_backend_pid() AS pid');
            await admin.query('SELECT pg_terminate_backend($1)', [pid]);
          }
        });
        committed.add(key);
      } catch (error) {
        failedAsPlanned[outcome]++;
        if (outcome === 'commit') collateral.push((error as Error).message);
      }
    };
    for (let i = 0; i < TRANSACTIONS; i += PARALLEL) {
      await Promise.all(Array.from({ length: Math.min(PARALLEL, TRANSACTIONS - i) }, (_, k) => one(i + k)));
    }

    const orders = new Set((await db.query<{ key: string }>(`SELECT "key" FROM "orders" WHERE "key" <> 'taken'`)).map((r) => r.key));
    const jobs = (await db.query<{ payload: { key: string } }>('SELECT "payload" FROM "doctor_job"')).map((r) => r.payload.key);
    const jobKeys = new Set(jobs);
    const orphans = jobs.filter((key) => !orders.has(key)).length;
    const missing = [...orders].filter((key) => !jobKeys.has(key)).length;
    const count = (o: Outcome) => [...planned.values()].filter((v) => v === o).length;

    figure('atomicity', {
      transactions: TRANSACTIONS,
      committed: committed.size,
      thrown: failedAsPlanned.throw,
      constraintViolations: failedAsPlanned.constraint,
      terminatedBackends: failedAsPlanned.terminate,
      plannedCommitsFailedOnDeadConnection: collateral.length,
      orphanJobs: orphans,
      missingJobs: missing,
    });
    expect(orphans).toBe(0);
    expect(missing).toBe(0);
    expect(jobs).toHaveLength(jobKeys.size);
    expect(orders).toEqual(committed);
    // Every planned failure failed, every planned commit committed.
    expect([failedAsPlanned.throw, failedAsPlanned.constraint, failedAsPlanned.terminate]).toEqual([count('throw'), count('constraint'), count('terminate')]);
    expect(committed.size + collateral.length).toBe(count('commit'));
    expect(collateral.every((message) => /closed the connection|terminat|Connection/i.test(message))).toBe(true);
  });
});
