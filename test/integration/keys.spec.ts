import { Injectable } from '@nestjs/common';
import { JobHandler, type JobContext } from 'doctor-job';
import { createPrismaClient } from '../../sample/database/prisma.service';
import { createTestDatabase, describePostgres, eachDialect, type TestDatabase } from '../support/databases';
import { startOutboxApp, type OutboxApp } from '../support/outbox-app';
import { sleep, waitFor } from '../support/wait';

interface Run {
  key: string | null;
  seq: number;
  start: number;
  end: number;
  attempt: number;
}

/** Records every run; 'ordered' sleeps a random 0-20 ms, and fails the first attempt of payloads marked `failOnce`. */
@Injectable()
class KeyedJobs {
  static runs: Run[] = [];

  @JobHandler('ordered', { maxAttempts: 5, backoff: { baseMs: 30, maxMs: 30, jitter: 0 } })
  async ordered(payload: { key: string | null; seq: number; failOnce?: boolean }, job: JobContext) {
    const start = Date.now();
    await sleep(Math.random() * 20);
    KeyedJobs.runs.push({ key: payload.key, seq: payload.seq, start, end: Date.now(), attempt: job.attempt });
    if (payload.failOnce && job.attempt === 1) throw new Error('fails once');
  }
}

/** For each key, the successful runs in the order they started; checks they never overlapped. */
function sequences(runs: Run[]): Map<string, number[]> {
  const byKey = new Map<string, Run[]>();
  for (const run of runs) if (run.key) byKey.set(run.key, [...(byKey.get(run.key) ?? []), run]);
  const result = new Map<string, number[]>();
  for (const [key, list] of byKey) {
    list.sort((a, b) => a.start - b.start);
    for (let i = 1; i < list.length; i++) expect(list[i].start).toBeGreaterThanOrEqual(list[i - 1].end);
    result.set(key, list.map((r) => r.seq));
  }
  return result;
}

// The store's own cases for both keys (per-key heads, dedup in a batch and under concurrency) are
// in the store contract, job-store.contract.spec.ts. Here: the runner and the enqueue API with them.
eachDialect('ordering keys and dedup keys', (dialect) => {
  let db: TestDatabase;
  let app: OutboxApp;

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
  });
  afterAll(() => db?.dispose());
  beforeEach(async () => {
    await db.execute('DELETE FROM "doctor_job"');
    KeyedJobs.runs = [];
    app = await startOutboxApp(db, [KeyedJobs], { autoStart: false, concurrency: 10, batchSize: 10 });
  });
  afterEach(() => app.close());

  const enqueue = (jobs: { key: string | null; seq: number; failOnce?: boolean }[]) =>
    app.outbox.transaction((tx) =>
      app.outbox.enqueueMany(tx, jobs.map((payload) => ({ type: 'ordered', payload, ...(payload.key ? { orderingKey: payload.key } : {}) }))),
    );

  it('runs the jobs of a key one at a time in enqueue order; a failing job holds the later ones until it succeeds', async () => {
    await enqueue([
      { key: 'k', seq: 1 },
      { key: 'k', seq: 2, failOnce: true },
      { key: 'k', seq: 3 },
      { key: 'k', seq: 4 },
      { key: null, seq: 0 },
      { key: 'other', seq: 1 },
    ]);
    app.runner.start();
    await waitFor('all done', async () => (await db.countJobs()) === 0, 15_000);
    const k = KeyedJobs.runs.filter((r) => r.key === 'k').sort((a, b) => a.start - b.start);
    expect(k.map((r) => `${r.seq}#${r.attempt}`)).toEqual(['1#1', '2#1', '2#2', '3#1', '4#1']);
    sequences(KeyedJobs.runs);
    // The unkeyed job and the other key did not wait for k's retry.
    const retry = k.find((r) => r.seq === 2 && r.attempt === 2)!;
    for (const free of KeyedJobs.runs.filter((r) => r.key !== 'k')) expect(free.start).toBeLessThan(retry.start);
  });

  it('lets the next job of a key run once the failing one is dead-lettered', async () => {
    const [first] = await app.outbox.transaction((tx) =>
      app.outbox.enqueueMany(tx, [
        { type: 'ordered', payload: { key: 'd', seq: 1, failOnce: true }, orderingKey: 'd', maxAttempts: 1 },
        { type: 'ordered', payload: { key: 'd', seq: 2 }, orderingKey: 'd' },
      ]),
    );
    app.runner.start();
    await waitFor('done', async () => (await db.countJobs()) === 0 && (await db.countDeadLetters()) >= 1, 10_000);
    expect(KeyedJobs.runs.map((r) => r.seq)).toEqual([1, 2]);
    const letters = (await app.deadLetters.list({ type: 'ordered' })).items;
    expect(letters.some((l) => l.jobId === first)).toBe(true);
  });

  it('dedup: while a job with the key is in the queue, enqueue writes nothing and returns its id', async () => {
    const first = await app.outbox.transaction((tx) => app.outbox.enqueue(tx, 'ordered', { key: null, seq: 1 }, { dedupKey: 'invoice-7' }));
    const again = await app.outbox.transaction((tx) => app.outbox.enqueue(tx, 'ordered', { key: null, seq: 2 }, { dedupKey: 'invoice-7' }));
    expect(again).toBe(first);
    expect(await db.countJobs()).toBe(1);

    const ids = await app.outbox.transaction((tx) =>
      app.outbox.enqueueMany(tx, [
        { type: 'ordered', payload: { key: null, seq: 3 } },
        { type: 'ordered', payload: { key: null, seq: 4 }, dedupKey: 'invoice-7' },
        { type: 'ordered', payload: { key: null, seq: 5 }, dedupKey: 'invoice-8' },
        { type: 'ordered', payload: { key: null, seq: 6 }, dedupKey: 'invoice-8' },
        { type: 'ordered', payload: { key: null, seq: 7 } },
      ]),
    );
    expect(ids[1]).toBe(first);
    expect(ids[3]).toBe(ids[2]);
    expect(new Set(ids).size).toBe(4);
    expect(Number(ids[0])).toBeLessThan(Number(ids[4]));
    const rows = await db.query<{ id: unknown; payload: unknown }>('SELECT "id", "payload" FROM "doctor_job" ORDER BY "id"');
    const seqOf = (id: string) => {
      const row = rows.find((r) => String(r.id) === id)!;
      return (typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload).seq;
    };
    expect(ids.map(seqOf)).toEqual([3, 1, 5, 5, 7]);

    // Once the job has left the queue, the key is free again.
    app.runner.start();
    await waitFor('drained', async () => (await db.countJobs()) === 0);
    const fresh = await app.outbox.transaction((tx) => app.outbox.enqueue(tx, 'ordered', { key: null, seq: 8 }, { dedupKey: 'invoice-7' }));
    expect(fresh).not.toBe(first);
  });
});

