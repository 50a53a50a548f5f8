import { Injectable, type Provider } from '@nestjs/common';
import { JobHandler } from 'doctor-job';
import { createTestDatabase, type TestDatabase } from '../../support/databases';
import { startOutboxApp, type OutboxApp } from '../../support/outbox-app';
import type { Worker } from './processes';
import { createRunsTable } from './runs';

/**
 * The producing side of the reliability tests: it declares the job types the worker processes
 * run (enqueue checks them) but does not run them; its runner stays off.
 */
@Injectable()
export class ProducerJobs {
  @JobHandler('record') record() {}
  @JobHandler('long') long() {}
  @JobHandler('transactional') transactional() {}
  @JobHandler('fail', { maxAttempts: 3 }) fail() {}
  @JobHandler('exit', { maxAttempts: 3 }) exit() {}
  @JobHandler('uncaught', { maxAttempts: 3 }) uncaught() {}
  @JobHandler('business-plain') businessPlain() {}
  @JobHandler('business-tx', { transaction: true }) businessTx() {}
}

export interface ReliabilityContext {
  db: TestDatabase;
  producer: OutboxApp;
  /** Worker processes to kill after the suite (frozen ones are resumed first). */
  workers: Worker[];
}

/**
 * For a describe block: a fresh PostgreSQL database with the runs table, a producer app, and the
 * clean-up of everything the tests started.
 */
export function useReliabilityContext(extraProviders: Provider[] = []): ReliabilityContext {
  const context = { workers: [] as Worker[] } as ReliabilityContext;
  beforeAll(async () => {
    context.db = await createTestDatabase('postgresql');
    await createRunsTable(context.db);
    context.producer = await startOutboxApp(context.db, [ProducerJobs, ...extraProviders], { autoStart: false });
  });
  afterAll(async () => {
    for (const worker of context.workers) {
      worker.child.kill('SIGCONT');
      await worker.kill('SIGKILL');
    }
    await context.producer?.close();
    await context.db?.dispose();
  });
  return context;
}
