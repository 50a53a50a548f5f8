import { AsyncLocalStorage } from 'node:async_hooks';
import { Injectable } from '@nestjs/common';
import { JobHandler } from 'doctor-job';
import { Client, type Notification } from 'pg';
import { createJobStore } from '../../lib/store/create-job-store';
import { listenForWakeUps } from '../../lib/store/postgresql/postgresql.connections';
import { CATCH_UP_AFTER_MS, RECHECK_MS } from '../../lib/store/postgresql/other-listeners';
import { createTestDatabase, describePostgres, type TestDatabase } from '../support/databases';
import { startOutboxApp, type OutboxApp } from '../support/outbox-app';
import { sleep, waitFor } from '../support/wait';

/** A request's async context, as nestjs-cls or a tracer keeps one. */
const requestContext = new AsyncLocalStorage<string>();

@Injectable()
class Handled {
  at = new Map<number, number>();
  /** The request context each job's handler ran in (undefined: none). */
  contexts = new Map<number, string | undefined>();
  @JobHandler('ping')
  ping(payload: { n: number }) {
    this.at.set(payload.n, Date.now());
    this.contexts.set(payload.n, requestContext.getStore());
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

  describe('who sends the NOTIFY', () => {
    let producer: OutboxApp;
    let observer: Client;
    let heard: Notification[];

    beforeEach(async () => {
      observer = new Client({ connectionString: db.url });
      await observer.connect();
      await observer.query('LISTEN "doctor_job"');
      heard = [];
      observer.on('notification', (n) => heard.push(n));
      // Two instances: one runs jobs (polling an hour apart), one only enqueues.
      app = await startOutboxApp(db, [Handled], { pollIntervalMs: 3_600_000 });
      producer = await startOutboxApp(db, [Handled], { autoStart: false });
      await waitFor('the listener connected', async () => (await listeners()).length === 1);
    });
    afterEach(async () => {
      await producer?.close();
      await observer?.end();
    });

    const senders = async () => {
      const pids = [...new Set(heard.map((n) => n.processId))];
      const rows = await db.query<{ pid: number; application_name: string }>(
        `SELECT pid, "application_name" FROM pg_stat_activity WHERE pid = ANY($1::int[])`,
        pids,
      );
      return rows.map((r) => r.application_name);
    };

    it('outbox.transaction: notifies after the commit from the runner pool, wakes the other instance, and never on rollback', async () => {
      const handled = app.module.get(Handled);
      await producer.outbox.transaction((tx) => producer.outbox.enqueue(tx, 'ping', { n: 1 }));
      await waitFor('job 1 handled by the other instance', () => handled.at.has(1), 2_000, 2);
      await waitFor('the notification', () => heard.length > 0);
      expect(await senders()).toEqual(['doctor-job-runner']);

      // enqueueMany too: its commit announced the same way, with the store's token.
      const token = heard[0].payload;
      heard.length = 0;
      await producer.outbox.transaction((tx) => producer.outbox.enqueueMany(tx, [{ type: 'ping', payload: { n: 20 } }, { type: 'ping', payload: { n: 21 } }]));
      await waitFor('jobs 20 and 21 handled', () => handled.at.has(20) && handled.at.has(21), 2_000, 2);
      await waitFor('the notification', () => heard.length > 0);
      await sleep(100);
      expect(heard.map((n) => n.payload)).toEqual([token]);
      expect(await senders()).toEqual(['doctor-job-runner']);

      heard.length = 0;
      await expect(
        producer.outbox.transaction(async (tx) => {
          await producer.outbox.enqueue(tx, 'ping', { n: 2 });
          throw new Error('roll back');
        }),
      ).rejects.toThrow('roll back');
      await sleep(300);
      expect(heard).toHaveLength(0);
      expect(await db.countJobs()).toBe(0);
    });

    it('announce() and send() wake the listener of their own store in-process; that store\'s NOTIFYs, for the other instances, do not wake it again', async () => {
      const store = createJobStore('postgresql', db.prisma, { notify: { connectionString: db.url }, runnerPool: { connectionString: db.url, max: 2 } });
      let woken = 0;
      const stop = await store.listen(() => woken++, { connected: () => undefined, lost: () => undefined });
      try {
        woken = 0; // the wake-up every (re)connection makes
        store.announce();
        expect(woken).toBe(1); // at the call, without a round trip
        await waitFor('the NOTIFY', () => heard.length === 1);
        const token = heard[0].payload;
        expect(token).toMatch(/^[0-9a-f-]{36}$/); // the sender's token
        await sleep(300);
        expect(woken).toBe(1); // its own listener heard it and let it pass

        // A NOTIFY from elsewhere (another instance's token, or none) still wakes it.
        await observer.query(`SELECT pg_notify('doctor_job', 'another-instance')`);
        await observer.query(`SELECT pg_notify('doctor_job', '')`);
        await waitFor('woken by the two others', () => woken === 3);

        // send(): its statement's NOTIFY carries the token too; the store wakes its own listener once it has committed.
        heard.length = 0;
        const id = await store.send({ type: 'ping', payload: '{"n":9}', maxAttempts: 3, priority: 0, dedupKey: 'notify-spec-9' });
        expect(woken).toBe(4);
        await waitFor('the send NOTIFY', () => heard.length === 1);
        expect(heard[0].payload).toBe(token);
        await sleep(300);
        expect(woken).toBe(4);
        expect(id).toMatch(/^\d+$/); // committed (the other instance's runner, woken by it, may have run it already)
      } finally {
        await stop();
        await store.close();
      }
    });

    it('outbox.transaction and send in the instance whose runner runs: the job is handled at once, with polling an hour apart, outside the committing request\'s async context', async () => {
      const handled = app.module.get(Handled);
      await requestContext.run('request-5', () => app.outbox.transaction((tx) => app.outbox.enqueue(tx, 'ping', { n: 5 })));
      await waitFor('job 5 handled', () => handled.at.has(5), 2_000, 2);
      await requestContext.run('request-6', () => app.outbox.send('ping', { n: 6 }));
      await waitFor('job 6 handled', () => handled.at.has(6), 2_000, 2);
      // The in-process wake-up started the runner's claim: it must not hand the request's context
      // (a tenant, an ambient transaction, a trace) to the handlers of the jobs it claims.
      expect(handled.contexts.get(5)).toBeUndefined();
      expect(handled.contexts.get(6)).toBeUndefined();
    });

    it('outbox.transaction with runnerPool: false: the NOTIFY after the commit goes through the Prisma client', async () => {
      await producer.close();
      producer = await startOutboxApp(db, [Handled], { autoStart: false, runnerPool: false });
      const handled = app.module.get(Handled);
      await producer.outbox.transaction((tx) => producer.outbox.enqueue(tx, 'ping', { n: 4 }));
      await waitFor('job 4 handled by the other instance', () => handled.at.has(4), 2_000, 2);
      await waitFor('the notification', () => heard.length > 0);
      expect(await senders()).not.toContain('doctor-job-runner');
      expect(heard.length).toBe(1);
    });

    it('prisma.$transaction of the app: notifies from inside the transaction, so the commit itself wakes the runner', async () => {
      const handled = app.module.get(Handled);
      await db.prisma.$transaction((tx) => producer.outbox.enqueue(tx, 'ping', { n: 3 }));
      await waitFor('job 3 handled', () => handled.at.has(3), 2_000, 2);
      await waitFor('the notification', () => heard.length > 0);
      expect(await senders()).not.toContain('doctor-job-runner');
    });

    it('commits that land while a NOTIFY is in flight share the next one, and none is left without a wake-up', async () => {
      const handled = app.module.get(Handled);
      const n = 40;
      await Promise.all(
        Array.from({ length: n }, (_, i) => producer.outbox.transaction((tx) => producer.outbox.enqueue(tx, 'ping', { n: 100 + i }))),
      );
      await waitFor(`all ${n} jobs handled without a poll`, () => Array.from({ length: n }, (_, i) => 100 + i).every((k) => handled.at.has(k)), 3_000, 5);
      expect(heard.length).toBeGreaterThan(0);
      expect(heard.length).toBeLessThanOrEqual(n);
    });

    it('announce(): calls made while a NOTIFY is in flight are folded into exactly one more', async () => {
      const store = createJobStore('postgresql', db.prisma, { notify: false, runnerPool: { connectionString: db.url, max: 2 } });
      try {
        store.announce();
        store.announce();
        store.announce();
        await waitFor('two notifications', () => heard.length >= 2);
        await sleep(200);
        expect(heard).toHaveLength(2);
        store.announce();
        await waitFor('a third one for a later call', () => heard.length === 3);
      } finally {
        await store.close();
      }
      store.announce(); // after close: nothing is sent, and no pool is opened again
      await sleep(300);
      expect(heard).toHaveLength(3);
    });
  });
});

