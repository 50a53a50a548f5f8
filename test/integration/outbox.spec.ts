import { Injectable } from '@nestjs/common';
import { IsInt, Min } from 'class-validator';
import { EnqueueError, JobHandler, NonRetryableJobError, type JobContext, type TransactionClientLike } from 'doctor-job';
import { createTestDatabase, eachDialect, type TestDatabase } from '../support/databases';
import { startOutboxApp, type OutboxApp } from '../support/outbox-app';
import { sleep, waitFor } from '../support/wait';

class Count {
  @IsInt()
  @Min(0)
  n!: number;
}

interface Call {
  type: string;
  payload: unknown;
  context: JobContext;
}

/** Handlers whose behaviour each test sets, recording every call. */
@Injectable()
class Handlers {
  calls: Call[] = [];
  /** How many more times 'flaky' fails before it succeeds. */
  flakyFailures = 0;
  /** What 'slow' waits for (resolved by the test), and whether it honours its abort signal. */
  slowGate: Promise<void> = Promise.resolve();

  @JobHandler('count', { payload: Count })
  async count(payload: Count, context: JobContext) {
    this.calls.push({ type: 'count', payload, context });
  }

  @JobHandler('flaky', { maxAttempts: 4, backoff: { baseMs: 20, maxMs: 50, jitter: 0 } })
  async flaky(payload: unknown, context: JobContext) {
    this.calls.push({ type: 'flaky', payload, context });
    if (this.flakyFailures-- > 0) throw new Error(`flaky failure on attempt ${context.attempt}`);
  }

  @JobHandler('broken', { maxAttempts: 3, backoff: { baseMs: 10, maxMs: 10, jitter: 0 } })
  async broken(payload: unknown, context: JobContext) {
    this.calls.push({ type: 'broken', payload, context });
    throw new Error(`broken on attempt ${context.attempt}`);
  }

  @JobHandler('fatal', { maxAttempts: 5 })
  async fatal(payload: unknown, context: JobContext) {
    this.calls.push({ type: 'fatal', payload, context });
    throw new NonRetryableJobError('the order no longer exists');
  }

  @JobHandler('short')
  async short(payload: unknown, context: JobContext) {
    this.calls.push({ type: 'short', payload, context });
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  /** Synchronous, no DTO: the runner calls it in the same turn as it claims. */
  @JobHandler('quick')
  quick(payload: unknown, context: JobContext) {
    this.calls.push({ type: 'quick', payload, context });
  }

  @JobHandler('slow')
  async slow(payload: unknown, context: JobContext) {
    this.calls.push({ type: 'slow', payload, context });
    await this.slowGate;
  }

  of(type: string) {
    return this.calls.filter((call) => call.type === type);
  }
}

eachDialect('outbox', (dialect) => {
  let db: TestDatabase;
  let app: OutboxApp;
  let handlers: Handlers;

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
  });
  afterAll(() => db?.dispose());

  async function start(options = {}) {
    await db.execute('DELETE FROM "doctor_job"');
    await db.execute('DELETE FROM "doctor_job_dead_letter"');
    app = await startOutboxApp(db, [Handlers], options);
    handlers = app.module.get(Handlers);
  }
  afterEach(() => app?.close());

  const tx = <R>(fn: (tx: TransactionClientLike) => Promise<R>) => app.outbox.transaction(fn);

