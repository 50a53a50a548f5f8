import { Injectable } from '@nestjs/common';
import { trace } from '@opentelemetry/api';
import { IsInt, Min } from 'class-validator';
import { Client } from 'pg';
import { EnqueueError, JobHandler, type JobContext } from 'doctor-job';
import { createTestDatabase, describePostgres, eachDialect, type TestDatabase } from '../support/databases';
import { newGate } from '../support/gate';
import { parentOf, TestTracing } from '../support/otel';
import { startOutboxApp, type OutboxApp } from '../support/outbox-app';
import { sleep, waitFor } from '../support/wait';

class Count {
  @IsInt()
  @Min(0)
  n!: number;
}

@Injectable()
class SendHandlers {
  static runs: { type: string; payload: unknown; id: string; isCount: boolean }[] = [];

  @JobHandler('count', { payload: Count })
  count(payload: Count, job: JobContext) {
    SendHandlers.runs.push({ type: 'count', payload, id: job.id, isCount: payload instanceof Count });
  }

  @JobHandler('keyed')
  keyed(payload: { label: string }, job: JobContext) {
    SendHandlers.runs.push({ type: 'keyed', payload, id: job.id, isCount: false });
  }
}

/** A payload nested `depth` arrays deep. */
const nested = (depth: number): unknown => (depth === 0 ? 0 : [nested(depth - 1)]);

