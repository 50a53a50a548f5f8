import { HttpException, Injectable } from '@nestjs/common';
import { HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { ScheduleModule } from '@nestjs/schedule';
import { Test, type TestingModule } from '@nestjs/testing';
import {
  DeadLetterNotFoundError,
  DoctorJobAdminService,
  DoctorJobModule,
  InvalidArgumentError,
  JobHandler,
  JobNotFoundError,
  JobRunningError,
  OutboxRunner,
  OutboxService,
  type QueuedJob,
} from 'doctor-job';
import { DoctorJobHealthIndicator } from 'doctor-job/health';
import { CapturedLogs, type AnyJobs } from '../support/outbox-app';
import { createTestDatabase, eachDialect, type TestDatabase } from '../support/databases';
import { sleep, waitFor } from '../support/wait';
import { newGate, type Gate } from '../support/gate';

/** The runners' poll interval in this file: a pause must hold from one of these after it. */
const POLL_MS = 100;

/** What the handlers did, and a gate that holds `adm-slow` handlers until opened. */
const ran: string[] = [];
let gate: Gate;

@Injectable()
class AdminJobs {
  @JobHandler('adm-work')
  work(payload: { n: number }) {
    ran.push(`adm-work:${payload.n}`);
  }

  @JobHandler('adm-other')
  other(payload: { n: number }) {
    ran.push(`adm-other:${payload.n}`);
  }

  @JobHandler('adm-slow')
  async slow() {
    await gate.promise;
  }

  @JobHandler('adm-fail', { maxAttempts: 2, backoff: { baseMs: 10, maxMs: 10, jitter: 0 } })
  fail(_payload: unknown, job: { attempt: number }) {
    throw new Error(`attempt ${job.attempt} failed`);
  }
}

eachDialect('DoctorJobAdminService', (dialect) => {
  let db: TestDatabase;
  let module: TestingModule;
  let admin: DoctorJobAdminService;
  let outbox: OutboxService<AnyJobs>;
  let runner: OutboxRunner;

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
    module = await Test.createTestingModule({
      imports: [ScheduleModule.forRoot(), TerminusModule, DoctorJobModule.forRoot({ prisma: db.prisma, pollIntervalMs: POLL_MS, autoStart: false })],
      providers: [AdminJobs, DoctorJobHealthIndicator],
    })
      .setLogger(new CapturedLogs())
      .compile();
    await module.init();
    admin = module.get(DoctorJobAdminService);
    outbox = module.get<OutboxService<AnyJobs>>(OutboxService);
    runner = module.get(OutboxRunner);
  });
  afterAll(async () => {
    await module?.close();
    await db?.dispose();
  });
  beforeEach(async () => {
    await runner.stop();
    for (const table of ['doctor_job', 'doctor_job_dead_letter', 'doctor_job_attempt', 'doctor_job_paused_type']) await db.execute(`DELETE FROM "${table}"`);
    ran.length = 0;
    gate = newGate();
  });

  const enqueue = (type: string, payload: unknown = {}, options: Record<string, unknown> = {}) =>
    outbox.transaction((tx) => outbox.enqueue(tx, type, payload, options));
  const refused = async (call: Promise<unknown>) => {
    const error = await call.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(HttpException);
    return error as HttpException;
  };
  const jobsOf = async (query: Parameters<DoctorJobAdminService['listJobs']>[0] = {}) => (await admin.listJobs(query)).items;

  it('lists jobs by state (due, scheduled, running with its instance and since when), type and keys, a page at a time; shows one in full', async () => {
    const due = await enqueue('adm-work', { n: 1 }, { orderingKey: 'order-1', dedupKey: 'dedup-1', priority: 3 });
    const scheduled = await enqueue('adm-work', { n: 2 }, { delayMs: 3_600_000 });
    const slow = await enqueue('adm-slow');
    await admin.pause('adm-work'); // keeps the first job due while the runner runs the slow one
    runner.start();
    // The runner registers itself as it starts; its claim tokens name it.
    await waitFor('the slow job running, held by this runner', async () => (await jobsOf({ state: 'running' }))[0]?.lockedBy === runner.instance);

    const [running] = await jobsOf({ state: 'running' });
    expect(running).toMatchObject({ id: slow, type: 'adm-slow', state: 'running', attempts: 1, lockedBy: runner.instance });
    expect(runner.instance).toMatch(/^.+:\d+:[0-9a-f]{8}$/);
    expect(running.claimedAt!.getTime()).toBeLessThanOrEqual(Date.now() + 5_000);
    expect(running.lockedUntil!.getTime()).toBeGreaterThan(running.claimedAt!.getTime());
    expect((await jobsOf({ state: 'due' })).map((j) => j.id)).toEqual([due]);
    expect((await jobsOf({ state: 'scheduled' })).map((j) => j.id)).toEqual([scheduled]);
    expect((await jobsOf({ type: 'adm-work' })).map((j) => j.id)).toEqual([due, scheduled]);
    expect((await jobsOf({ orderingKey: 'order-1' })).map((j) => j.id)).toEqual([due]);
    expect((await jobsOf({ dedupKey: 'dedup-1' })).map((j) => j.id)).toEqual([due]);

    const first = await admin.listJobs({ limit: 2 });
    expect(first.items.map((j) => j.id)).toEqual([due, scheduled]);
    expect(first.nextCursor).toBe(scheduled);
    expect(await admin.listJobs({ limit: 2, cursor: first.nextCursor! })).toEqual({ items: [expect.objectContaining({ id: slow })], nextCursor: null });

    const full = await admin.getJob(due);
    expect(full).toMatchObject({ id: due, payload: { n: 1 }, attempts: 0, maxAttempts: 5, priority: 3, orderingKey: 'order-1', dedupKey: 'dedup-1', lastError: null, history: [] });
    expect(full.runAt).toBeInstanceOf(Date);
    expect(full.createdAt).toBeInstanceOf(Date);
    gate.open();
  });

  it('rejects malformed ids, filters and page sizes with a 400, unknown ids with a 404, and changes nothing', async () => {
    const id = await enqueue('adm-work', { n: 1 });
    for (const call of [admin.getJob('abc'), admin.cancelJobs(['1', '0']), admin.runJobsNow('9223372036854775808'), admin.getDeadLetter('-1'), admin.replayDeadLetters('1.5')]) {
      const error = await refused(call);
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect(error.getStatus()).toBe(400);
      expect(error.message).toMatch(/^id must be a (job|dead-letter) id \(a string of digits from 1 to 9223372036854775807\), got /);
    }
    const bad: [Promise<unknown>, RegExp][] = [
      [admin.listJobs({ state: 'done' as never }), /state must be one of due, scheduled, running, got "done"/],
      [admin.listJobs({ limit: 0 }), /limit must be an integer from 1 to 500, got 0/],
      [admin.listJobs({ cursor: 'x' }), /cursor must be a job id/],
      [admin.listJobs({ type: '' }), /type must be a non-empty string/],
      [admin.listDeadLetters({ reason: 'nope' as never }), /reason must be one of failed, non-retryable, lease-expired, no-handler, invalid-payload, cancelled, got "nope"/],
      [admin.listDeadLetters({ failedBefore: 'yesterday' }), /failedBefore must be a valid time/],
      [admin.countDeadLetters({ failedAfter: '2026-02-01T00:00:00Z', failedBefore: '2026-01-01T00:00:00Z' }), /failedAfter .* must be earlier than failedBefore/],
      [admin.replayDeadLettersWhere({}), /a bulk action without a filter would touch every dead letter/],
      [admin.deleteDeadLettersWhere({ all: true, type: 'adm-fail' }), /all: true selects every dead letter/],
      [admin.pause(''), /type must be a non-empty string/],
      [admin.cancelJobs([]), /at least one job id is needed/],
    ];
    for (const [call, message] of bad) {
      const error = await refused(call);
      expect([error.getStatus(), error.message]).toEqual([400, expect.stringMatching(message)]);
    }
    const missing = await refused(admin.getJob('999999'));
    expect(missing).toBeInstanceOf(JobNotFoundError);
    expect([missing.getStatus(), missing.message]).toEqual([404, 'No job in the queue has the id 999999; nothing was changed.']);
    const some = (await refused(admin.cancelJobs([id, '999998', '999999']))) as JobNotFoundError;
    expect(some.ids).toEqual(['999998', '999999']);
    expect(await refused(admin.getDeadLetter('999999'))).toBeInstanceOf(DeadLetterNotFoundError);
    expect(await refused(admin.deleteDeadLetters(['999999']))).toBeInstanceOf(DeadLetterNotFoundError);
    expect((await jobsOf()).map((j) => j.id)).toEqual([id]);
  });

  it('cancels queued jobs into the dead letters (reason cancelled); a running job is refused with a 409; run-now makes a scheduled job due', async () => {
    const queued = await enqueue('adm-work', { n: 1 }, { delayMs: 3_600_000 });
    const other = await enqueue('adm-work', { n: 2 }, { delayMs: 3_600_000 });
    const slow = await enqueue('adm-slow');
    runner.start();
    await waitFor('the slow job running', async () => (await jobsOf({ state: 'running' })).length === 1);

    const running = (await refused(admin.cancelJobs([queued, slow]))) as JobRunningError;
    expect(running).toBeInstanceOf(JobRunningError);
    expect([running.getStatus(), running.ids]).toEqual([409, [slow]]);
    expect(running.message).toContain(`Job ${slow} is running (held by a worker under a live lease): cannot cancel it while the attempt runs; nothing was changed.`);
    expect(await refused(admin.runJobsNow(slow))).toBeInstanceOf(JobRunningError);
    expect((await jobsOf()).map((j) => j.id)).toEqual([queued, other, slow]);

    expect(await admin.cancelJobs(queued, { message: 'Not needed: the customer left' })).toEqual({ count: 1, jobIds: [queued] });
    const [letter] = (await admin.listDeadLetters({ reason: 'cancelled' })).items;
    expect(letter).toMatchObject({ jobId: queued, type: 'adm-work', reason: 'cancelled', errorMessage: 'Not needed: the customer left', payload: { n: 1 } });

    expect(await admin.runJobsNow([other])).toEqual({ count: 1, jobIds: [other], alreadyDue: [] });
    await waitFor('the job made due to run', () => ran.includes('adm-work:2'));
    gate.open();
    await waitFor('the slow job done', async () => (await jobsOf()).length === 0);
  });

  it('keeps every failed attempt with the dead letter, and across a replay that fails again; replays and deletes by id and by filter with counts', async () => {
    const id = await enqueue('adm-fail', { n: 1 });
    const keep = await enqueue('adm-fail', { n: 2 });
    runner.start();
    await waitFor('two dead letters', async () => (await admin.countDeadLetters({ type: 'adm-fail' })) === 2);
    const letters = (await admin.listDeadLetters({ type: 'adm-fail' })).items;
    const letter = letters.find((l) => l.jobId === id)!;
    const detail = await admin.getDeadLetter(letter.id);
    expect(detail).toMatchObject({ reason: 'failed', attempts: 2, errorMessage: 'attempt 2 failed', replayOf: null });
    expect(detail.history.map((a) => [a.jobId, a.attempt, a.errorMessage])).toEqual([
      [id, 1, 'attempt 1 failed'],
      [id, 2, 'attempt 2 failed'],
    ]);

    const replay = await admin.replayDeadLetters(letter.id);
    expect(replay.count).toBe(1);
    const [replayed] = replay.jobIds;
    await waitFor('the replay dead-lettered again', async () => (await admin.listDeadLetters({ type: 'adm-fail' })).items.some((l) => l.jobId === replayed));
    const again = (await admin.listDeadLetters({ type: 'adm-fail' })).items.find((l) => l.jobId === replayed)!;
    expect(again.replayOf).toBe(id);
    expect((await admin.getDeadLetter(again.id)).history.map((a) => [a.jobId, a.attempt, a.errorMessage])).toEqual([
      [id, 1, 'attempt 1 failed'],
      [id, 2, 'attempt 2 failed'],
      [replayed, 1, 'attempt 1 failed'],
      [replayed, 2, 'attempt 2 failed'],
    ]);

    // By filter: what a bulk action touches is counted first, then the action returns the same count.
    await runner.stop();
    const cancelled = await enqueue('adm-work', { n: 3 });
    await admin.cancelJobs(cancelled);
    expect(await admin.countDeadLetters()).toBe(3);
    expect(await admin.countDeadLetters({ reason: 'failed' })).toBe(2);
    const now = new Date();
    expect(await admin.countDeadLetters({ failedBefore: now, type: 'adm-fail' })).toBe(2);
    expect(await admin.countDeadLetters({ failedAfter: now })).toBe(0);
    const bulk = await admin.replayDeadLettersWhere({ reason: 'cancelled' });
    expect(bulk.count).toBe(1);
    expect(await admin.getJob(bulk.jobIds[0])).toMatchObject({ type: 'adm-work', replayOf: cancelled, state: 'due' });
    expect(await admin.deleteDeadLettersWhere({ type: 'adm-fail', failedBefore: now })).toEqual({ count: 2 });
    expect(await admin.deleteDeadLettersWhere({ all: true })).toEqual({ count: 0 });
    expect(letters.map((l) => l.jobId).sort()).toEqual([id, keep].sort());
  });

  it('pause: no runner claims the type within one poll interval while other types go on; its jobs stay queued; resume: claimed again; stats and health show it', async () => {
    runner.start();
    await enqueue('adm-work', { n: 0 });
    await waitFor('the runner running jobs', () => ran.includes('adm-work:0'));

    expect(await admin.pause('adm-work')).toEqual({ type: 'adm-work', paused: true, changed: true });
    expect(await admin.pause('adm-work')).toEqual({ type: 'adm-work', paused: true, changed: false });
    await sleep(POLL_MS); // one poll interval: from here on no claim takes the type
    const paused = await Promise.all([1, 2, 3].map((n) => enqueue('adm-work', { n })));
    const others = await Promise.all([1, 2, 3].map((n) => enqueue('adm-other', { n })));
    await waitFor('the other type run', () => ['adm-other:1', 'adm-other:2', 'adm-other:3'].every((r) => ran.includes(r)));
    await sleep(5 * POLL_MS);
    expect(ran.filter((r) => r.startsWith('adm-work:') && r !== 'adm-work:0')).toEqual([]);
    const queued = await jobsOf({ type: 'adm-work' });
    const byId = (a: string, b: string) => Number(a) - Number(b);
    expect(queued.map((j: QueuedJob) => [j.id, j.state, j.attempts])).toEqual([...paused].sort(byId).map((id) => [id, 'due', 0]));
    expect((await jobsOf({ type: 'adm-other' })).map((j) => j.id)).toEqual([]);
    expect(others).toHaveLength(3);

    const stats = await admin.stats();
    expect(stats.types.find((t) => t.type === 'adm-work')).toMatchObject({ due: 3, paused: true, pausedAt: expect.any(Date) });
    expect(stats.paused.map((p) => p.type)).toEqual(['adm-work']);
    const health = await module
      .get(HealthCheckService)
      .check([() => module.get(DoctorJobHealthIndicator).isHealthy('jobs', { maxOldestDueAgeMs: 1 })])
      .then(
        (result) => result,
        (error: { response: unknown }) => error.response,
      );
    // The paused type's due jobs wait on purpose: they do not make the instance unhealthy.
    expect(health).toMatchObject({ status: 'ok', info: { jobs: { status: 'up', paused: ['adm-work'], due: 3 } } });
    const doctor = await admin.doctor();
    expect(doctor.checks.find((c) => c.id === 'paused')).toMatchObject({ verdict: 'warn', summary: expect.stringContaining('adm-work') });

    expect(await admin.resume('adm-work')).toEqual({ type: 'adm-work', paused: false, changed: true });
    expect(await admin.resume('adm-work')).toMatchObject({ changed: false });
    await waitFor('the resumed type run', () => ['adm-work:1', 'adm-work:2', 'adm-work:3'].every((r) => ran.includes(r)), 5_000);
    expect(await admin.pausedTypes()).toEqual([]);
  });

  it('doctor: a verdict and what to do for each check of the tables and the queue', async () => {
    await enqueue('adm-work', { n: 1 });
    const report = await admin.doctor();
    expect(report.dialect).toBe(dialect);
    const ids = report.checks.map((c) => c.id);
    expect(ids).toEqual(expect.arrayContaining(['queue-table', 'oldest-due', 'paused', 'dead-letters']));
    if (dialect === 'postgresql') expect(ids).toEqual(expect.arrayContaining(['dead-rows', 'vacuum', 'horizon']));
    if (dialect === 'mysql') expect(ids).toEqual(expect.arrayContaining(['horizon', 'purge', 'free-space']));
    if (dialect === 'sqlite') expect(ids).toEqual(expect.arrayContaining(['free-space']));
    expect(report.checks.every((c) => ['ok', 'warn', 'fail', 'unknown'].includes(c.verdict) && c.summary.length > 0)).toBe(true);
    expect(report.checks.find((c) => c.id === 'queue-table')!.summary).toMatch(/^\d+ rows/);
    expect(report.diagnostics.tables.map((t) => t.table)).toEqual(expect.arrayContaining(['doctor_job', 'doctor_job_dead_letter', 'doctor_job_attempt']));
  });
});