  describe('enqueue', () => {
    beforeEach(() => start({ autoStart: false }));

    it('writes the job with the transaction: commit makes it visible, with its payload', async () => {
      const id = await tx(async (t) => {
        const jobId = await app.outbox.enqueue(t, 'count', { n: 1 });
        // Not visible outside the transaction before commit.
        expect(await db.countJobs()).toBe(0);
        return jobId;
      });
      expect(id).toMatch(/^\d+$/);
      const [row] = await db.query<{ id: unknown; type: string; payload: unknown; attempts: unknown; max_attempts: unknown }>(
        'SELECT * FROM "doctor_job"',
      );
      expect(String(row.id)).toBe(id);
      expect(row.type).toBe('count');
      expect(typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload).toEqual({ n: 1 });
      expect(Number(row.attempts)).toBe(0);
      expect(Number(row.max_attempts)).toBe(5);
    });

    it('leaves nothing when the transaction rolls back, data and job alike', async () => {
      await expect(
        tx(async (t) => {
          await (t as unknown as TestDatabase['prisma']).client.create({ data: { email: 'rolled@example.com' } });
          await app.outbox.enqueue(t, 'count', { n: 1 });
          throw new Error('business rule failed after the enqueue');
        }),
      ).rejects.toThrow('business rule failed after the enqueue');
      expect(await db.countJobs()).toBe(0);
      expect(Number((await db.query<{ n: unknown }>('SELECT COUNT(*) AS n FROM "client"'))[0].n)).toBe(0);
    });

    it('enqueueMany writes every job in one statement and returns their ids in order', async () => {
      let statements = 0;
      const ids = await tx(async (t) => {
        const counting = new Proxy(t, {
          get(target, key, receiver) {
            const value = Reflect.get(target, key, receiver);
            if (key === '$queryRawUnsafe' || key === '$executeRawUnsafe') {
              return (...args: unknown[]) => {
                statements++;
                return (value as (...a: unknown[]) => unknown).apply(target, args);
              };
            }
            return value;
          },
        });
        return app.outbox.enqueueMany(counting, [
          ...Array.from({ length: 250 }, (_, n) => ({ type: 'count', payload: { n } })),
          { type: 'flaky', payload: { note: 'last' }, maxAttempts: 2, priority: 3 },
        ]);
      });
      expect(statements).toBe(1);
      expect(ids).toHaveLength(251);
      expect([...ids].sort((a, b) => Number(a) - Number(b))).toEqual(ids);
      const rows = await db.query<{ id: unknown; payload: unknown; max_attempts: unknown; priority: unknown }>(
        'SELECT "id", "payload", "max_attempts", "priority" FROM "doctor_job" ORDER BY "id"',
      );
      expect(rows.map((r) => String(r.id))).toEqual(ids);
      const payloads = rows.map((r) => (typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload));
      expect(payloads[0]).toEqual({ n: 0 });
      expect(payloads[249]).toEqual({ n: 249 });
      expect(Number(rows[250].max_attempts)).toBe(2);
      expect(rows.map((r) => Number(r.priority))).toEqual([...Array(250).fill(0), 3]);
    });

    it('checks the type, the DTO, the JSON and the client before writing, and writes nothing on failure', async () => {
      const attempt = (fn: (t: TransactionClientLike) => Promise<unknown>) => tx(fn).then(() => null, (e: Error) => e);

      const unknown = await attempt((t) => app.outbox.enqueue(t, 'sendInvoice', {}));
      expect(unknown).toBeInstanceOf(EnqueueError);
      expect(unknown?.message).toBe(
        'Unknown job type "sendInvoice": no @JobHandler is registered for it. Registered types: "broken", "count", "fatal", "flaky", "quick", "short", "slow".',
      );

      const invalid = await attempt((t) => app.outbox.enqueue(t, 'count', { n: -1 }));
      expect(invalid?.message).toContain('The payload of job "count" fails Count:\n  - payload.n: n must not be less than 0');

      const bigint = await attempt((t) => app.outbox.enqueue(t, 'flaky', { amount: 10n }));
      expect(bigint?.message).toContain('The payload of job "flaky" is not JSON:\n  - payload.amount is a BigInt');
      const cyclic: Record<string, unknown> = {};
      cyclic.me = cyclic;
      expect((await attempt((t) => app.outbox.enqueue(t, 'flaky', cyclic)))?.message).toContain('payload.me refers back to one of its parents');
      expect((await attempt((t) => app.outbox.enqueue(t, 'flaky', { f: () => 1 })))?.message).toContain('payload.f is a function');
      expect((await attempt((t) => app.outbox.enqueue(t, 'flaky', undefined)))?.message).toContain('payload is undefined');

      const options = await attempt((t) => app.outbox.enqueue(t, 'flaky', {}, { delayMs: -1, maxAttempts: 0 }));
      expect(options?.message).toContain('"delayMs" must be an integer of 0 or more, got -1');
      expect(options?.message).toContain('"maxAttempts" must be a positive integer, got 0');

      const typo = await attempt((t) => app.outbox.enqueue(t, 'flaky', {}, { delay: 60_000 } as never));
      expect(typo?.message).toContain('"delay" is not an enqueue option (known: runAt, delayMs, maxAttempts, priority, orderingKey, dedupKey)');
      const farFuture = await attempt((t) => app.outbox.enqueue(t, 'flaky', {}, { runAt: new Date('+010000-01-01T00:00:00Z') }));
      expect(farFuture?.message).toContain('"runAt" must be a valid Date between 1970 and 9999');
      const nul = await attempt((t) => app.outbox.enqueue(t, 'flaky', { name: 'a\u0000b' }));
      expect(nul?.message).toContain('payload.name contains a NUL character');

      const priority = await attempt((t) => app.outbox.enqueue(t, 'flaky', {}, { priority: 1.5 }));
      expect(priority?.message).toContain('"priority" must be an integer (higher runs first; default 0), got 1.5');

      const many = await attempt((t) => app.outbox.enqueueMany(t, [{ type: 'count', payload: { n: 1 } }, { type: 'count', payload: { n: 'x' } }]));
      expect(many?.message).toMatch(/^enqueueMany: job \[1\]: The payload of job "count" fails Count/);

      const noTx = await app.outbox.enqueue('count', { n: 1 }).catch((e: Error) => e);
      expect((noTx as Error).message).toContain(
        'enqueue("count") was called without a transaction client, and @nestjs-cls/transactional is not set up in this app',
      );

      const root = await (app.outbox.enqueue as (...args: unknown[]) => Promise<string>).call(app.outbox, db.prisma, 'count', { n: 1 }).catch((e: Error) => e);
      expect(root).toBeInstanceOf(EnqueueError);
      expect((root as Error).message).toContain('was given the root Prisma client, not a transaction client');

      expect(await db.countJobs()).toBe(0);
    });
  });