eachDialect('outbox.send (standalone enqueue)', (dialect) => {
  let db: TestDatabase;
  let app: OutboxApp;
  const ran = (type: string) => SendHandlers.runs.filter((run) => run.type === type);

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
    app = await startOutboxApp(db, [SendHandlers], { pollIntervalMs: 20 });
  });
  afterAll(async () => {
    await app?.close();
    await db?.dispose();
  });
  beforeEach(async () => {
    SendHandlers.runs = [];
    await db.execute('DELETE FROM "doctor_job"');
  });

  it('writes the job outside any transaction and returns its id; the handler runs it with its DTO', async () => {
    const id = await app.outbox.send('count', { n: 7 });
    expect(id).toMatch(/^\d+$/);
    await waitFor('the sent job ran', () => ran('count').length === 1);
    expect(ran('count')).toEqual([{ type: 'count', payload: { n: 7 }, id, isCount: true }]);
    await waitFor('the queue is empty', async () => (await db.countJobs()) === 0);
  });

  it('the job exists once send resolves (options kept: a delayed job waits in the queue)', async () => {
    const id = await app.outbox.send('count', { n: 1 }, { delayMs: 600_000, maxAttempts: 2, priority: 3 });
    const [job] = await app.outbox.pending({ type: 'count' });
    expect(job).toMatchObject({ id, type: 'count', payload: { n: 1 }, maxAttempts: 2, claimed: false });
    expect(job.runAt.getTime()).toBeGreaterThan(job.createdAt.getTime() + 500_000);
    expect(ran('count')).toEqual([]);
  });

  it('a dedup key held by a queued job writes nothing and returns that job’s id, also for sends at once', async () => {
    const first = await app.outbox.send('count', { n: 1 }, { dedupKey: 'once', delayMs: 600_000 });
    expect(await app.outbox.send('count', { n: 2 }, { dedupKey: 'once' })).toBe(first);
    const together = await Promise.all(Array.from({ length: 6 }, (_, k) => app.outbox.send('count', { n: k }, { dedupKey: 'together', delayMs: 600_000 })));
    expect(new Set(together).size).toBe(1);
    expect((await app.outbox.pending({ type: 'count' })).map((job) => job.id).sort()).toEqual([first, together[0]].sort());
    // A transactional enqueue sees the key a send took, and the other way round.
    expect(await app.outbox.transaction((tx) => app.outbox.enqueue(tx, 'count', { n: 3 }, { dedupKey: 'once' }))).toBe(first);
    const viaTx = await app.outbox.transaction((tx) => app.outbox.enqueue(tx, 'count', { n: 4 }, { dedupKey: 'tx-first', delayMs: 600_000 }));
    expect(await app.outbox.send('count', { n: 5 }, { dedupKey: 'tx-first' })).toBe(viaTx);
    expect(await db.countJobs()).toBe(3);
  });

  it('jobs sent with one ordering key run one at a time, in send order', async () => {
    const ids: string[] = [];
    for (let k = 0; k < 8; k++) ids.push(await app.outbox.send('keyed', { label: `s${k}` }, { orderingKey: 'sequence' }));
    await waitFor('all ran', () => ran('keyed').length === 8);
    expect(ran('keyed').map((run) => run.id)).toEqual(ids);
  });

  it('a send of a key that an open transaction has enqueued waits for it: the transaction’s job runs first (3 rounds)', async () => {
    for (let round = 0; round < 3; round++) {
      const key = `held-${round}`;
      const enqueued = newGate();
      const commit = newGate();
      const order: string[] = [];
      const t1 = app.outbox
        .transaction(async (tx) => {
          await app.outbox.enqueue(tx, 'keyed', { label: `tx-${round}` }, { orderingKey: key });
          enqueued.open();
          await commit.promise;
        })
        .then(() => order.push('tx'));
      await enqueued.promise;
      const sent = app.outbox.send('keyed', { label: `send-${round}` }, { orderingKey: key }).then((id) => (order.push('send'), id));
      await sleep(150); // several poll intervals: the sent job would run now if it were written
      expect(order).toEqual([]);
      expect(ran('keyed')).toEqual([]);
      commit.open();
      await Promise.all([t1, sent]);
      await waitFor('both ran', () => ran('keyed').length === 2);
      expect(ran('keyed').map((run) => (run.payload as { label: string }).label)).toEqual([`tx-${round}`, `send-${round}`]);
      SendHandlers.runs = [];
    }
  });

  it('bad input is an EnqueueError that names the problem, and writes nothing', async () => {
    const cases: [string, () => Promise<string>, string][] = [
      ['unknown type', () => app.outbox.send('nope', { n: 1 }), 'nope'],
      ['DTO', () => app.outbox.send('count', { n: -1 }), 'fails Count'],
      ['not JSON', () => app.outbox.send('count', { n: 1n } as never), 'not JSON'],
      ['too deep', () => app.outbox.send('keyed', nested(1_001) as never), 'not JSON'],
      ['options not an object', () => app.outbox.send('count', { n: 1 }, 'soon' as never), 'The options of send("count") must be an object'],
      ['unknown option', () => app.outbox.send('count', { n: 1 }, { outsideTransaction: true } as never), '"outsideTransaction" is not an enqueue option'],
      ['bad runAt', () => app.outbox.send('count', { n: 1 }, { runAt: new Date(Number.NaN) }), '"runAt" must be a valid Date'],
      ['bad dedup key', () => app.outbox.send('count', { n: 1 }, { dedupKey: '' }), '"dedupKey" must be a non-empty string'],
    ];
    for (const [what, call, message] of cases) {
      const error = await call().catch((e: unknown) => e);
      expect([what, error]).toEqual([what, expect.any(EnqueueError)]);
      expect([what, (error as Error).message]).toEqual([what, expect.stringContaining(message)]);
    }
    expect(await db.countJobs()).toBe(0);
  });

  it('enqueue(tx, …) still refuses the root client (pointing to send) and what is no client', async () => {
    const enqueue = app.outbox.enqueue.bind(app.outbox) as (...args: unknown[]) => Promise<string>;
    const error = await enqueue(db.prisma, 'count', { n: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EnqueueError);
    expect((error as Error).message).toContain('was given the root Prisma client, not a transaction client');
    expect((error as Error).message).toContain('outbox.send("count", payload)');
    for (const notAClient of [null, 42, {}]) {
      const refused = await enqueue(notAClient, 'count', { n: 1 }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(EnqueueError);
      expect((refused as Error).message).toContain('needs the Prisma transaction client as its first argument');
    }
    expect(await db.countJobs()).toBe(0);
  });
});

eachDialect('outbox.send tracing', (dialect) => {
  const tracing = new TestTracing();
  let db: TestDatabase;
  let app: OutboxApp;

  beforeAll(async () => {
    tracing.install();
    db = await createTestDatabase(dialect);
    app = await startOutboxApp(db, [SendHandlers], { pollIntervalMs: 20 });
  });
  afterAll(async () => {
    await app?.close();
    await db?.dispose();
    tracing.uninstall();
  });

  it('send is a send span in the active span, stored with the job; the first attempt’s process span is its child', async () => {
    SendHandlers.runs = [];
    const { id, request } = await trace.getTracer('test').startActiveSpan('request', async (span) => {
      try {
        return { id: await app.outbox.send('count', { n: 2 }), request: span.spanContext() };
      } finally {
        span.end();
      }
    });
    await waitFor('the process span', () => tracing.processSpans(id).length === 1);
    const [send] = tracing.spans('send count');
    expect(send.spanContext().traceId).toBe(request.traceId);
    expect(parentOf(send)).toBe(request.spanId);
    expect(send.attributes['messaging.message.id']).toBe(id);
    expect(parentOf(tracing.processSpans(id)[0])).toBe(send.spanContext().spanId);
  });
});

