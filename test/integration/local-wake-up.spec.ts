/**
 * SQLite and MariaDB have no LISTEN/NOTIFY: the runner polls. Jobs its own instance commits through
 * outbox.transaction or outbox.send wake it in-process, at once; jobs committed in a transaction
 * Doctor Job did not start wait for the poll. (PostgreSQL's side of this is in notify.spec.ts.)
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { Injectable } from '@nestjs/common';
import { JobHandler } from 'doctor-job';
import { createTestDatabase, eachDialect, type TestDatabase } from '../support/databases';
import { startOutboxApp, type OutboxApp } from '../support/outbox-app';
import { sleep, waitFor } from '../support/wait';

const requestContext = new AsyncLocalStorage<string>();

@Injectable()
class Pinged {
  /** Job n -> the request context its handler ran in ('none' outside any). */
  seen = new Map<number, string>();
  @JobHandler('ping')
  ping(payload: { n: number }) {
    this.seen.set(payload.n, requestContext.getStore() ?? 'none');
  }
}

eachDialect('in-process wake-up', (dialect) => {
  if (dialect === 'postgresql') return; // LISTEN/NOTIFY and its own in-process wake-up: notify.spec.ts
  let db: TestDatabase;
  let app: OutboxApp;

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
  });
  beforeEach(async () => {
    // Polls an hour apart: only a wake-up runs a job within the test.
    app = await startOutboxApp(db, [Pinged], { pollIntervalMs: 3_600_000 });
    await sleep(100); // the start's own claim is over
  });
  afterEach(() => app?.close());
  afterAll(() => db?.dispose());

  it('outbox.transaction and outbox.send wake this instance\'s runner at once, outside the caller\'s async context', async () => {
    const pinged = app.module.get(Pinged);
    await requestContext.run('request-1', () => app.outbox.transaction((tx) => app.outbox.enqueue(tx, 'ping', { n: 1 })));
    await waitFor('job 1 handled without a poll', () => pinged.seen.has(1), 2_000, 2);
    await requestContext.run('request-2', () => app.outbox.send('ping', { n: 2 }));
    await waitFor('job 2 handled without a poll', () => pinged.seen.has(2), 2_000, 2);
    expect(pinged.seen.get(1)).toBe('none');
    expect(pinged.seen.get(2)).toBe('none');
  });

  it('a job committed in a transaction Doctor Job did not start waits for the poll', async () => {
    const pinged = app.module.get(Pinged);
    await db.prisma.$transaction((tx) => app.outbox.enqueue(tx, 'ping', { n: 3 }));
    await sleep(500);
    expect(pinged.seen.has(3)).toBe(false);
    await app.runner.poll();
    await waitFor('job 3 handled on the poll', () => pinged.seen.has(3));
  });

  it('with notify: false, nothing wakes the runner but the poll', async () => {
    await app.close();
    app = await startOutboxApp(db, [Pinged], { pollIntervalMs: 3_600_000, notify: false });
    await sleep(100);
    const pinged = app.module.get(Pinged);
    await app.outbox.transaction((tx) => app.outbox.enqueue(tx, 'ping', { n: 4 }));
    await app.outbox.send('ping', { n: 5 });
    await sleep(500);
    expect(pinged.seen.size).toBe(0);
    await app.runner.poll();
    await waitFor('jobs 4 and 5 handled on the poll', () => pinged.seen.has(4) && pinged.seen.has(5));
  });
});