  describe('runner and open transactions', () => {
    it('never sees a job before its transaction commits, and nothing of one that rolls back', async () => {
      await start();
      await expect(
        tx(async (t) => {
          await app.outbox.enqueue(t, 'count', { n: 1 });
          await sleep(400); // eight polls while the transaction is open
          expect(handlers.of('count')).toHaveLength(0);
          throw new Error('rolled back after a while');
        }),
      ).rejects.toThrow('rolled back after a while');
      await sleep(200);
      expect(handlers.of('count')).toHaveLength(0);
      expect(await db.countJobs()).toBe(0);

      await tx(async (t) => {
        await app.outbox.enqueue(t, 'count', { n: 2 });
        await sleep(300);
        expect(handlers.of('count')).toHaveLength(0);
      });
      await waitFor('the committed job ran', () => handlers.of('count').length === 1);
      expect(handlers.of('count')[0].payload).toEqual({ n: 2 });
    });

    it("keeps a long handler's lease alive: it runs once even when it outlasts the lease many times", async () => {
      await start({ leaseMs: 300 });
      let release!: () => void;
      handlers.slowGate = new Promise((resolve) => (release = resolve));
      await tx((t) => app.outbox.enqueue(t, 'slow', {}));
      await waitFor('slow running', () => handlers.of('slow').length === 1);
      await sleep(1_500);
      expect(handlers.of('slow')).toHaveLength(1);
      expect(handlers.of('slow')[0].context.signal.aborted).toBe(false);
      release();
      await waitFor('slow settled', async () => (await db.countJobs()) === 0);
      expect(handlers.of('slow')).toHaveLength(1);
    });
  });

