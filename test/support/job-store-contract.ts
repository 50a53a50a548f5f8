import { randomUUID } from 'node:crypto';
import { claimToken } from '../../lib/store/claim-token';
import type { DeadLetterFilter, DeadLetterReason, JobStore, NewJob } from '../../lib/store/job-store.interface';
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

  it('send writes one job outside any transaction: in the queue once it resolves, with its options', async () => {
    const id = await h.store.send(job('sent', { priority: 2, maxAttempts: 4 }));
    expect(await pending()).toMatchObject([{ id, type: 'sent', payload: { k: 1 }, maxAttempts: 4 }]);
    const later = await h.store.send(job('later', { delayMs: 600_000 }));
    expect(await claim(10)).toMatchObject([{ id, type: 'sent', attempt: 1, maxAttempts: 4 }]);
    expect((await pending()).map((j) => j.id)).toEqual([id, later]);
  });

  it('send of a dedup key held by a queued job (sent or inserted) writes nothing and returns that job’s id', async () => {
    const [inserted] = await insert(job('work', { dedupKey: 'a' }));
    const sent = await h.store.send(job('work', { dedupKey: 'b' }));
    expect(await h.store.send(job('work', { dedupKey: 'a' }))).toBe(inserted);
    expect(await h.store.send(job('work', { dedupKey: 'b' }))).toBe(sent);
    expect(await insert(job('work', { dedupKey: 'b' }))).toEqual([sent]);
    expect((await pending()).map((j) => j.id)).toEqual([inserted, sent]);
  });

  it('jobs sent with one ordering key are claimed one at a time, in send order', async () => {
    const sent = [await h.store.send(job('k', { orderingKey: 'key' })), await h.store.send(job('k', { orderingKey: 'key' })), await h.store.send(job('free'))];
    const token = randomUUID();
    expect(await ids(claim(10, 60_000, token))).toEqual([sent[0], sent[2]]);
    expect(await claim(10)).toEqual([]);
    await h.store.complete([{ id: sent[0], token }]);
    expect(await ids(claim(10))).toEqual([sent[1]]);
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
  // ---- the operator's console ----

  it('findJobs lists queued jobs by state (due, scheduled, running with its holder), type and keys, a page at a time; getJob shows one in full', async () => {
    const [due, scheduled, keyed] = await insert(
      job('a', { payload: '{"n":1}' }),
      job('b', { delayMs: 60_000 }),
      job('c', { orderingKey: 'ok-1', dedupKey: 'dk-1', priority: 5, payload: '{"n":3}' }),
    );
    // A runner's claim token names its instance (registered) and the time it claimed, on its clock: here the store's.
    const claimedAt = (await pending())[0].createdAt;
    await h.store.registerInstance('a1b2c3d4', 'host-1:42:a1b2c3d4');
    await h.store.claim({ limit: 1, leaseMs: 60_000, token: claimToken('a1b2c3d4', claimedAt.getTime()) }); // c: priority 5
    const all = await h.store.findJobs({ limit: 10 });
    expect(all.map((j) => [j.id, j.type, j.state])).toEqual([
      [due, 'a', 'due'],
      [scheduled, 'b', 'scheduled'],
      [keyed, 'c', 'running'],
    ]);
    const running = all[2];
    expect(running).toMatchObject({ attempts: 1, maxAttempts: 3, priority: 5, orderingKey: 'ok-1', dedupKey: 'dk-1', lockedBy: 'host-1:42:a1b2c3d4', lastError: null, replayOf: null });
    expect(running.claimedAt).toEqual(claimedAt);
    expect(running.lockedUntil!.getTime() - claimedAt.getTime()).toBeGreaterThanOrEqual(59_000);
    expect(all[0]).toMatchObject({ lockedBy: null, claimedAt: null, lockedUntil: null, orderingKey: null, dedupKey: null });
    expect(all[1].runAt.getTime() - all[1].createdAt.getTime()).toBeGreaterThanOrEqual(59_000);

    const ids = async (query: Partial<Parameters<JobStore['findJobs']>[0]>) => (await h.store.findJobs({ limit: 10, ...query })).map((j) => j.id);
    expect(await ids({ state: 'due' })).toEqual([due]);
    expect(await ids({ state: 'scheduled' })).toEqual([scheduled]);
    expect(await ids({ state: 'running' })).toEqual([keyed]);
    expect(await ids({ type: 'b' })).toEqual([scheduled]);
    expect(await ids({ orderingKey: 'ok-1' })).toEqual([keyed]);
    expect(await ids({ dedupKey: 'dk-1', state: 'running' })).toEqual([keyed]);
    expect(await ids({ dedupKey: 'dk-1', state: 'due' })).toEqual([]);
    expect(await ids({ limit: 2 })).toEqual([due, scheduled]);
    expect(await ids({ limit: 2, after: scheduled })).toEqual([keyed]);

    const full = await h.store.getJob(keyed);
    expect(full).toMatchObject({ ...running, payload: { n: 3 } });
    expect(await h.store.getJob('999999')).toBeNull();
  });

  it('names a running job’s holder from its claim token while the instance is registered; a token of another shape names none', async () => {
    const [named, plain] = await insert(job('n'), job('p'));
    const at = (await pending())[0].createdAt;
    await h.store.registerInstance('0badcafe', 'worker-7:99:0badcafe');
    await h.store.claim({ limit: 1, leaseMs: 60_000, token: claimToken('0badcafe', at.getTime()) });
    await claim(1); // a plain random UUID
    const holders = async () => (await h.store.findJobs({ limit: 10, state: 'running' })).map((j) => [j.id, j.lockedBy, j.claimedAt?.getTime() ?? null]);
    expect(await holders()).toEqual([
      [named, 'worker-7:99:0badcafe', at.getTime()],
      [plain, null, null],
    ]);
    await h.store.registerInstance('0badcafe', 'worker-7:99:0badcafe'); // seen again: kept
    expect(await h.store.pruneInstances(60_000)).toBe(0);
    await h.elapse(100);
    expect(await h.store.pruneInstances(50)).toBe(1); // gone: its jobs show no holder, the claim time stays
    expect(await holders()).toEqual([
      [named, null, at.getTime()],
      [plain, null, null],
    ]);
  });

  it('keeps every failed attempt with the job, its dead letter and its replays; deleting the dead letter deletes its history', async () => {
    const [id] = await insert(job('mail', { maxAttempts: 3 }));
    const fail = async (message: string, settle: 'retry' | 'dead', reason?: DeadLetterReason) => {
      const token = randomUUID();
      const [claimed] = await claim(1, 60_000, token);
      if (settle === 'retry') expect(await h.store.retry(claimed.id, token, 0, { message, stack: `Error: ${message}\n    at handler` })).toBe(true);
      else expect(await h.store.deadLetter(claimed.id, token, { message }, reason)).toBe(true);
      return claimed.id;
    };
    await fail('one', 'retry');
    expect(await h.store.listAttempts(id)).toMatchObject([{ jobId: id, attempt: 1, errorMessage: 'one', errorStack: 'Error: one\n    at handler' }]);
    await fail('two', 'retry');
    await fail('three', 'dead');
    const history = await h.store.listAttempts(id);
    expect(history.map((a) => [a.jobId, a.attempt, a.errorMessage])).toEqual([
      [id, 1, 'one'],
      [id, 2, 'two'],
      [id, 3, 'three'],
    ]);
    expect(history.every((a) => a.failedAt instanceof Date)).toBe(true);
    const [letter] = await h.store.listDeadLetters({ limit: 10 });
    expect(letter).toMatchObject({ jobId: id, reason: 'failed', replayOf: null, attempts: 3, errorMessage: 'three' });

    // Replayed: the new job carries the history, and a second dead letter adds to it.
    const [replayed] = await h.store.replayDeadLetters([letter.id]);
    expect(await h.store.getJob(replayed)).toMatchObject({ replayOf: id, attempts: 0 });
    expect(await h.store.listAttempts(replayed)).toEqual(history);
    expect(await h.store.listAttempts(id)).toEqual([]);
    expect(await fail('four', 'dead', 'non-retryable')).toBe(replayed);
    const [again] = await h.store.listDeadLetters({ limit: 10 });
    expect(again).toMatchObject({ jobId: replayed, reason: 'non-retryable', replayOf: id, attempts: 1 });
    expect((await h.store.listAttempts(replayed)).map((a) => [a.jobId, a.attempt, a.errorMessage])).toEqual([
      [id, 1, 'one'],
      [id, 2, 'two'],
      [id, 3, 'three'],
      [replayed, 1, 'four'],
    ]);

    expect(await h.store.deleteDeadLetters([again.id])).toBe(1);
    expect(await h.store.listAttempts(replayed)).toEqual([]);
  });

  it('cancels queued jobs all or nothing: a running or unknown id changes nothing; cancelled jobs become dead letters with reason cancelled', async () => {
    const [a, b, c] = await insert(job('a'), job('b', { delayMs: 60_000 }), job('c'));
    await claim(1, 300); // a runs
    const queued = async () => (await h.store.findJobs({ limit: 10 })).map((j) => j.id);

    expect(await h.store.cancelJobs([b, a], 'no')).toEqual({ done: [], unchanged: [], running: [a], missing: [] });
    expect(await h.store.cancelJobs([b, '999999'], 'no')).toEqual({ done: [], unchanged: [], running: [], missing: ['999999'] });
    expect(await queued()).toEqual([a, b, c]);
    expect(await h.store.listDeadLetters({ limit: 10 })).toEqual([]);

    expect(await h.store.cancelJobs([c, b, c], 'Cancelled by a test')).toEqual({ done: [b, c], unchanged: [], running: [], missing: [] });
    expect(await queued()).toEqual([a]);
    const letters = await h.store.listDeadLetters({ limit: 10 });
    expect(letters.map((l) => [l.jobId, l.type, l.reason, l.errorMessage, l.attempts])).toEqual([
      [c, 'c', 'cancelled', 'Cancelled by a test', 0],
      [b, 'b', 'cancelled', 'Cancelled by a test', 0],
    ]);
    expect(await h.store.countDeadLetters({ reason: 'cancelled' })).toBe(2);

    await h.elapse(450); // a's worker died: its lease ran out, so it can be cancelled
    expect(await h.store.cancelJobs([a], 'gone')).toMatchObject({ done: [a], running: [] });
    expect(await h.store.cancelJobs([], 'nothing')).toEqual({ done: [], unchanged: [], running: [], missing: [] });
    expect(await queued()).toEqual([]);
  });

  it('runJobsNow makes scheduled jobs (delayed, or waiting to retry) due now, all or nothing; due jobs stay as they are', async () => {
    const [delayed, due, retrying, running] = await insert(job('d', { delayMs: 60_000 }), job('n'), job('r'), job('x', { delayMs: 60_000 }));
    const token = randomUUID();
    expect(await ids(claim(1, 60_000, token))).toEqual([due]);
    expect(await h.store.release([due], token)).toBe(1);
    const retryToken = randomUUID();
    expect(await ids(claim(2, 60_000, retryToken))).toEqual([due, retrying]);
    expect(await h.store.retry(retrying, retryToken, 60_000, { message: 'later' })).toBe(true);
    expect(await h.store.release([due], retryToken)).toBe(1);
    expect(await h.store.runJobsNow([running, '999999'])).toEqual({ done: [], unchanged: [], running: [], missing: ['999999'] });

    expect(await h.store.runJobsNow([retrying, delayed, due])).toEqual({ done: [delayed, retrying], unchanged: [due], running: [], missing: [] });
    expect((await h.store.findJobs({ limit: 10, state: 'due' })).map((j) => j.id)).toEqual([delayed, due, retrying]);
    const claimed = await claim(10, 60_000);
    expect(claimed.map((j) => j.id)).toEqual([delayed, due, retrying]);
    expect(await h.store.runJobsNow([running, delayed])).toEqual({ done: [], unchanged: [], running: [delayed], missing: [] });
    expect((await h.store.findJobs({ limit: 10, state: 'scheduled' })).map((j) => j.id)).toEqual([running]);
  });

  it('counts, lists, replays and deletes dead letters by filter: type, reason, failed before and after', async () => {
    const [a1, a2, b1] = await insert(job('a'), job('a'), job('b'));
    const token = randomUUID();
    await claim(3, 60_000, token);
    expect(await h.store.deadLetter(a1, token, { message: 'a1' })).toBe(true);
    await h.elapse(50);
    expect(await h.store.deadLetter(a2, token, { message: 'a2' }, 'no-handler')).toBe(true);
    await h.elapse(50);
    expect(await h.store.deadLetter(b1, token, { message: 'b1' })).toBe(true);
    const [l3, l2, l1] = await h.store.listDeadLetters({ limit: 10 });
    expect([l1.jobId, l2.jobId, l3.jobId]).toEqual([a1, a2, b1]);
    expect(l1.failedAt.getTime()).toBeLessThan(l2.failedAt.getTime());

    const count = (filter: DeadLetterFilter) => h.store.countDeadLetters(filter);
    expect(await count({})).toBe(3);
    expect(await count({ type: 'a' })).toBe(2);
    expect(await count({ reason: 'no-handler' })).toBe(1);
    expect(await count({ type: 'a', reason: 'failed' })).toBe(1);
    expect(await count({ failedBefore: l2.failedAt })).toBe(1);
    expect(await count({ failedAfter: l2.failedAt })).toBe(2);
    expect(await count({ failedAfter: l2.failedAt, failedBefore: l3.failedAt })).toBe(1);
    expect(await count({ type: 'zzz' })).toBe(0);
    expect((await h.store.listDeadLetters({ limit: 10, reason: 'failed' })).map((l) => l.jobId)).toEqual([b1, a1]);
    expect((await h.store.listDeadLetters({ limit: 10, failedBefore: l3.failedAt, type: 'a' })).map((l) => l.jobId)).toEqual([a2, a1]);

    const [replayed] = await h.store.replayDeadLettersMatching({ type: 'a', reason: 'failed' });
    expect(await h.store.getJob(replayed)).toMatchObject({ type: 'a', replayOf: a1, state: 'due' });
    expect(await h.store.listAttempts(replayed)).toMatchObject([{ jobId: a1, errorMessage: 'a1' }]);
    expect(await h.store.replayDeadLettersMatching({ type: 'zzz' })).toEqual([]);
    expect(await h.store.deleteDeadLettersMatching({ reason: 'cancelled' })).toBe(0);
    expect(await h.store.deleteDeadLettersMatching({ failedAfter: l2.failedAt })).toBe(2);
    expect(await count({})).toBe(0);
    expect(await h.store.listAttempts(a2)).toEqual([]);
  });

  it('pauses and resumes job types: each listed with when it was paused; pausing twice or resuming what is not paused changes nothing', async () => {
    expect(await h.store.listPausedTypes()).toEqual([]);
    expect(await h.store.pauseType('mail')).toBe(true);
    expect(await h.store.pauseType('mail')).toBe(false);
    expect(await h.store.pauseType('aaa')).toBe(true);
    const paused = await h.store.listPausedTypes();
    expect(paused.map((p) => p.type)).toEqual(['aaa', 'mail']);
    expect(paused.every((p) => p.pausedAt instanceof Date)).toBe(true);
    expect(await h.store.resumeType('mail')).toBe(true);
    expect(await h.store.resumeType('mail')).toBe(false);
    expect((await h.store.listPausedTypes()).map((p) => p.type)).toEqual(['aaa']);
  });

  it('pruneAttempts deletes the history of jobs that succeeded after failing, and keeps that of queued jobs, dead letters and replays', async () => {
    const [succeeded, retrying, dead] = await insert(job('s'), job('r'), job('d'));
    const first = randomUUID();
    await claim(3, 60_000, first);
    for (const id of [succeeded, retrying]) expect(await h.store.retry(id, first, 0, { message: `failed ${id}` })).toBe(true);
    expect(await h.store.deadLetter(dead, first, { message: 'dead' })).toBe(true);
    const second = randomUUID();
    expect(await ids(claim(1, 60_000, second))).toEqual([succeeded]);
    expect(await h.store.complete([{ id: succeeded, token: second }])).toEqual(new Set());
    const [letter] = await h.store.listDeadLetters({ limit: 10 });

    expect(await h.store.pruneAttempts(100)).toBe(1);
    expect(await h.store.listAttempts(succeeded)).toEqual([]);
    expect(await h.store.listAttempts(retrying)).toHaveLength(1);
    expect(await h.store.listAttempts(dead)).toHaveLength(1);
    const [replayed] = await h.store.replayDeadLetters([letter.id]);
    expect(await h.store.pruneAttempts(100)).toBe(0);
    expect(await h.store.listAttempts(replayed)).toHaveLength(1);
  });

  it('diagnose describes the job table', async () => {
    await insert(job(), job());
    const report = await h.store.diagnose();
    expect(report.dialect).toBe(h.store.dialect);
    const table = report.tables.find((t) => t.table === 'doctor_job');
    expect(table).toBeDefined();
    expect(Array.isArray(report.unavailable)).toBe(true);
  });
}
