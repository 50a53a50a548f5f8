import { Injectable } from '@nestjs/common';
import { IsEmail, IsInt, Min } from 'class-validator';
import { EnqueueError, JobHandler, type JobContext, type TransactionClientLike } from 'doctor-job';
import { createTestDatabase, describePostgres, type TestDatabase } from '../support/databases';
import { startOutboxApp, type OutboxApp } from '../support/outbox-app';
import { waitFor } from '../support/wait';
import { figure } from './support/figures';

const SQL_TYPE = `x'); DROP TABLE "doctor_job"; --`;

class Signup {
  @IsEmail()
  email!: string;

  @IsInt()
  @Min(18)
  age!: number;
}

@Injectable()
class Handlers {
  received = new Map<string, unknown>();

  @JobHandler('signup', { payload: Signup })
  signup(payload: Signup, job: JobContext) {
    this.received.set(job.id, payload);
  }

  @JobHandler('blob')
  blob(payload: unknown, job: JobContext) {
    this.received.set(job.id, payload);
  }

  @JobHandler(SQL_TYPE)
  sqlish(payload: unknown, job: JobContext) {
    this.received.set(job.id, payload);
  }
}

describePostgres('9. bad input at the API', () => {
  let db: TestDatabase;
  let app: OutboxApp;

  beforeAll(async () => {
    db = await createTestDatabase('postgresql');
    app = await startOutboxApp(db, [Handlers], { autoStart: false });
  });
  afterAll(async () => {
    await app?.close();
    await db?.dispose();
  });

  const refused = (fn: (tx: TransactionClientLike) => Promise<unknown>) =>
    app.outbox.transaction(fn).then(
      () => null,
      (error: Error) => error,
    );

  it('refuses each kind of bad input with a clear error and writes nothing', async () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const cases: [string, (tx: TransactionClientLike) => Promise<unknown>, string][] = [
      ['invalid DTO', (tx) => app.outbox.enqueue(tx, 'signup', { email: 'nope', age: 12 }), 'payload.email: email must be an email'],
      ['missing DTO fields', (tx) => app.outbox.enqueue(tx, 'signup', {}), 'payload.age: age must not be less than 18'],
      ['unknown type', (tx) => app.outbox.enqueue(tx, 'signUp', {}), 'Unknown job type "signUp"'],
      ['SQL as a type name', (tx) => app.outbox.enqueue(tx, `'; DELETE FROM "doctor_job"; --`, {}), `Unknown job type "'; DELETE FROM \\"doctor_job\\"; --"`],
      ['BigInt', (tx) => app.outbox.enqueue(tx, 'blob', { id: 1n }), 'payload.id is a BigInt'],
      ['cycle', (tx) => app.outbox.enqueue(tx, 'blob', cyclic), 'payload.self refers back to one of its parents'],
      ['function', (tx) => app.outbox.enqueue(tx, 'blob', { run() {} }), 'payload.run is a function'],
      ['undefined', (tx) => app.outbox.enqueue(tx, 'blob', undefined), 'payload is undefined'],
      ['NUL character', (tx) => app.outbox.enqueue(tx, 'blob', { s: '\u0000' }), 'NUL character'],
      ['unknown option', (tx) => app.outbox.enqueue(tx, 'blob', {}, { delay: 1_000 } as never), '"delay" is not an enqueue option'],
    ];
    const messages: string[] = [];
    for (const [what, call, expected] of cases) {
      const error = await refused(call);
      expect({ what, error: error instanceof EnqueueError }).toEqual({ what, error: true });
      expect(error!.message).toContain(expected);
      messages.push(what);
    }
    const plain = await (app.outbox.enqueue as (...args: unknown[]) => Promise<string>).call(app.outbox, db.prisma, 'blob', {}).catch((e: Error) => e);
    expect(plain).toBeInstanceOf(EnqueueError);
    expect((plain as Error).message).toContain('was given the root Prisma client, not a transaction client');
    expect(await db.countJobs()).toBe(0);
    figure('bad input', { refusedCases: cases.length + 1, rowsWritten: await db.countJobs() });
  });

  it('carries 1 MB and 10 MB payloads intact, and a type name full of SQL as plain data', async () => {
    const handlers = app.module.get(Handlers);
    const big = (mb: number) => ({ text: 'x'.repeat(mb * 1024 * 1024), list: Array.from({ length: 1000 }, (_, i) => ({ i, s: `é${i}` })) });
    const payloads = { one: big(1), ten: big(10) };
    const timings: Record<string, number> = {};
    const ids: Record<string, string> = {};
    for (const [name, payload] of Object.entries(payloads)) {
      const started = Date.now();
      ids[name] = await app.outbox.transaction((tx) => app.outbox.enqueue(tx, 'blob', payload));
      timings[`enqueue_${name}_mb_ms`] = Date.now() - started;
    }
    ids.sql = await app.outbox.transaction((tx) => app.outbox.enqueue(tx, SQL_TYPE, { ok: true }));
    const started = Date.now();
    app.runner.start();
    await waitFor('all handled', async () => (await db.countJobs()) === 0, 60_000, 50);
    timings.handleAllMs = Date.now() - started;
    expect(handlers.received.get(ids.one)).toEqual(payloads.one);
    expect(handlers.received.get(ids.ten)).toEqual(payloads.ten);
    expect(handlers.received.get(ids.sql)).toEqual({ ok: true });
    expect(await db.countDeadLetters()).toBe(0);
    // The table the SQL-ish name mentions is still there, and empty.
    expect(await db.countJobs()).toBe(0);
    figure('large payloads', timings);
    await app.runner.stop();
  });
});