  describe('runner', () => {
    it('calls the handler with the DTO instance and the job context, then deletes the job', async () => {
      await start();
      const [id] = await tx((t) => app.outbox.enqueueMany(t, [{ type: 'count', payload: { n: 7 } }]));
      await waitFor('count handled', () => handlers.of('count').length === 1);
      const call = handlers.of('count')[0];
      expect(call.payload).toBeInstanceOf(Count);
      expect(call.payload).toEqual({ n: 7 });
      expect(call.context).toMatchObject({ id, type: 'count', attempt: 1, maxAttempts: 5 });
      expect(call.context.createdAt).toBeInstanceOf(Date);
      expect(call.context.signal).toBeInstanceOf(AbortSignal);
      await waitFor('job deleted', async () => (await db.countJobs()) === 0);
      expect(await db.countDeadLetters()).toBe(0);
    });

    it('retries a failure after a backoff, recording the error, until it succeeds', async () => {
      await start();
      handlers.flakyFailures = 2;
      await tx((t) => app.outbox.enqueue(t, 'flaky', { x: 1 }));
      await waitFor('second attempt failed', async () => {
        const rows = await db.query<{ last_error: string | null }>('SELECT "last_error" FROM "doctor_job"');
        return rows[0]?.last_error === 'flaky failure on attempt 2';
      });
      await waitFor('flaky done', async () => handlers.of('flaky').length === 3 && (await db.countJobs()) === 0);
      expect(handlers.of('flaky').map((c) => c.context.attempt)).toEqual([1, 2, 3]);
      expect(await db.countDeadLetters()).toBe(0);
    });

    it('dead-letters after the last allowed attempt, with everything needed to inspect it', async () => {
      await start();
      const id = await tx((t) => app.outbox.enqueue(t, 'broken', { order: 42 }));
      await waitFor('dead-lettered', async () => (await db.countDeadLetters()) === 1);
      expect(handlers.of('broken').map((c) => c.context.attempt)).toEqual([1, 2, 3]);
      expect(await db.countJobs()).toBe(0);
      const { items } = await app.deadLetters.list();
      expect(items).toHaveLength(1);
      expect(items[0]).toMatchObject({ jobId: id, type: 'broken', payload: { order: 42 }, attempts: 3, maxAttempts: 3, errorMessage: 'broken on attempt 3' });
      expect(items[0].errorStack).toContain('Error: broken on attempt 3');
      expect(items[0].createdAt).toBeInstanceOf(Date);
      expect(items[0].failedAt.getTime()).toBeGreaterThanOrEqual(items[0].createdAt.getTime());
    });

    it('dead-letters at once on NonRetryableJobError, a payload that fails its DTO, or a type without handler', async () => {
      await start();
      await tx((t) => app.outbox.enqueue(t, 'fatal', {}));
      // Rows written behind the library's back (an older app version, a manual insert).
      const now = dialect === 'postgresql' ? 'now()' : dialect === 'mysql' ? 'UTC_TIMESTAMP(3)' : `strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`;
      await db.execute(`INSERT INTO "doctor_job" ("type", "payload", "max_attempts", "run_at") VALUES ('count', '{"n":"seven"}', 5, ${now})`);
      await db.execute(`INSERT INTO "doctor_job" ("type", "payload", "max_attempts", "run_at") VALUES ('retired.type', '{}', 5, ${now})`);
      await waitFor('three dead letters', async () => (await db.countDeadLetters()) === 3);
      const byType = Object.fromEntries((await app.deadLetters.list()).items.map((d) => [d.type, d]));
      expect(byType.fatal).toMatchObject({ attempts: 1, errorMessage: 'the order no longer exists' });
      expect(byType.count).toMatchObject({ attempts: 1 });
      expect(byType.count.errorMessage).toMatch(/^The payload fails Count:\n(  - payload\.n: .*\n)*  - payload\.n: n must be an integer number/);
      expect(byType['retired.type'].errorMessage).toContain('No @JobHandler is registered for job type "retired.type"');
      expect(handlers.of('fatal')).toHaveLength(1);
      expect(handlers.of('count')).toHaveLength(0);
      expect(await db.countJobs()).toBe(0);
    });

    it('carries any JSON value as a payload, a bare string or number included', async () => {
      await start();
      await tx((t) => app.outbox.enqueueMany(t, [
        { type: 'flaky', payload: 'just a string' },
        { type: 'flaky', payload: 42 },
        { type: 'flaky', payload: [1, { a: null }] },
      ]));
      await waitFor('all three ran', () => handlers.of('flaky').length === 3);
      expect(handlers.of('flaky').map((c) => c.payload)).toEqual(['just a string', 42, [1, { a: null }]]);
    });

    it('honours delayMs and runAt on the database clock', async () => {
      await start();
      await tx((t) => app.outbox.enqueue(t, 'count', { n: 1 }, { delayMs: 1_500 }));
      await tx((t) => app.outbox.enqueue(t, 'count', { n: 2 }, { runAt: new Date(Date.now() + 3_600_000) }));
      await sleep(700);
      expect(handlers.of('count')).toHaveLength(0);
      await waitFor('delayed job ran', () => handlers.of('count').length === 1);
      expect(handlers.of('count')[0].payload).toEqual({ n: 1 });
      // Successes are deleted in batches just after their handlers return: wait for that delete.
      await waitFor('the delayed job deleted', async () => (await db.countJobs()) <= 1);
      expect(await db.countJobs()).toBe(1);
    });

    it('drains a backlog of many batches at once, without waiting for the poll interval', async () => {
      // Polling an hour apart and no notifications: only the claim loop's own "more is due" can
      // take the batches after the first.
      await start({ batchSize: 5, concurrency: 5, pollIntervalMs: 3_600_000, notify: false, autoStart: false });
      await tx((t) => app.outbox.enqueueMany(t, Array.from({ length: 60 }, (_, n) => ({ type: 'quick' as const, payload: { n } }))));
      app.runner.start();
      await waitFor('all 60 ran', () => handlers.of('quick').length === 60, 5_000);
      await waitFor('the queue is empty', async () => (await db.countJobs()) === 0, 5_000);
    });

    it('never runs more handlers at once than its concurrency', async () => {
      await start({ concurrency: 3, batchSize: 2 });
      let release!: () => void;
      handlers.slowGate = new Promise((resolve) => (release = resolve));
      await tx((t) => app.outbox.enqueueMany(t, Array.from({ length: 10 }, (_, n) => ({ type: 'slow', payload: { n } }))));
      await waitFor('three running', () => handlers.of('slow').length === 3);
      await sleep(300);
      expect(handlers.of('slow')).toHaveLength(3);
      expect(app.runner.inFlight).toBe(3);
      release();
      await waitFor('all ran', async () => handlers.of('slow').length === 10 && (await db.countJobs()) === 0);
    });
  });

