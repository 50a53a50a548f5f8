import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Injectable } from '@nestjs/common';
import { HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { Test, type TestingModule } from '@nestjs/testing';
import { ScheduleModule } from '@nestjs/schedule';
import { Registry } from 'prom-client';
import { DoctorJobModule, JobHandler, OutboxRunner, OutboxService } from 'doctor-job';
import { DoctorJobHealthIndicator } from 'doctor-job/health';
import { DOCTOR_JOB_METRICS_REGISTRY, DoctorJobMetrics } from 'doctor-job/metrics';
import { createTestDatabase, eachDialect, type TestDatabase } from '../support/databases';
import { sleep, waitFor } from '../support/wait';

@Injectable()
class Jobs {
  @JobHandler('ok')
  ok() {}

  @JobHandler('bad', { maxAttempts: 2, backoff: { baseMs: 10, maxMs: 10, jitter: 0 } })
  bad() {
    throw new Error('nope');
  }
}

eachDialect('health indicator and metrics', (dialect) => {
  let db: TestDatabase;
  let module: TestingModule;
  let registry: Registry;

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
  });
  afterAll(() => db?.dispose());
  beforeEach(async () => {
    registry = new Registry();
    module = await Test.createTestingModule({
      imports: [ScheduleModule.forRoot(), TerminusModule, DoctorJobModule.forRoot({ prisma: db.prisma, autoStart: false, pollIntervalMs: 50 })],
      providers: [Jobs, DoctorJobHealthIndicator, DoctorJobMetrics, { provide: DOCTOR_JOB_METRICS_REGISTRY, useValue: registry }],
    }).compile();
    await module.init();
  });
  afterEach(() => module.close());

  const check = (options = {}) =>
    module
      .get(HealthCheckService)
      .check([() => module.get(DoctorJobHealthIndicator).isHealthy('jobs', options)])
      .then(
        (result) => result,
        (error: { response: unknown }) => error.response,
      );

  it('is up while the runner runs and nothing waits too long; down otherwise, saying why', async () => {
    const runner = module.get(OutboxRunner);
    expect(await check()).toMatchObject({ status: 'error', error: { jobs: { status: 'down', runner: 'stopped', database: 'reachable' } } });

    const outbox = module.get(OutboxService);
    await outbox.transaction((tx) => outbox.enqueue(tx, 'ok', {}));
    await sleep(300);
    const stale = await check({ requireRunner: false, maxOldestDueAgeMs: 100 });
    expect(stale).toMatchObject({ status: 'error', error: { jobs: { status: 'down', due: 1 } } });
    expect((stale as { error: { jobs: { oldestDueAgeMs: number } } }).error.jobs.oldestDueAgeMs).toBeGreaterThanOrEqual(100);

    runner.start();
    await waitFor('drained', async () => (await db.countJobs()) === 0);
    expect(await check({ maxOldestDueAgeMs: 100 })).toMatchObject({
      status: 'ok',
      info: { jobs: { status: 'up', runner: 'running', database: 'reachable', due: 0, oldestDueAgeMs: 0 } },
    });
  });

  it('exposes depth, dead letters, processed counts and handler durations for Prometheus', async () => {
    await db.execute('DELETE FROM "doctor_job_dead_letter"');
    const outbox = module.get(OutboxService);
    await outbox.transaction((tx) =>
      outbox.enqueueMany(tx, [
        { type: 'ok', payload: {} },
        { type: 'ok', payload: {} },
        { type: 'bad', payload: {} },
      ]),
    );
    const before = await registry.metrics();
    expect(before).toContain('doctor_job_queue_depth{type="ok",state="due"} 2');
    expect(before).toContain('doctor_job_queue_depth{type="bad",state="total"} 1');

    module.get(OutboxRunner).start();
    await waitFor('settled', async () => (await db.countJobs()) === 0 && (await db.countDeadLetters()) === 1);
    const after = await registry.metrics();
    expect(after).toContain('doctor_job_processed_total{type="ok",outcome="succeeded"} 2');
    expect(after).toContain('doctor_job_processed_total{type="bad",outcome="failed"} 1');
    expect(after).toContain('doctor_job_processed_total{type="bad",outcome="dead_lettered"} 1');
    expect(after).toContain('doctor_job_handler_duration_seconds_count{type="ok",outcome="succeeded"} 2');
    expect(after).toContain('doctor_job_dead_letters{type="bad"} 1');
    expect(after).not.toContain('doctor_job_queue_depth{type="ok"');
  });
});

describe('optional packages', () => {
  it('the main entry point never imports @nestjs/terminus or prom-client', () => {
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) {
          if (!['health', 'metrics'].includes(entry.name)) walk(path);
        } else if (path.endsWith('.ts') && !path.endsWith('.spec.ts')) files.push(path);
      }
    };
    walk(join(__dirname, '..', '..', 'lib'));
    expect(files.length).toBeGreaterThan(20);
    const offenders = files.filter((file) => /from '(@nestjs\/terminus|prom-client)'/.test(readFileSync(file, 'utf8')));
    expect(offenders).toEqual([]);
  });
});
