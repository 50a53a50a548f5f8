import { randomUUID } from 'node:crypto';
import type { JobStore, NewJob } from '../../lib/store/job-store.interface';
import type { TransactionClientLike } from '../../lib/store/prisma-client.interface';

/**
 * The store contract: one list of cases every JobStore must pass, whatever holds the jobs. State is
 * observed through JobStore methods only (listJobs, stats, listDeadLetters, getDeadLetter, claim),
 * and time passes through the harness, so an in-memory store with a manual clock can run it too.
 */

/** What a store needs to run the contract. */
export interface JobStoreHarness {
  /** The store under test (read again after each reset(): it may be a new instance). */
  readonly store: JobStore;
  /**
   * Runs `fn` in a transaction whose client `store.insert` writes through: committed when `fn`
   * resolves; rolled back, with the error rethrown, when it throws. Concurrent calls are concurrent transactions.
   */
  transaction<T>(fn: (tx: TransactionClientLike) => Promise<T>): Promise<T>;
  /** Lets `ms` pass on the store's clock (a database: sleep; an in-memory store: advance its clock). */
  elapse(ms: number): Promise<void>;
  /** Empties the queue, the dead letters and the cron schedule; runs before each case. */
  reset(): Promise<void>;
  /** Closes what the harness opened; runs after the last case. */
  dispose(): Promise<void>;
}

const job = (type = 'work', extra: Partial<NewJob> = {}): NewJob => ({ type, payload: '{"k":1}', maxAttempts: 3, priority: 0, ...extra });

class Rollback extends Error {}