  describe('dead letters', () => {
    beforeEach(async () => {
      await start();
      await tx((t) => app.outbox.enqueueMany(t, [1, 2, 3, 4, 5].map((n) => ({ type: 'fatal' as const, payload: { n } }))));
      await tx((t) => app.outbox.enqueue(t, 'broken', { n: 6 }, { maxAttempts: 1 }));
      await waitFor('six dead letters', async () => (await db.countDeadLetters()) === 6);
    });

    it('lists newest first, a page at a time, filtered by type', async () => {
      const first = await app.deadLetters.list({ limit: 4 });
      expect(first.items).toHaveLength(4);
      const second = await app.deadLetters.list({ limit: 4, cursor: first.nextCursor! });
      expect(second.items).toHaveLength(2);
      expect(second.nextCursor).toBeNull();
      const ids = [...first.items, ...second.items].map((d) => Number(d.id));
      expect(ids).toEqual([...ids].sort((a, b) => b - a));
      const fatal = await app.deadLetters.list({ type: 'fatal' });
      expect(fatal.items.map((d) => d.type)).toEqual(['fatal', 'fatal', 'fatal', 'fatal', 'fatal']);
      await expect(app.deadLetters.list({ limit: 0 })).rejects.toThrow('limit must be an integer from 1 to 500, got 0');
      await expect(app.deadLetters.list({ cursor: "1; DROP TABLE x" })).rejects.toThrow('cursor must be a dead-letter id');
      await expect(app.deadLetters.get('9223372036854775808')).rejects.toThrow('id must be a dead-letter id');
      expect(await app.deadLetters.get('9223372036854775807')).toBeNull();
    });

    it('replays one or many back into the queue with a fresh attempt count', async () => {
      handlers.calls = [];
      const broken = (await app.deadLetters.list({ type: 'broken' })).items[0];
      await app.runner.stop();
      const [jobId] = await app.deadLetters.replay(broken.id);
      expect(await app.deadLetters.get(broken.id)).toBeNull();
      const [row] = await db.query<{ id: unknown; attempts: unknown; max_attempts: unknown; payload: unknown }>(
        'SELECT "id", "attempts", "max_attempts", "payload" FROM "doctor_job"',
      );
      expect(String(row.id)).toBe(jobId);
      expect(Number(row.attempts)).toBe(0);
      expect(Number(row.max_attempts)).toBe(1);

      const fatalIds = (await app.deadLetters.list({ type: 'fatal' })).items.map((d) => d.id);
      const replayed = await app.deadLetters.replay(fatalIds);
      expect(replayed).toHaveLength(5);
      expect(await db.countDeadLetters()).toBe(0);
      expect(await db.countJobs()).toBe(6);
      app.runner.start();
      await waitFor('replayed jobs ran and failed again', async () => (await db.countDeadLetters()) === 6);
      expect(handlers.calls.map((c) => c.context.attempt)).toEqual([1, 1, 1, 1, 1, 1]);
    });

    it('deletes', async () => {
      const ids = (await app.deadLetters.list({ type: 'fatal' })).items.map((d) => d.id);
      expect(await app.deadLetters.delete(ids.slice(0, 2))).toBe(2);
      expect(await db.countDeadLetters()).toBe(4);
      await expect(app.deadLetters.replay('999999')).rejects.toThrow('No dead letter has the id 999999: it may have been replayed (its job is back in the queue, under a new id) or deleted already; nothing was changed.'); // it used to return [] silently
    });
  });

