import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { JobHandler } from 'doctor-job';
import { createJobStore } from '../../lib/store/create-job-store';
import type { JobStore } from '../../lib/store/job-store.interface';
import { createTestDatabase, eachDialect, type TestDatabase } from '../support/databases';
import { startOutboxApp } from '../support/outbox-app';
import { sleep, waitFor } from '../support/wait';

const job = (type = 'work', extra = {}) => ({ type, payload: '{"k":1}', maxAttempts: 3, priority: 0, ...extra });

// On PostgreSQL the runner's statements go through a pg pool of the store's own by default, or
// through the Prisma client (runnerPool: false): both paths run the whole suite.
eachDialect('claims, leases and fencing', (dialect) => {
  const paths = dialect === 'postgresql' ? (['runner pool', 'Prisma client'] as const) : (['Prisma client'] as const);
  describe.each(paths)('runner statements through the %s', (path) => {
    let db: TestDatabase;
    let store: JobStore;

    beforeAll(async () => {
      db = await createTestDatabase(dialect);
      store = createJobStore(dialect, db.prisma, { notify: false, runnerPool: path === 'runner pool' ? { connectionString: db.url, max: 2 } : false });
    });
    afterAll(async () => {
      await store?.close?.();
      await db?.dispose();
    });
    beforeEach(() => db.execute('DELETE FROM "doctor_job"'));

    const insert = (...jobs: ReturnType<typeof job>[]) => db.prisma.$transaction((tx) => store.insert(tx, jobs));

    it('claims due jobs in batches, oldest first, each once while its lease runs', async () => {
      const ids = await insert(job(), job(), job(), job(), job());
      const first = await store.claim({ limit: 3, leaseMs: 60_000, token: randomUUID() });
      expect(first.map((j) => j.id)).toEqual(ids.slice(0, 3));
      expect(first.every((j) => j.attempt === 1 && j.maxAttempts === 3)).toBe(true);
      const second = await store.claim({ limit: 3, leaseMs: 60_000, token: randomUUID() });
      expect(second.map((j) => j.id)).toEqual(ids.slice(3));
      expect(await store.claim({ limit: 3, leaseMs: 60_000, token: randomUUID() })).toEqual([]);
    });

    it('makes a job due again when its lease ends, counting the attempt', async () => {
      const [id] = await insert(job());
      await store.claim({ limit: 1, leaseMs: 1_000, token: randomUUID() });
      expect(await store.claim({ limit: 1, leaseMs: 1_000, token: randomUUID() })).toEqual([]);
      await sleep(1_200);
      const [again] = await store.claim({ limit: 1, leaseMs: 1_000, token: randomUUID() });
      expect(again).toMatchObject({ id, attempt: 2 });
    });

    it('claims a job whose lease ran out ahead of jobs enqueued after it', async () => {
      const [first] = await insert(job());
      await store.claim({ limit: 1, leaseMs: 300, token: randomUUID() }); // its worker dies
      const later = await insert(job(), job());
      await sleep(450);
      const claimed = await store.claim({ limit: 1, leaseMs: 60_000, token: randomUUID() });
      expect(claimed.map((j) => j.id)).toEqual([first]);
      expect((await store.claim({ limit: 5, leaseMs: 60_000, token: randomUUID() })).map((j) => j.id)).toEqual(later);
    });

    it('completes a batch of claims in one statement, only where each claim still holds', async () => {
      const ids = await insert(job(), job(), job());
      const token = randomUUID();
      await store.claim({ limit: 3, leaseMs: 60_000, token });
      const stranger = randomUUID(); // a claim that lost its job
      const lost = await store.complete([
        { id: ids[0], token },
        { id: ids[1], token: stranger },
        { id: ids[2], token },
      ]);
      expect(lost).toEqual(new Set([`${ids[1]}:${stranger}`]));
      expect(await db.countJobs()).toBe(1);
    });

    it('claims higher priorities first, in due order within a priority', async () => {
      await insert(job('low', { priority: -5 }), job('n1'), job('high', { priority: 10 }), job('n2'));
      const order: string[] = [];
      for (let i = 0; i < 4; i++) order.push(...(await store.claim({ limit: 1, leaseMs: 60_000, token: randomUUID() })).map((j) => j.type));
      expect(order).toEqual(['high', 'n1', 'n2', 'low']);
    });

    it('extends a lease only for the token that holds it', async () => {
      const [id] = await insert(job());
      const token = randomUUID();
      await store.claim({ limit: 1, leaseMs: 1_000, token });
      expect(await store.extend([id], randomUUID(), 60_000)).toEqual([]);
      expect(await store.extend([id], token, 60_000)).toEqual([id]);
      await sleep(1_200);
      expect(await store.claim({ limit: 1, leaseMs: 1_000, token: randomUUID() })).toEqual([]);
    });

    it('fences every settle by the claim token: a worker whose lease expired changes nothing', async () => {
      const [id] = await insert(job());
      const tokenA = randomUUID();
      const tokenB = randomUUID();
      await store.claim({ limit: 1, leaseMs: 200, token: tokenA });
      await sleep(350);
      const [claimedByB] = await store.claim({ limit: 1, leaseMs: 60_000, token: tokenB });
      expect(claimedByB).toMatchObject({ id, attempt: 2 });

      // A finishes late, whatever its outcome: every write is refused.
      expect(await store.complete([{ id, token: tokenA }])).toEqual(new Set([`${id}:${tokenA}`]));
      expect(await store.retry(id, tokenA, 0, { message: 'A failed late' })).toBe(false);
      expect(await store.deadLetter(id, tokenA, { message: 'A gave up late' })).toBe(false);
      expect(await store.release([id], tokenA)).toBe(0);

      const [row] = await db.query<{ attempts: unknown; claim_token: unknown; last_error: unknown }>(
        'SELECT "attempts", "claim_token", "last_error" FROM "doctor_job" WHERE "id" = $1',
        dialect === 'postgresql' ? BigInt(id) : Number(id),
      );
      expect([Number(row.attempts), String(row.claim_token), row.last_error]).toEqual([2, tokenB, null]);
      expect(await db.countDeadLetters()).toBe(0);

      // B's result stands.
      expect(await store.complete([{ id, token: tokenB }])).toEqual(new Set());
      expect(await db.countJobs()).toBe(0);
    });

    it.each([10, -10])('compares times on the database clock: Node’s clock %i minutes off changes nothing', async (minutes) => {
      // Only Date is faked (Date.now and new Date()); timers and I/O run as usual.
      jest.useFakeTimers({
        now: Date.now() + minutes * 60_000,
        advanceTimers: true,
        doNotFake: ['hrtime', 'nextTick', 'performance', 'queueMicrotask', 'setImmediate', 'clearImmediate', 'setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'],
      });
      try {
        await insert(job('later', { delayMs: 60_000 }), job('now'));
        const token = randomUUID();
        const claimed = await store.claim({ limit: 10, leaseMs: 60_000, token });
        expect(claimed.map((j) => j.type)).toEqual(['now']);
        expect(await store.claim({ limit: 10, leaseMs: 60_000, token: randomUUID() })).toEqual([]);
      } finally {
        jest.useRealTimers();
      }
    });

    it('dead-letters a job whose lease ran out during its last attempt instead of running it again', async () => {
      @Injectable()
      class Work {
        runs = 0;
        @JobHandler('work', { maxAttempts: 3 })
        run() {
          this.runs++;
        }
      }
      const [id] = await insert(job());
      // Three claims whose workers "died": the lease of the last one runs out.
      for (let i = 0; i < 3; i++) {
        await store.claim({ limit: 1, leaseMs: 1, token: randomUUID() });
        await sleep(20);
      }
      const app = await startOutboxApp(db, [Work]);
      try {
        await waitFor('dead-lettered', async () => (await db.countDeadLetters()) === 1);
        const [letter] = (await app.deadLetters.list()).items;
        expect(letter).toMatchObject({ jobId: id, attempts: 4, maxAttempts: 3 });
        expect(letter.errorMessage).toContain("The job's lease expired during its last allowed attempt (3)");
        expect(app.module.get(Work).runs).toBe(0);
      } finally {
        await app.close();
      }
    });
  });
});
