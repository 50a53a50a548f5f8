import { Injectable } from '@nestjs/common';
import { JobHandler } from 'doctor-job';
import { createTestDatabase, describePostgres, type TestDatabase } from '../support/databases';
import { startOutboxApp, type OutboxApp } from '../support/outbox-app';
import { sleep, waitFor } from '../support/wait';

@Injectable()
class Handled {
  at = new Map<number, number>();
  @JobHandler('ping')
  ping(payload: { n: number }) {
    this.at.set(payload.n, Date.now());
  }
}

describePostgres('LISTEN/NOTIFY wake-up', () => {
  let db: TestDatabase;
  let app: OutboxApp;

  beforeAll(async () => {
    db = await createTestDatabase('postgresql');
  });
  afterEach(() => app?.close());
  afterAll(() => db?.dispose());

  const enqueue = (n: number) => app.outbox.transaction((tx) => app.outbox.enqueue(tx, 'ping', { n }));
  const listeners = async () =>
    (await db.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE "application_name" = 'doctor-job-listener' AND "datname" = current_database()`)).map((r) => r.pid);

  it('runs a job as soon as it commits, with polling an hour apart', async () => {
    app = await startOutboxApp(db, [Handled], { pollIntervalMs: 3_600_000 });
    await waitFor('the listener connected', async () => (await listeners()).length === 1);
    const handled = app.module.get(Handled);
    for (let n = 1; n <= 5; n++) {
      const committed = Date.now();
      await enqueue(n);
      await waitFor(`job ${n} handled`, () => handled.at.has(n), 2_000, 2);
      expect(handled.at.get(n)! - committed).toBeLessThan(1_000);
    }
  });

  it('reconnects when its connection is cut, says so once, and wakes the runner again', async () => {
    app = await startOutboxApp(db, [Handled], { pollIntervalMs: 3_600_000 });
    await waitFor('the listener connected', async () => (await listeners()).length === 1);
    const [pid] = await listeners();
    await db.query('SELECT pg_terminate_backend($1)', pid);
    await waitFor('a new listener', async () => {
      const now = await listeners();
      return now.length === 1 && now[0] !== pid;
    }, 10_000);
    expect(app.logs.of('warn').filter((m) => m.includes('LISTEN/NOTIFY wake-up lost its connection'))).toHaveLength(1);
    await waitFor('reconnection logged', () => app.logs.of('log').some((m) => m.includes('LISTEN/NOTIFY wake-up reconnected')));
    const handled = app.module.get(Handled);
    await enqueue(99);
    await waitFor('job handled after the reconnection', () => handled.at.has(99), 2_000, 2);
  });

  it('polls only with notify: false', async () => {
    app = await startOutboxApp(db, [Handled], { pollIntervalMs: 3_600_000, notify: false });
    await sleep(200);
    expect(await listeners()).toHaveLength(0);
    await enqueue(7);
    await sleep(800);
    expect(app.module.get(Handled).at.has(7)).toBe(false);
    await app.runner.poll();
    await waitFor('handled on the next poll', () => app.module.get(Handled).at.has(7));
  });
});