  describe('shutdown', () => {
    it('stops claiming, lets short handlers finish and releases long ones without consuming the attempt', async () => {
      await start({ shutdownTimeoutMs: 300, concurrency: 5 });
      let releaseSlow!: () => void;
      handlers.slowGate = new Promise((resolve) => (releaseSlow = resolve));
      await tx((t) => app.outbox.enqueueMany(t, [1, 2].map((n) => ({ type: 'slow', payload: { n } }))));
      await waitFor('both slow handlers running', () => handlers.of('slow').length === 2);
      // A short job (100 ms) that is running when the shutdown starts, and finishes within its timeout.
      await tx((t) => app.outbox.enqueue(t, 'short', {}));
      await waitFor('the short handler running', () => handlers.of('short').length === 1);
      const closing = app.close();
      const closed = Date.now();
      await closing;
      expect(Date.now() - closed).toBeGreaterThanOrEqual(250);
      expect(handlers.of('slow').every((c) => c.context.signal.aborted)).toBe(true);
      expect(handlers.of('short')[0].context.signal.aborted).toBe(false);
      expect(app.logs.of('log')).toContain('Runner stopped: 1 running handler(s) finished, 2 job(s) released.');
      const rows = await db.query<{ attempts: unknown; claim_token: unknown }>('SELECT "attempts", "claim_token" FROM "doctor_job"');
      expect(rows).toHaveLength(2);
      expect(rows.map((r) => [Number(r.attempts), r.claim_token])).toEqual([
        [0, null],
        [0, null],
      ]);
      releaseSlow();
      await sleep(100);
      // The late finish of a released job changes nothing.
      expect(await db.countJobs()).toBe(2);
      // Nothing is claimed after the shutdown.
      await db.execute(`UPDATE "doctor_job" SET "type" = 'count', "payload" = '{"n":1}'`);
      await sleep(300);
      expect(handlers.of('count')).toHaveLength(0);
      expect(await db.countJobs()).toBe(2);
    });

    it('waits for handlers that finish within the timeout and settles them', async () => {
      await start({ shutdownTimeoutMs: 5_000 });
      let releaseSlow!: () => void;
      handlers.slowGate = new Promise((resolve) => (releaseSlow = resolve));
      await tx((t) => app.outbox.enqueue(t, 'slow', {}));
      await waitFor('slow running', () => handlers.of('slow').length === 1);
      setTimeout(releaseSlow, 200);
      await app.close();
      expect(handlers.of('slow')[0].context.signal.aborted).toBe(false);
      expect(await db.countJobs()).toBe(0);
    });
  });
});