describePostgres('an instance alone on its database', () => {
  let db: TestDatabase;
  let observer: Client;
  const heard: Notification[] = [];
  const apps: OutboxApp[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('postgresql');
    // Not named as Doctor Job's listeners are: it hears the NOTIFYs but does not count as an instance.
    observer = new Client({ connectionString: db.url });
    await observer.connect();
    await observer.query('LISTEN "doctor_job"');
    observer.on('notification', (n) => heard.push(n));
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await observer?.end();
    await db?.dispose();
  });
  const listeners = async () =>
    (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE "application_name" = 'doctor-job-listener' AND "datname" = current_database()`))[0].n;

  it('sends no NOTIFY while no other instance listens (its own runner is woken in-process), and does again once another listens', async () => {
    const a = await startOutboxApp(db, [Handled], { pollIntervalMs: 3_600_000 });
    apps.push(a);
    await waitFor('its listener connected', async () => (await listeners()) === 1);
    const handled = a.module.get(Handled);
    await a.outbox.transaction((tx) => a.outbox.enqueue(tx, 'ping', { n: 0 })); // before its first look has answered: notified
    await waitFor('job 0 handled', () => handled.at.has(0), 2_000, 2);
    heard.length = 0;
    const started = performance.now();
    for (let i = 1; i <= 50; i++) {
      await a.outbox.transaction((tx) => a.outbox.enqueue(tx, 'ping', { n: i }));
      await a.outbox.send('ping', { n: 100 + i });
    }
    const seconds = (performance.now() - started) / 1000;
    await waitFor('all 100 handled by its own runner, polling an hour apart', () => [...Array(50).keys()].every((i) => handled.at.has(i + 1) && handled.at.has(101 + i)), 5_000, 5);
    await sleep(100);
    // At most one NOTIFY for each RECHECK_MS (1 s) of enqueueing: the commit that finds the answer too old to trust looks again, and notifies.
    console.log(`alone: ${heard.length} NOTIFYs for 100 commits in ${seconds.toFixed(2)} s`);
    expect(heard.length).toBeLessThanOrEqual(Math.ceil(seconds / (RECHECK_MS / 1000)) + 1);

    // Another instance starts (its runner polling an hour apart too).
    const b = await startOutboxApp(db, [Handled], { pollIntervalMs: 3_600_000 });
    apps.push(b);
    await waitFor('two listeners', async () => (await listeners()) === 2);
    await sleep(RECHECK_MS + 100); // a's answer "alone" is too old by now: its next commit looks again, and notifies meanwhile
    heard.length = 0;
    for (let i = 0; i < 5; i++) await a.outbox.transaction((tx) => a.outbox.enqueue(tx, 'ping', { n: 200 + i }));
    await waitFor('a NOTIFY again', () => heard.length > 0);
    await sleep(200);
    expect(heard.length).toBeLessThanOrEqual(5); // spaced: commits within 5 ms of one share the next (announcer.ts)
    expect(heard.map((n) => n.payload)).toEqual(heard.map(() => heard[0].payload)); // a's token
  });

  it('a listener claims once more CATCH_UP_AFTER_MS after connecting (for the commits of an instance that believed itself alone), and keeps its process id for the look to leave out', async () => {
    let woken = 0;
    const pids = new Set<number>();
    const stop = await listenForWakeUps({ connectionString: db.url }, 'LISTEN "doctor_job"', () => woken++, { connected: () => undefined, lost: () => undefined }, undefined, pids);
    try {
      expect(woken).toBe(1); // at connecting
      const own = await db.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity WHERE "application_name" = 'doctor-job-listener' AND "datname" = current_database() AND pid = ANY($1::int[])`,
        [...pids],
      );
      expect(own).toHaveLength(1);
      await sleep(CATCH_UP_AFTER_MS / 2);
      expect(woken).toBe(1); // a timer never fires early
      await waitFor('the catch-up wake-up', () => woken === 2, CATCH_UP_AFTER_MS * 5);
    } finally {
      await stop();
    }
    expect(pids.size).toBe(0);
  });
});
