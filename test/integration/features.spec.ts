import { Injectable } from '@nestjs/common';
import { JobEvents, JobHandler, JobTimeoutError, type JobContext, type JobEvent } from 'doctor-job';
import { createTestDatabase, eachDialect, type TestDatabase } from '../support/databases';
import { startOutboxApp, type OutboxApp } from '../support/outbox-app';
import { sleep, waitFor } from '../support/wait';

@Injectable()
class FeatureJobs {
  signals: AbortSignal[] = [];
  running = 0;
  peak = 0;
  finished = 0;

  /** Ignores its signal and takes far longer than its timeout. */
  @JobHandler('stubborn', { timeoutMs: 150, maxAttempts: 2, backoff: { baseMs: 10, maxMs: 10, jitter: 0 } })
  async stubborn(_payload: unknown, job: JobContext) {
    this.signals.push(job.signal);
    await sleep(1_000);
  }

  /** At most 2 at once, whatever the module's concurrency. */
  @JobHandler('narrow', { concurrency: 2 })
  async narrow() {
    this.running++;
    this.peak = Math.max(this.peak, this.running);
    await sleep(60);
    this.running--;
    this.finished++;
  }

  @JobHandler('wide')
  async wide() {
    await sleep(60);
    this.finished++;
  }

  @JobHandler('flaky-once', { maxAttempts: 3, backoff: { baseMs: 10, maxMs: 10, jitter: 0 } })
  async flakyOnce(_payload: unknown, job: JobContext) {
    if (job.attempt === 1) throw new Error('first attempt fails');
  }

  @JobHandler('doomed', { maxAttempts: 1 })
  async doomed() {
    throw new Error('always fails');
  }
}

eachDialect('timeouts, per-handler concurrency and lifecycle events', (dialect) => {
  let db: TestDatabase;
  let app: OutboxApp;
  let jobs: FeatureJobs;

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
  });
  afterAll(() => db?.dispose());
  beforeEach(async () => {
    await db.execute('DELETE FROM "doctor_job"');
    await db.execute('DELETE FROM "doctor_job_dead_letter"');
    app = await startOutboxApp(db, [FeatureJobs], { concurrency: 10, batchSize: 10 });
    jobs = app.module.get(FeatureJobs);
  });
  afterEach(() => app.close());

  it('fails an attempt at its timeout even when the handler ignores its signal, and retries it', async () => {
    const events: JobEvent[] = [];
    app.module.get(JobEvents).on('*', (event) => events.push(event));
    await app.outbox.transaction((tx) => app.outbox.enqueue(tx, 'stubborn', {}));
    await waitFor('dead-lettered after two timeouts', async () => (await db.countDeadLetters()) === 1, 10_000);
    const [letter] = (await app.deadLetters.list({ type: 'stubborn' })).items;
    expect(letter).toMatchObject({ attempts: 2, errorMessage: 'The handler did not finish within its timeout of 150 ms; the attempt failed (its signal was aborted).' });
    expect(jobs.signals).toHaveLength(2);
    expect(jobs.signals.every((signal) => signal.aborted && signal.reason instanceof JobTimeoutError)).toBe(true);
    const failed = events.filter((e) => e.name === 'job.failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ attempt: 1, error: { message: expect.stringContaining('timeout of 150 ms') } });
    expect((failed[0] as { durationMs: number }).durationMs).toBeGreaterThanOrEqual(140);
    expect((failed[0] as { durationMs: number }).durationMs).toBeLessThan(900);
  });

  it('runs at most `concurrency` jobs of a handler at once, without holding up other types', async () => {
    await app.outbox.transaction(async (tx) => {
      await app.outbox.enqueueMany(tx, Array.from({ length: 10 }, (_, n) => ({ type: 'narrow', payload: { n } })));
      await app.outbox.enqueueMany(tx, Array.from({ length: 10 }, (_, n) => ({ type: 'wide', payload: { n } })));
    });
    const started = Date.now();
    await waitFor('all ran', async () => jobs.finished === 20 && (await db.countJobs()) === 0, 20_000);
    expect(jobs.peak).toBe(2);
    // 10 narrow jobs two at a time take at least 5 × 60 ms.
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('emits started, succeeded, failed (will retry) and dead-lettered with type, id, attempt, duration and error', async () => {
    const events: JobEvent[] = [];
    const stop = app.module.get(JobEvents).on('*', (event) => events.push(event));
    const seen: JobEvent[] = [];
    const subscription = app.module.get(JobEvents).events$.subscribe((event) => seen.push(event));
    const [flakyId, doomedId] = await app.outbox.transaction((tx) =>
      app.outbox.enqueueMany(tx, [
        { type: 'flaky-once', payload: {} },
        { type: 'doomed', payload: {} },
      ]),
    );
    await waitFor('both settled', async () => (await db.countJobs()) === 0 && (await db.countDeadLetters()) === 1, 10_000);
    stop();
    subscription.unsubscribe();
    const of = (id: string) => events.filter((e) => e.id === id).map((e) => `${e.name}#${e.attempt}`);
    expect(of(flakyId)).toEqual(['job.started#1', 'job.failed#1', 'job.started#2', 'job.succeeded#2']);
    expect(of(doomedId)).toEqual(['job.started#1', 'job.dead-lettered#1']);
    const failed = events.find((e) => e.name === 'job.failed')!;
    expect(failed).toMatchObject({ type: 'flaky-once', maxAttempts: 3, nextAttemptInMs: 10, error: { message: 'first attempt fails' } });
    const dead = events.find((e) => e.name === 'job.dead-lettered')!;
    expect(dead).toMatchObject({ type: 'doomed', error: { message: 'always fails', stack: expect.stringContaining('always fails') } });
    expect(typeof (dead as { durationMs?: number }).durationMs).toBe('number');
    expect(seen).toEqual(events);
    // The runner's log lines come from the same events.
    expect(app.logs.of('warn').some((m) => m.includes(`Job ${flakyId} (flaky-once) failed attempt 1/3: first attempt fails`))).toBe(true);
    expect(app.logs.of('error').some((m) => m.includes(`Job ${doomedId} (doomed) dead-lettered after attempt 1/1: always fails`))).toBe(true);
  });

  it('keeps a throwing listener away from the job', async () => {
    app.module.get(JobEvents).on('job.started', () => {
      throw new Error('listener bug');
    });
    await app.outbox.transaction((tx) => app.outbox.enqueue(tx, 'wide', {}));
    await waitFor('ran anyway', async () => jobs.finished === 1 && (await db.countJobs()) === 0);
    expect(app.logs.of('error').some((m) => m.includes('A job.started listener threw: listener bug'))).toBe(true);
  });
});