/** Registers the contract's cases (with their beforeAll/beforeEach/afterAll) in the enclosing describe. */
export function jobStoreContract(createHarness: () => Promise<JobStoreHarness>): void {
  let h: JobStoreHarness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(() => h?.dispose());
  beforeEach(() => h.reset());

  const insert = (...jobs: NewJob[]) => h.transaction((tx) => h.store.insert(tx, jobs));
  const claim = (limit: number, leaseMs = 60_000, token: string = randomUUID(), excludeTypes?: string[]) =>
    h.store.claim({ limit, leaseMs, token, ...(excludeTypes ? { excludeTypes } : {}) });
  const ids = async (claimed: Promise<{ id: string }[]>) => (await claimed).map((j) => j.id);
  const pending = () => h.store.listJobs({ limit: 100 });

  it('leaves nothing behind when the transaction of an insert rolls back', async () => {
    const rolledBack = h.transaction(async (tx) => {
      await h.store.insert(tx, [job(), job('work', { dedupKey: 'once' }), job('keyed', { orderingKey: 'k' })]);
      throw new Rollback();
    });
    await expect(rolledBack).rejects.toBeInstanceOf(Rollback);
    expect(await pending()).toEqual([]);
    expect(await claim(10)).toEqual([]);
    // The dedup key was never held.
    const [id] = await insert(job('work', { dedupKey: 'once' }));
    expect((await pending()).map((j) => j.id)).toEqual([id]);
  });

  it('claims due jobs in batches, oldest first, each once while its lease runs', async () => {
    const inserted = await insert(job(), job(), job(), job(), job());
    const first = await claim(3);
    expect(first.map((j) => j.id)).toEqual(inserted.slice(0, 3));
    expect(first.every((j) => j.attempt === 1 && j.maxAttempts === 3 && j.type === 'work')).toBe(true);
    expect(first[0].payload).toEqual({ k: 1 });
    expect(await ids(claim(3))).toEqual(inserted.slice(3));
    expect(await claim(3)).toEqual([]);
  });

  it('claims higher priorities first, in due order within a priority', async () => {
    await insert(job('low', { priority: -5 }), job('n1'), job('high', { priority: 10 }), job('n2'));
    const order: string[] = [];
    for (let i = 0; i < 4; i++) order.push(...(await claim(1)).map((j) => j.type));
    expect(order).toEqual(['high', 'n1', 'n2', 'low']);
  });

  it('never claims jobs of the excluded types', async () => {
    const [a1, b, a2] = await insert(job('a'), job('b'), job('a'));
    expect(await ids(claim(10, 60_000, randomUUID(), ['a', 'c']))).toEqual([b]);
    expect(await ids(claim(10, 60_000, randomUUID(), []))).toEqual([a1, a2]);
  });

  it('makes a job due again when its lease ends, counting the attempt', async () => {
    const [id] = await insert(job());
    await claim(1, 1_000);
    expect(await claim(1)).toEqual([]);
    await h.elapse(1_200);
    expect(await claim(1)).toMatchObject([{ id, attempt: 2 }]);
  });

  it('claims a job whose lease ran out ahead of jobs enqueued after it', async () => {
    const [first] = await insert(job());
    await claim(1, 300); // its worker dies
    const later = await insert(job(), job());
    await h.elapse(450);
    expect(await ids(claim(1))).toEqual([first]);
    expect(await ids(claim(5))).toEqual(later);
  });

  it('extends a lease only for the token that holds it', async () => {
    const [id] = await insert(job());
    const token = randomUUID();
    await claim(1, 1_000, token);
    expect(await h.store.extend([id], randomUUID(), 60_000)).toEqual([]);
    expect(await h.store.extend([id], token, 60_000)).toEqual([id]);
    expect(await h.store.extend([], token, 60_000)).toEqual([]);
    await h.elapse(1_200);
    expect(await claim(1)).toEqual([]);
  });

  it('fences every write by the claim token: a worker whose lease ran out changes nothing', async () => {
    const [id] = await insert(job());
    const [a, b] = [randomUUID(), randomUUID()];
    await claim(1, 200, a);
    await h.elapse(350);
    expect(await claim(1, 60_000, b)).toMatchObject([{ id, attempt: 2 }]);

    // A finishes late, whatever its outcome: every write is refused.
    expect(await h.store.complete([{ id, token: a }])).toEqual(new Set([`${id}:${a}`]));
    if (h.store.completeUnderLease) expect(await h.store.completeUnderLease([{ id, token: a }])).toBe(0);
    expect(await h.store.retry(id, a, 0, { message: 'A failed late' })).toBe(false);
    expect(await h.store.deadLetter(id, a, { message: 'A gave up late' })).toBe(false);
    expect(await h.store.extend([id], a, 60_000)).toEqual([]);
    expect(await h.store.release([id], a)).toBe(0);

    expect(await pending()).toMatchObject([{ id, attempts: 2, claimed: true, lastError: null }]);
    expect(await h.store.listDeadLetters({ limit: 10 })).toEqual([]);
    expect(await h.store.extend([id], b, 60_000)).toEqual([id]); // B still holds it

    // B's result stands.
    expect(await h.store.complete([{ id, token: b }])).toEqual(new Set());
    expect(await pending()).toEqual([]);
  });

  it('completes a batch of claims at once, only where each claim still holds its job', async () => {
    const inserted = await insert(job(), job(), job());
    const token = randomUUID();
    await claim(3, 60_000, token);
    const stranger = randomUUID(); // a claim that lost its job
    const lost = await h.store.complete([
      { id: inserted[0], token },
      { id: inserted[1], token: stranger },
      { id: inserted[2], token },
    ]);
    expect(lost).toEqual(new Set([`${inserted[1]}:${stranger}`]));
    expect((await pending()).map((j) => j.id)).toEqual([inserted[1]]);
    expect(await h.store.complete([])).toEqual(new Set());
  });

  it('completeUnderLease (where the store has it) deletes the jobs the tokens hold and counts them', async () => {
    if (!h.store.completeUnderLease) return;
    const inserted = await insert(job(), job(), job());
    const [a, b] = [randomUUID(), randomUUID()];
    await claim(2, 60_000, a);
    await claim(1, 60_000, b);
    expect(await h.store.completeUnderLease([{ id: inserted[0], token: a }, { id: inserted[2], token: b }])).toBe(2);
    expect((await pending()).map((j) => j.id)).toEqual([inserted[1]]);
    expect(await h.store.completeUnderLease([])).toBe(0);
  });

  it('does not claim a delayed job (delayMs or runAt) before it is due', async () => {
    await insert(job('now'));
    // The store's clock, read through the store: a job inserted without a delay is due at its now.
    const [{ runAt: storeNow }] = await pending();
    await insert(job('delayed', { delayMs: 500 }), job('scheduled', { runAt: new Date(storeNow.getTime() + 500) }), job('past', { runAt: new Date(storeNow.getTime() - 60_000) }));
    expect((await claim(10)).map((j) => j.type).sort()).toEqual(['now', 'past']);
    await h.elapse(700);
    expect((await claim(10)).map((j) => j.type).sort()).toEqual(['delayed', 'scheduled']);
  });

  it('retry records the error and makes the job due again after the delay', async () => {
    const [id] = await insert(job());
    const token = randomUUID();
    await claim(1, 60_000, token);
    expect(await h.store.retry(id, token, 500, { message: 'not yet' })).toBe(true);
    expect(await pending()).toMatchObject([{ id, attempts: 1, claimed: false, lastError: 'not yet' }]);
    expect(await claim(1)).toEqual([]);
    await h.elapse(700);
    expect(await claim(1)).toMatchObject([{ id, attempt: 2 }]);
  });

  it('claims only the head of each ordering key; the next one once the head has left the queue', async () => {
    const [a1, a2, b1, u] = await insert(job('work', { orderingKey: 'a' }), job('work', { orderingKey: 'a' }), job('work', { orderingKey: 'b' }), job());
    const token = randomUUID();
    expect(await ids(claim(10, 60_000, token))).toEqual([a1, b1, u]);
    expect(await claim(10)).toEqual([]); // a2 waits while a1 runs
    // A retried head is still in the queue: it goes before a2.
    expect(await h.store.retry(a1, token, 0, { message: 'again' })).toBe(true);
    const retryToken = randomUUID();
    expect(await ids(claim(10, 60_000, retryToken))).toEqual([a1]);
    expect(await h.store.complete([{ id: a1, token: retryToken }])).toEqual(new Set());
    expect(await ids(claim(10))).toEqual([a2]);
  });

  it('dedup: a job whose key a queued job holds is not written and gets that job’s id; the key is free once the job has left', async () => {
    const batch = await insert(job('work', { dedupKey: 'k1', payload: '{"n":1}' }), job(), job('work', { dedupKey: 'k1', payload: '{"n":2}' }), job('work', { dedupKey: 'k2' }));
    expect(batch[2]).toBe(batch[0]);
    expect(new Set(batch).size).toBe(3);
    expect(await insert(job('work', { dedupKey: 'k1', payload: '{"n":3}' }))).toEqual([batch[0]]);
    const queued = await pending();
    expect(queued.map((j) => j.id)).toEqual([batch[0], batch[1], batch[3]]);
    expect(queued[0].payload).toEqual({ n: 1 });

    const token = randomUUID();
    await claim(10, 60_000, token);
    await h.store.complete(batch.map((id) => ({ id, token })));
    const [fresh] = await insert(job('work', { dedupKey: 'k1' }));
    expect(fresh).not.toBe(batch[0]);
  });

  it('dedup under concurrency: transactions inserting the same key at once write one job, and all get its id', async () => {
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        h.transaction(async (tx) => {
          const [id] = await h.store.insert(tx, [job('work', { dedupKey: 'report', payload: `{"n":${i}}` })]);
          await h.elapse(30); // stay open while the others insert
          return id;
        }),
      ),
    );
    const queued = await pending();
    expect(queued).toHaveLength(1);
    expect(results).toEqual(Array(5).fill(queued[0].id));
  });

  it('moves a dead-lettered job out of the queue with its error, attempts and payload; replay makes a new job due now with fresh attempts', async () => {
    const [id] = await insert(job('mail', { payload: '{"to":"a@b.c"}', maxAttempts: 4 }));
    const token = randomUUID();
    await claim(1, 60_000, token);
    expect(await h.store.deadLetter(id, token, { message: 'boom', stack: 'Error: boom\n    at handler' })).toBe(true);
    expect(await pending()).toEqual([]);

    const [letter] = await h.store.listDeadLetters({ limit: 10 });
    expect(letter).toMatchObject({ jobId: id, type: 'mail', payload: { to: 'a@b.c' }, attempts: 1, maxAttempts: 4, errorMessage: 'boom', errorStack: 'Error: boom\n    at handler' });
    expect(letter.createdAt).toBeInstanceOf(Date);
    expect(letter.failedAt).toBeInstanceOf(Date);
    expect(await h.store.getDeadLetter(letter.id)).toEqual(letter);
    expect((await h.store.stats()).deadLetters).toEqual([{ type: 'mail', count: 1 }]);

    const [replayed] = await h.store.replayDeadLetters([letter.id]);
    expect(replayed).not.toBe(id);
    expect(await h.store.getDeadLetter(letter.id)).toBeNull();
    expect(await h.store.listDeadLetters({ limit: 10 })).toEqual([]);
    expect(await pending()).toMatchObject([{ id: replayed, type: 'mail', payload: { to: 'a@b.c' }, attempts: 0, maxAttempts: 4, claimed: false }]);
    expect(await claim(1)).toMatchObject([{ id: replayed, attempt: 1, maxAttempts: 4 }]);
    expect(await h.store.replayDeadLetters([])).toEqual([]);
  });

  it('lists dead letters newest first, by type and page; deletes them', async () => {
    const inserted = await insert(job('a'), job('b'), job('a'));
    const token = randomUUID();
    await claim(3, 60_000, token);
    for (const id of inserted) await h.store.deadLetter(id, token, { message: `failed ${id}` });
    const all = await h.store.listDeadLetters({ limit: 10 });
    expect(all.map((l) => l.jobId)).toEqual([...inserted].reverse());
    expect((await h.store.listDeadLetters({ type: 'a', limit: 10 })).map((l) => l.jobId)).toEqual([inserted[2], inserted[0]]);
    expect((await h.store.listDeadLetters({ limit: 10, before: all[0].id })).map((l) => l.jobId)).toEqual([inserted[1], inserted[0]]);
    expect(await h.store.deleteDeadLetters([all[0].id, all[1].id])).toBe(2);
    expect(await h.store.deleteDeadLetters([])).toBe(0);
    expect((await h.store.listDeadLetters({ limit: 10 })).map((l) => l.jobId)).toEqual([inserted[0]]);
  });

  it('release gives jobs back without consuming their attempt, only for the token that holds them', async () => {
    const [id] = await insert(job());
    const token = randomUUID();
    expect(await claim(1, 60_000, token)).toMatchObject([{ id, attempt: 1 }]);
    expect(await h.store.release([id], randomUUID())).toBe(0);
    expect(await h.store.release([id], token)).toBe(1);
    expect(await h.store.release([], token)).toBe(0);
    expect(await pending()).toMatchObject([{ id, attempts: 0, claimed: false }]);
    expect(await claim(1)).toMatchObject([{ id, attempt: 1 }]);
  });

  it('stats count due, running and scheduled jobs per type', async () => {
    await insert(job('a'), job('a'), job('a', { delayMs: 60_000 }), job('b'));
    await claim(1, 60_000, randomUUID(), ['b']);
    const { types } = await h.store.stats();
    expect(types).toMatchObject([
      { type: 'a', due: 1, running: 1, total: 3 },
      { type: 'b', due: 1, running: 0, total: 1 },
    ]);
    expect(types.every((t) => t.oldestDueAgeMs >= 0)).toBe(true);
  });

  it.each([10, -10])('compares times on the store’s clock: Node’s clock %i minutes off changes nothing', async (minutes) => {
    // Only Date is faked (Date.now and new Date()); timers and I/O run as usual.
    jest.useFakeTimers({
      now: Date.now() + minutes * 60_000,
      advanceTimers: true,
      doNotFake: ['hrtime', 'nextTick', 'performance', 'queueMicrotask', 'setImmediate', 'clearImmediate', 'setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'],
    });
    try {
      await insert(job('later', { delayMs: 60_000 }), job('now'));
      expect((await claim(10)).map((j) => j.type)).toEqual(['now']);
      expect(await claim(10)).toEqual([]);
    } finally {
      jest.useRealTimers();
    }
  });

  it('a cron tick is enqueued once: by the first claimTick of a tick later than the last one', async () => {
    const [t0, t1, t2] = ['2026-03-01T10:00:00.000Z', '2026-03-01T10:01:00.000Z', '2026-03-01T10:02:00.000Z'].map((iso) => new Date(iso));
    const tickJob = job('tick', { payload: '{}' });
    expect(await h.store.lastTick('tick')).toBeNull();
    expect(await h.store.lastTick('tick', t0)).toEqual(t0);
    expect(await h.store.lastTick('tick', t1)).toEqual(t0); // init only when there is none

    const id = await h.store.claimTick('tick', t1, tickJob);
    expect(id).toEqual(expect.any(String));
    expect(await h.store.claimTick('tick', t1, tickJob)).toBeNull();
    expect(await h.store.claimTick('tick', t0, tickJob)).toBeNull();
    expect(await h.store.lastTick('tick')).toEqual(t1);
    expect(await pending()).toMatchObject([{ id, type: 'tick', attempts: 0 }]);
    expect(await claim(1)).toMatchObject([{ id, type: 'tick' }]);

    // A type never seen before: its first tick is taken too.
    expect(await h.store.claimTick('other', t2, job('other'))).toEqual(expect.any(String));
    expect(await h.store.lastTick('other')).toEqual(t2);
  });

  it('keeps the trace context of an insert (one job, keyed, a batch, deduplicated) through claims, retries, the dead letters and a replay; untraced jobs and cron ticks have none', async () => {
    const parent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const withState = `${parent} vendor=opaque,other=x`;
    const [one] = await insert(job('t', { traceContext: parent }));
    const [keyed] = await insert(job('t', { traceContext: withState, orderingKey: 'k' }));
    const [plain] = await insert(job('t'));
    const [first, untraced, deduplicated] = await insert(job('t', { traceContext: withState }), job('t'), job('t', { traceContext: parent, dedupKey: 'd' }));
    const tick = await h.store.claimTick('tick', new Date('2026-03-01T10:00:00.000Z'), job('tick', { payload: '{}' }));
    const token = randomUUID();
    const claimed = new Map((await claim(10, 60_000, token)).map((j) => [j.id, j.traceContext ?? null]));
    expect(Object.fromEntries(claimed)).toEqual({
      [one]: parent,
      [keyed]: withState,
      [plain]: null,
      [first]: withState,
      [untraced]: null,
      [deduplicated]: parent,
      [tick!]: null,
    });

    expect(await h.store.retry(first, token, 0, { message: 'again' })).toBe(true);
    const retryToken = randomUUID();
    expect(await claim(10, 60_000, retryToken)).toMatchObject([{ id: first, attempt: 2, traceContext: withState }]);
    expect(await h.store.deadLetter(first, retryToken, { message: 'dead' })).toBe(true);
    const [letter] = await h.store.listDeadLetters({ limit: 10 });
    const [replayed] = await h.store.replayDeadLetters([letter.id]);
    expect(await claim(10)).toMatchObject([{ id: replayed, attempt: 1, traceContext: withState }]);
  });
}