/**
 * PostgreSQL: send is one autocommit statement on the runner's pg pool. Statements are counted at
 * the driver (a spy that calls through to pg's Client.prototype.query: every pg connection of the
 * process, Prisma's adapter included, sends through it), with the runner off so nothing else runs;
 * a trigger records the session's application_name of each insert; a LISTEN connection (as another instance's) counts the wake-ups.
 */
describePostgres('outbox.send on PostgreSQL: one autocommit statement', () => {
  let db: TestDatabase;
  let listener: Client;
  let notifications = 0;

  beforeAll(async () => {
    db = await createTestDatabase('postgresql');
    await db.execute('CREATE TABLE "send_probe" ("job_id" bigint, "app" text)');
    await db.execute(`CREATE FUNCTION "send_probe"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
      INSERT INTO "send_probe" VALUES (NEW."id", current_setting('application_name')); RETURN NEW; END $$`);
    await db.execute('CREATE TRIGGER "send_probe" AFTER INSERT ON "doctor_job" FOR EACH ROW EXECUTE FUNCTION "send_probe"()');
    // Named as Doctor Job names its listeners: another instance, which the sends must wake (alone, an instance sends no NOTIFY).
    listener = new Client({ connectionString: db.url, application_name: 'doctor-job-listener' });
    await listener.connect();
    listener.on('notification', () => notifications++);
    await listener.query('LISTEN "doctor_job"');
  });
  afterAll(async () => {
    await listener?.end();
    await db?.dispose();
  });

  for (const runnerPool of [true, false]) {
    it(`runnerPool ${runnerPool}: each send is one statement${runnerPool ? ' on the runner pool' : ' through Prisma'} (plain, ordering key, dedup key) and wakes the listeners; an enqueue in a transaction is more`, async () => {
      const app = await startOutboxApp(db, [SendHandlers], { autoStart: false, runnerPool });
      await app.outbox.send('count', { n: 0 }); // opens the pool's connection (a connect is not a statement, but is not counted either)
      await app.outbox.transaction((tx) => app.outbox.enqueue(tx, 'count', { n: 0 }));
      await db.execute('DELETE FROM "send_probe"');
      const spy = jest.spyOn(Client.prototype, 'query');
      try {
        // Not counted: the look for other instances' listeners (other-listeners.ts), at most once a second, beside the sends.
        const statements = () => spy.mock.calls.filter(([query]) => !/pg_stat_activity/.test(typeof query === 'string' ? query : (query as { text: string }).text)).length;
        const counted = async (call: () => Promise<string>) => {
          const before = statements();
          const id = await call();
          return { id, statements: statements() - before };
        };
        notifications = 0;
        const sends = [
          await counted(() => app.outbox.send('count', { n: 1 })),
          await counted(() => app.outbox.send('keyed', { label: 'k' }, { orderingKey: 'k' })),
          await counted(() => app.outbox.send('count', { n: 2 }, { dedupKey: `d-${runnerPool}` })),
        ];
        expect(sends.map((send) => send.statements)).toEqual([1, 1, 1]);
        await waitFor('three wake-ups', () => notifications >= 3);
        const inTx = await counted(() => app.outbox.transaction((tx) => app.outbox.enqueue(tx, 'count', { n: 3 })));
        expect(inTx.statements).toBeGreaterThanOrEqual(3); // BEGIN, INSERT, COMMIT (and the NOTIFY after it)
        const rows = await db.query<{ job_id: string; app: string }>('SELECT "job_id"::text AS "job_id", "app" FROM "send_probe" ORDER BY "send_probe"."job_id"');
        expect(rows.map((row) => row.job_id)).toEqual([...sends.map((send) => send.id), inTx.id]);
        if (runnerPool) expect(rows.slice(0, 3).map((row) => row.app)).toEqual(['doctor-job-runner', 'doctor-job-runner', 'doctor-job-runner']);
      } finally {
        spy.mockRestore();
        await app.close();
        await db.execute('DELETE FROM "doctor_job"');
      }
    });
  }
});