describePostgres('ordering and dedup keys under concurrency (PostgreSQL)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('postgresql');
  });
  afterAll(() => db?.dispose());

  it('three instances, 5 keys × 20 jobs with random handler delays: each key strictly in order, never two at once', async () => {
    KeyedJobs.runs = [];
    const clients = await Promise.all([0, 1].map(() => createPrismaClient(db.url)));
    const apps = [
      await startOutboxApp(db, [KeyedJobs], { concurrency: 8, batchSize: 8, pollIntervalMs: 20 }),
      ...(await Promise.all(clients.map((prisma) => startOutboxApp({ ...db, prisma }, [KeyedJobs], { concurrency: 8, batchSize: 8, pollIntervalMs: 20 })))),
    ];
    try {
      const jobs: { type: string; payload: unknown; orderingKey?: string }[] = [];
      for (let seq = 1; seq <= 20; seq++) {
        for (const key of ['k1', 'k2', 'k3', 'k4', 'k5']) jobs.push({ type: 'ordered', payload: { key, seq, failOnce: seq % 7 === 0 }, orderingKey: key });
        jobs.push({ type: 'ordered', payload: { key: null, seq } });
      }
      // Enqueued in several transactions, as events of aggregates would be.
      for (let i = 0; i < jobs.length; i += 12) {
        await apps[i % 3].outbox.transaction((tx) => apps[i % 3].outbox.enqueueMany(tx, jobs.slice(i, i + 12)));
      }
      await waitFor('all done', async () => (await db.countJobs()) === 0, 60_000, 50);
      const seqs = sequences(KeyedJobs.runs.filter((r) => !(r.seq % 7 === 0 && r.attempt === 1)));
      for (const key of ['k1', 'k2', 'k3', 'k4', 'k5']) expect(seqs.get(key)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    } finally {
      await Promise.all(apps.map((app) => app.close()));
      await Promise.all(clients.map((client) => client.$disconnect()));
    }
  });

  it('50 concurrent transactions enqueue the same dedup key, 49 roll back: exactly one job, never zero', async () => {
    KeyedJobs.runs = [];
    const app = await startOutboxApp(db, [KeyedJobs], { autoStart: false });
    try {
      for (let round = 0; round < 3; round++) {
        await db.execute('DELETE FROM "doctor_job"');
        const committer = Math.floor(Math.random() * 50);
        const outcomes = await Promise.allSettled(
          Array.from({ length: 50 }, (_, i) =>
            app.outbox.transaction(
              async (tx) => {
                const id = await app.outbox.enqueue(tx, 'ordered', { key: null, seq: i }, { dedupKey: `report-${round}` });
                await sleep(Math.random() * 30);
                if (i !== committer) throw new Error('rolled back');
                return id;
              },
              { maxWait: 30_000, timeout: 30_000 },
            ),
          ),
        );
        const committed = outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [{ i, id: o.value }] : []));
        expect(committed.map((c) => c.i)).toEqual([committer]);
        const rows = await db.query<{ id: string; payload: { seq: number } }>('SELECT "id"::text AS id, "payload" FROM "doctor_job"');
        expect(rows).toHaveLength(1);
        expect(rows[0].id).toBe(committed[0].id);
        expect(rows[0].payload.seq).toBe(committer);
      }
    } finally {
      await app.close();
    }
  });
});
