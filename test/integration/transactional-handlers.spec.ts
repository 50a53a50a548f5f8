import { Injectable } from '@nestjs/common';
import { JobHandler, OutboxService, type JobEvent, JobEvents, type TransactionalJobContext, type TransactionClientLike } from 'doctor-job';
import { createTestDatabase, eachDialect, type TestDatabase } from '../support/databases';
import { newGate, type Gate } from '../support/gate';
import { startOutboxApp, type AnyJobs, type OutboxApp } from '../support/outbox-app';
import { waitFor } from '../support/wait';

type Tx = TransactionClientLike;

/** Positional parameters as the dialect writes them. */
const param = (dialect: string, n: number) => (dialect === 'postgresql' ? `$${n}` : '?');

@Injectable()
class Ledger {
  static dialect = 'postgresql';
  /** What the next run of `book` does after writing its row. */
  static plan: ('ok' | 'throw' | 'wait')[] = [];
  /** A 'wait' run opens `started` as it gets there, then waits for the test to open `gate`. */
  static gate?: Gate;
  static started?: Gate;
  runs = 0;

  constructor(private readonly outbox: OutboxService<AnyJobs>) {}

  @JobHandler('book', { transaction: true, maxAttempts: 3, backoff: { baseMs: 20, maxMs: 20, jitter: 0 } })
  async book(payload: { email: string; chain?: boolean }, job: TransactionalJobContext<Tx>) {
    this.runs++;
    const step = Ledger.plan.shift() ?? 'ok';
    if (step === 'wait') {
      Ledger.started?.open();
      await Ledger.gate?.promise;
    }
    const insert = Ledger.dialect === 'mysql' ? 'INSERT INTO `client` (`email`) VALUES (?)' : `INSERT INTO "client" ("email") VALUES (${param(Ledger.dialect, 1)})`;
    await job.tx.$executeRawUnsafe(insert, `${payload.email}#${job.attempt}`);
    if (payload.chain) await this.outbox.enqueue(job.tx, 'followUp', { email: payload.email });
    if (step === 'throw') throw new Error('failed after writing');
  }

  @JobHandler('followUp')
  followUp() {}
}

eachDialect('transactional handlers (transaction: true)', (dialect) => {
  let db: TestDatabase;
  let app: OutboxApp;
  let events: JobEvent[];

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
    Ledger.dialect = dialect;
  });
  afterAll(() => db?.dispose());
  beforeEach(async () => {
    for (const table of ['doctor_job', 'doctor_job_dead_letter', 'client']) await db.execute(`DELETE FROM "${table}"`);
    Ledger.plan = [];
    app = await startOutboxApp(db, [Ledger], { pollIntervalMs: 50 });
    events = [];
    app.module.get(JobEvents).on('*', (event) => events.push(event));
  });
  afterEach(() => app.close());

  const clients = async () => (await db.query<{ email: string }>('SELECT "email" FROM "client" ORDER BY "id"')).map((r) => r.email);
  const enqueue = (payload: { email: string; chain?: boolean }) => app.outbox.transaction((tx) => app.outbox.enqueue(tx, 'book', payload));

  it("commits the handler's writes with the job's deletion", async () => {
    const id = await enqueue({ email: 'ada@example.com' });
    // The job.succeeded event follows the commit that deleted the job: wait for both (a fresh-clone CI
    // run on MariaDB saw the row gone before the event).
    await waitFor('job done', async () => (await db.countJobs()) === 0 && events.some((e) => e.name === 'job.succeeded'));
    expect(await clients()).toEqual(['ada@example.com#1']);
    expect(events.filter((e) => e.name === 'job.succeeded').map((e) => e.id)).toEqual([id]);
  });

  it('a handler that throws rolls its writes back before the retry is recorded; the retry commits once', async () => {
    Ledger.plan = ['throw', 'throw', 'ok'];
    await enqueue({ email: 'grace@example.com' });
    await waitFor('job done', async () => (await db.countJobs()) === 0);
    expect(await clients()).toEqual(['grace@example.com#3']);
    expect(events.filter((e) => e.name === 'job.failed').map((e) => e.attempt)).toEqual([1, 2]);
  });

  it('a job enqueued through job.tx commits with the handler, and not when the handler fails', async () => {
    Ledger.plan = ['throw', 'ok'];
    await enqueue({ email: 'lin@example.com', chain: true });
    await waitFor('both done', async () => events.filter((e) => e.name === 'job.succeeded').length === 2);
    const succeeded = events.filter((e) => e.name === 'job.succeeded').map((e) => e.type);
    expect(succeeded.sort()).toEqual(['book', 'followUp']);
    // One follow-up: the one enqueued by the failed attempt was rolled back with it.
    expect(events.filter((e) => e.name === 'job.started' && e.type === 'followUp')).toHaveLength(1);
  });

  it('a worker whose claim was lost commits nothing, and the job stays with the worker that holds it', async () => {
    const gate = (Ledger.gate = newGate());
    const started = (Ledger.started = newGate());
    Ledger.plan = ['wait'];
    const id = await enqueue({ email: 'late@example.com' });
    await started.promise;
    // Another worker took the job (as after our lease ran out): its claim token replaces ours.
    const thief = '00000000-0000-4000-8000-000000000001';
    await db.execute(`UPDATE "doctor_job" SET "claim_token" = ${param(dialect, 1)} WHERE "id" = ${param(dialect, 2)}`, thief, dialect === 'postgresql' ? BigInt(id) : id);
    gate.open();
    await waitFor('the rollback warning', () => app.logs.of('warn').some((m) => m.includes(`Job ${id} (book): its transaction was rolled back`)));
    expect(await clients()).toEqual([]);
    const [row] = await db.query<{ claim_token: string }>('SELECT "claim_token" FROM "doctor_job"');
    expect(String(row.claim_token)).toBe(thief);
    expect(events.some((e) => e.name === 'job.succeeded' || e.name === 'job.failed')).toBe(false);
  });
});
