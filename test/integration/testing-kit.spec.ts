import { Injectable, Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { Test, type TestingModule } from '@nestjs/testing';
import { IsString, MinLength } from 'class-validator';
import { DoctorJobModule, EnqueueError, JobHandler, OutboxRunner, OutboxService, type JobContext } from 'doctor-job';
import { JobTester, withoutRunner } from 'doctor-job/testing';
import { createTestDatabase, eachDialect, type TestDatabase } from '../support/databases';
import type { AnyJobs } from '../support/outbox-app';

class Greeting {
  @IsString()
  @MinLength(2)
  name!: string;
}

@Injectable()
class Handlers {
  greeted: string[] = [];
  flakyRuns = 0;

  @JobHandler('greet', { payload: Greeting })
  greet(payload: Greeting, job: JobContext) {
    this.greeted.push(`${payload instanceof Greeting ? 'dto' : 'plain'}:${payload.name}:${job.attempt}`);
    return `hello ${payload.name}`;
  }

  @JobHandler('flaky', { maxAttempts: 4 })
  flaky() {
    if (++this.flakyRuns < 3) throw new Error(`flaky run ${this.flakyRuns}`);
  }

  @JobHandler('poison', { maxAttempts: 2 })
  poison() {
    throw new Error('always');
  }
}

/** An app module as a user writes it: the runner would start on bootstrap. */
function appModule(db: TestDatabase) {
  @Module({ imports: [ScheduleModule.forRoot(), DoctorJobModule.forRoot({ prisma: db.prisma, pollIntervalMs: 50 })], providers: [Handlers] })
  class AppModule {}
  return AppModule;
}

eachDialect('doctor-job/testing', (dialect) => {
  let db: TestDatabase;
  let moduleRef: TestingModule;
  let jobs: JobTester;
  let outbox: OutboxService<AnyJobs>;
  let handlers: Handlers;

  beforeAll(async () => (db = await createTestDatabase(dialect)));
  afterAll(() => db?.dispose());
  beforeEach(async () => {
    await db.execute('DELETE FROM "doctor_job"');
    await db.execute('DELETE FROM "doctor_job_dead_letter"');
    moduleRef = await withoutRunner(Test.createTestingModule({ imports: [appModule(db)] })).compile();
    moduleRef.useLogger(false);
    await moduleRef.init();
    jobs = JobTester.from(moduleRef);
    outbox = moduleRef.get(OutboxService);
    handlers = moduleRef.get(Handlers);
  });
  afterEach(() => moduleRef.close());

  it('withoutRunner: the runner does not start and jobs stay queued; enqueued() lists committed jobs only', async () => {
    expect(moduleRef.get(OutboxRunner).isRunning).toBe(false);
    await outbox.transaction((tx) => outbox.enqueue(tx, 'greet', { name: 'Ada' }));
    await expect(outbox.transaction(async (tx) => {
      await outbox.enqueue(tx, 'greet', { name: 'Rolled back' });
      throw new Error('rollback');
    })).rejects.toThrow('rollback');
    await new Promise((resolve) => setTimeout(resolve, 200)); // four poll intervals of the app's runner, were it running
    expect(await jobs.enqueued('greet')).toEqual([expect.objectContaining({ type: 'greet', payload: { name: 'Ada' }, attempts: 0 })]);
    expect(await jobs.enqueued('flaky')).toEqual([]);
    expect(handlers.greeted).toEqual([]);
  });

  it('drain() runs every due job through the real handlers, DTOs and retries, and reports each', async () => {
    const [greet, flaky, poison, later] = await outbox.transaction((tx) =>
      outbox.enqueueMany(tx, [
        { type: 'greet', payload: { name: 'Grace' } },
        { type: 'flaky', payload: {} },
        { type: 'poison', payload: {} },
        { type: 'greet', payload: { name: 'Later' }, delayMs: 60_000 },
      ]),
    );
    // A payload that fails the DTO when it runs (written past enqueue's check, as an older app version might have).
    await db.execute(`INSERT INTO "doctor_job" ("type", "payload", "max_attempts") VALUES ('greet', '{"name":"x"}', 3)`);
    // Nothing of the drain's own left running: every interval it started (its runner's heartbeat,
    // every leaseMs / 3) is cleared when it resolves. (The database drivers keep timers of their own.)
    const started: unknown[] = [];
    const cleared = new Set<unknown>();
    const realSetInterval = global.setInterval;
    const realClearInterval = global.clearInterval;
    const setSpy = jest.spyOn(global, 'setInterval').mockImplementation(((fn: () => void, ms?: number) => {
      const handle = realSetInterval(fn, ms);
      started.push(handle);
      return handle;
    }) as typeof setInterval);
    const clearSpy = jest.spyOn(global, 'clearInterval').mockImplementation(((handle?: NodeJS.Timeout) => {
      cleared.add(handle);
      realClearInterval(handle);
    }) as typeof clearInterval);
    let report: Awaited<ReturnType<JobTester['drain']>>;
    try {
      report = await jobs.drain();
    } finally {
      setSpy.mockRestore();
      clearSpy.mockRestore();
    }
    expect(started.length).toBeGreaterThan(0);
    expect(started.filter((handle) => !cleared.has(handle))).toEqual([]);
    const byId = new Map(report.jobs.map((j) => [j.id, j]));
    expect(byId.get(greet)).toEqual({ id: greet, type: 'greet', outcome: 'succeeded', attempts: 1, errors: [] });
    expect(byId.get(flaky)).toEqual({ id: flaky, type: 'flaky', outcome: 'succeeded', attempts: 3, errors: ['flaky run 1', 'flaky run 2'] });
    expect(byId.get(poison)).toEqual({ id: poison, type: 'poison', outcome: 'dead-lettered', attempts: 2, errors: ['always', 'always'] });
    const invalid = report.jobs.find((j) => ![greet, flaky, poison].includes(j.id))!;
    expect(invalid).toMatchObject({ type: 'greet', outcome: 'dead-lettered', attempts: 0 });
    expect(invalid.errors[0]).toContain('The payload fails Greeting');
    expect(report.jobs).toHaveLength(4);
    expect(report.remaining.map((j) => j.id)).toEqual([later]);
    expect(handlers.greeted).toEqual(['dto:Grace:1']);
    expect(await db.countDeadLetters()).toBe(2);
  });

  it("drain({ retries: 'backoff' }) leaves a failed job waiting for its backoff", async () => {
    const [flaky] = await outbox.transaction((tx) => outbox.enqueueMany(tx, [{ type: 'flaky', payload: {} }]));
    const report = await jobs.drain({ retries: 'backoff' });
    expect(report.jobs).toEqual([{ id: flaky, type: 'flaky', outcome: 'retrying', attempts: 1, errors: ['flaky run 1'] }]);
    expect(report.remaining).toEqual([expect.objectContaining({ id: flaky, attempts: 1, lastError: 'flaky run 1' })]);
  });

  it('perform() runs one handler with the same checks as enqueue, without the queue', async () => {
    await expect(jobs.perform('greet', { name: 'Lin' })).resolves.toBe('hello Lin');
    expect(handlers.greeted).toEqual(['dto:Lin:1']);
    await expect(jobs.perform('greet', { name: 'x' })).rejects.toThrow(/perform\("greet"\): the payload fails Greeting:\n  - payload.name: name must be longer than or equal to 2 characters/);
    await expect(jobs.perform('greet', { name: 1n })).rejects.toThrow(EnqueueError);
    await expect(jobs.perform('nope', {})).rejects.toThrow(/Unknown job type "nope".*Registered types: "flaky", "greet", "poison"/);
    await expect(jobs.perform('poison', {})).rejects.toThrow('always');
    expect(await jobs.enqueued()).toEqual([]);
  });
});
