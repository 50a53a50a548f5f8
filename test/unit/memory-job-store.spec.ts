import type { NewJob } from '../../lib/store/job-store.interface';
import type { TransactionClientLike } from '../../lib/store/prisma-client.interface';
import { ManualClock, MemoryJobStore } from '../support/memory-job-store';

// The in-memory JobStore that the runner's unit tests run against: it must keep the SQL stores' semantics.

const LEASE = 30_000;
const T1 = 'aaaaaaaa-0000-4000-8000-000000000001';
const T2 = 'aaaaaaaa-0000-4000-8000-000000000002';
/** insert() outside transaction(): any other tx object writes at once. */
const direct = {} as TransactionClientLike;

function job(fields: Omit<Partial<NewJob>, 'payload'> & { payload?: unknown } = {}): NewJob {
  return { type: 'mail', maxAttempts: 3, priority: 0, ...fields, payload: JSON.stringify(fields.payload ?? {}) };
}

let clock: ManualClock;
let store: MemoryJobStore;
beforeEach(() => {
  clock = new ManualClock();
  store = new MemoryJobStore({ clock });
});

const claim = (limit = 10, token = T1, excludeTypes?: string[]) => store.claim({ limit, leaseMs: LEASE, token, excludeTypes });
const ids = async (claimed: Promise<{ id: string }[]>) => (await claimed).map((j) => j.id);

describe('ManualClock', () => {
  it('starts at 2026-01-01 and moves only when told to', () => {
    const c = new ManualClock();
    expect(new Date(c.now()).toISOString()).toBe('2026-01-01T00:00:00.000Z');
    c.advance(1_500);
    expect(c.now()).toBe(Date.parse('2026-01-01T00:00:01.500Z'));
    c.set(new Date('2027-02-03T00:00:00Z'));
    expect(c.now()).toBe(Date.parse('2027-02-03T00:00:00Z'));
    c.set(5);
    expect(c.now()).toBe(5);
  });
});

describe('MemoryJobStore', () => {
  it('gives increasing decimal ids from 1 and hands out copies of the parsed payload', async () => {
    expect(await store.insert(direct, [job({ payload: { n: 1 } }), job({ payload: 'text' })])).toEqual(['1', '2']);
    const [first, second] = await claim();
    expect(first).toEqual({ id: '1', type: 'mail', payload: { n: 1 }, attempt: 1, maxAttempts: 3, createdAt: new Date(clock.now()), traceContext: null });
    expect(second.payload).toBe('text');
    (first.payload as { n: number }).n = 99;
    expect(store.rows()[0].payload).toEqual({ n: 1 });
  });

  it('claims by priority desc, then runAt, then id (ids compared as numbers), and returns them in id order', async () => {
    const past = new Date(clock.now() - 1_000);
    await store.insert(direct, Array.from({ length: 8 }, () => job({ type: 'filler' })));
    await store.insert(direct, [job(), job(), job({ runAt: past }), job({ priority: 5 })]); // ids 9..12
    expect(await ids(claim(8, T1, ['filler']))).toEqual(['9', '10', '11', '12']);
    clock.advance(LEASE);
    expect(await ids(claim(1, T2, ['filler']))).toEqual(['12']); // priority
    expect(await ids(claim(1, T2, ['filler']))).toEqual(['11']); // earlier runAt
    expect(await ids(claim(1, T2, ['filler']))).toEqual(['9']); // '9' < '10' as numbers, not as text
  });

  it('never claims the excluded types', async () => {
    await store.insert(direct, [job({ type: 'a' }), job({ type: 'b' }), job({ type: 'c' })]);
    expect((await claim(10, T1, ['a', 'c'])).map((j) => j.type)).toEqual(['b']);
  });

  it('claims only the head of each ordering key, the next one once the head has left the queue', async () => {
    await store.insert(direct, [job({ orderingKey: 'k' }), job({ orderingKey: 'k' }), job({ orderingKey: 'other' }), job()]);
    expect(await ids(claim())).toEqual(['1', '3', '4']);
    await store.retry('1', T1, 0, { message: 'boom' });
    expect(await ids(claim(10, T2))).toEqual(['1']); // the retried head is due again; 2 still waits behind it
    expect(await store.complete([{ id: '1', token: T2 }])).toEqual(new Set());
    expect(await ids(claim(10, T2))).toEqual(['2']);
  });

  it('stamps the lease, the attempt and the token; the job is due again only when the lease has run out', async () => {
    await store.insert(direct, [job()]);
    await claim();
    expect(store.rows()[0]).toMatchObject({ lockedUntil: clock.now() + LEASE, attempts: 1, claimToken: T1 });
    clock.advance(LEASE - 1);
    expect(await claim(10, T2)).toEqual([]);
    clock.advance(1);
    expect(await claim(10, T2)).toMatchObject([{ id: '1', attempt: 2 }]);
  });

  it('fences every write by the claim token', async () => {
    await store.insert(direct, [job(), job()]);
    await claim();
    clock.advance(LEASE);
    await ids(claim(1, T2)); // job 1 is now T2's; job 2 still T1's (its lease ran out, nobody took it)
    const error = { message: 'late' };
    expect(await store.complete([{ id: '1', token: T1 }, { id: '2', token: T1 }])).toEqual(new Set(['1:' + T1]));
    expect(await store.completeUnderLease([{ id: '1', token: T1 }])).toBe(0);
    expect(await store.retry('1', T1, 0, error)).toBe(false);
    expect(await store.deadLetter('1', T1, error)).toBe(false);
    expect(await store.extend(['1'], T1, LEASE)).toEqual([]);
    expect(await store.release(['1'], T1)).toBe(0);
    expect(store.rows()).toMatchObject([{ id: '1', claimToken: T2, attempts: 2, lastError: null }]);
    expect(store.deadLetterRows()).toEqual([]);
  });

  it('completeUnderLease deletes the jobs held by the batch tokens and counts them', async () => {
    await store.insert(direct, [job(), job(), job()]);
    await claim(2);
    expect(await store.completeUnderLease([{ id: '1', token: T1 }, { id: '2', token: T1 }, { id: '3', token: T1 }])).toBe(2);
    expect(store.rows().map((r) => r.id)).toEqual(['3']);
  });

  it('runs delayed jobs (delayMs, runAt) and retried jobs only once they are due', async () => {
    await store.insert(direct, [job({ delayMs: 1_000 }), job({ runAt: new Date(clock.now() + 2_000) })]);
    expect(await claim()).toEqual([]);
    clock.advance(1_000);
    expect(await ids(claim())).toEqual(['1']);
    await store.retry('1', T1, 5_000, { message: 'boom' });
    expect(store.rows()[0]).toMatchObject({ runAt: clock.now() + 5_000, lockedUntil: null, claimToken: null, lastError: 'boom', attempts: 1 });
    clock.advance(1_000);
    expect(await ids(claim())).toEqual(['2']);
    clock.advance(4_000);
    expect(await claim()).toMatchObject([{ id: '1', attempt: 2 }]);
  });

  it('extend pushes the lease of the jobs the token holds and returns their ids', async () => {
    await store.insert(direct, [job(), job()]);
    await claim(1);
    clock.advance(10_000);
    expect(await store.extend(['1', '2'], T1, LEASE)).toEqual(['1']);
    expect(store.rows()[0].lockedUntil).toBe(clock.now() + LEASE);
    clock.advance(LEASE - 1);
    expect(await ids(claim(10, T2))).toEqual(['2']);
  });

  it('release gives the job back without consuming its attempt', async () => {
    await store.insert(direct, [job(), job()]);
    await claim();
    expect(await store.release(['1', '2'], T1)).toBe(2);
    expect(store.rows()).toMatchObject([{ attempts: 0, lockedUntil: null, claimToken: null }, { attempts: 0 }]);
    expect(await claim(1, T2)).toMatchObject([{ id: '1', attempt: 1 }]);
  });

  it('writes nothing for a dedup key held by a job in the queue, and returns that job id', async () => {
    expect(await store.insert(direct, [job({ dedupKey: 'd' }), job(), job({ dedupKey: 'd' })])).toEqual(['1', '2', '1']);
    await claim();
    expect(await store.insert(direct, [job({ dedupKey: 'd' })])).toEqual(['1']); // held even while running
    await store.complete([{ id: '1', token: T1 }]);
    expect(await store.insert(direct, [job({ dedupKey: 'd' })])).toEqual(['3']);
    expect(store.rows().map((r) => r.id)).toEqual(['2', '3']);
  });

  describe('transaction()', () => {
    it('makes its inserts visible only after it commits', async () => {
      let inside: unknown;
      const result = await store.transaction(async (tx) => {
        const [id] = await store.insert(tx, [job({ dedupKey: 'd' })]);
        expect(await store.insert(tx, [job({ dedupKey: 'd' })])).toEqual([id]); // its own writes count for dedup
        expect(await claim()).toEqual([]);
        inside = await store.listJobs({ limit: 10 });
        return id;
      });
      expect(inside).toEqual([]);
      expect(result).toBe('1');
      expect(await ids(claim())).toEqual(['1']);
    });

    it('leaves nothing when it throws, and the sequence keeps its gap', async () => {
      const failure = store.transaction(async (tx) => {
        await store.insert(tx, [job(), job()]);
        throw new Error('rollback');
      });
      await expect(failure).rejects.toThrow('rollback');
      expect(store.rows()).toEqual([]);
      expect(await store.insert(direct, [job()])).toEqual(['3']);
    });

    it('makes an insert of a dedup key that another open transaction wrote wait for it, as a unique index does', async () => {
      let release!: () => void;
      let inserted!: () => void;
      const written = new Promise<void>((resolve) => (inserted = resolve));
      const holding = store.transaction(async (tx) => {
        expect(await store.insert(tx, [job({ dedupKey: 'd' })])).toEqual(['1']);
        inserted();
        await new Promise<void>((resolve) => (release = resolve));
      });
      await written;
      const waiting = store.insert(direct, [job({ dedupKey: 'd' })]);
      let answered = false;
      void waiting.then(() => (answered = true));
      await new Promise((resolve) => setImmediate(resolve));
      expect(answered).toBe(false); // blocked behind the open transaction
      release();
      await holding;
      expect(await waiting).toEqual(['1']); // the committed job's id
      expect(store.rows().map((r) => r.id)).toEqual(['1']);

      // Rolled back instead: the key is free again and the waiting insert writes its own job.
      let fail!: () => void;
      let insertedE!: () => void;
      const writtenE = new Promise<void>((resolve) => (insertedE = resolve));
      const rolledBack = store.transaction(async (tx) => {
        await store.insert(tx, [job({ dedupKey: 'e' })]);
        insertedE();
        await new Promise<void>((_, reject) => (fail = () => reject(new Error('rollback'))));
      });
      await writtenE;
      const second = store.insert(direct, [job({ dedupKey: 'e' })]);
      await new Promise((resolve) => setImmediate(resolve));
      fail();
      await expect(rolledBack).rejects.toThrow('rollback');
      expect(await second).toEqual(['3']);
    });

    it('refuses inserts through a transaction that has finished', async () => {
      let leaked!: TransactionClientLike;
      await store.transaction(async (tx) => void (leaked = tx));
      await expect(store.insert(leaked, [job()])).rejects.toThrow('finished');
    });
  });

  it('moves a job to the dead letters, lists them newest first by page, and replays them as new due jobs', async () => {
    const createdAt = clock.now();
    await store.insert(direct, [job({ payload: { n: 1 }, priority: 2, orderingKey: 'k' }), job({ type: 'sms' }), job()]);
    await claim();
    clock.advance(1_000);
    for (const id of ['1', '2', '3']) expect(await store.deadLetter(id, T1, { message: `fail ${id}`, stack: 'at x' })).toBe(true);
    expect(store.rows()).toEqual([]);
    expect(await store.getDeadLetter('1')).toEqual({
      ...{ id: '1', jobId: '1', type: 'mail', payload: { n: 1 }, attempts: 1, maxAttempts: 3 },
      ...{ errorMessage: 'fail 1', errorStack: 'at x', createdAt: new Date(createdAt), failedAt: new Date(clock.now()), reason: 'failed', replayOf: null },
    });
    expect(await store.getDeadLetter('9')).toBeNull();
    const list = async (query: { type?: string; before?: string; limit: number }) => (await store.listDeadLetters(query)).map((d) => d.id);
    expect(await list({ limit: 2 })).toEqual(['3', '2']);
    expect(await list({ limit: 2, before: '2' })).toEqual(['1']);
    expect(await list({ limit: 10, type: 'mail' })).toEqual(['3', '1']);

    clock.advance(1_000);
    expect(await store.replayDeadLetters(['3', '1', '42'])).toEqual(['4', '5']); // in dead-letter id order
    expect(store.rows()).toMatchObject([
      { id: '4', payload: { n: 1 }, priority: 2, orderingKey: 'k', attempts: 0, runAt: clock.now(), createdAt: clock.now(), lastError: null },
      { id: '5', attempts: 0 },
    ]);
    expect(store.deadLetterRows().map((d) => d.id)).toEqual(['2']);
    expect(await store.deleteDeadLetters(['2', '3'])).toBe(1);
    expect(store.deadLetterRows()).toEqual([]);
  });

  it('records cron ticks and lets one claimTick per tick insert its job', async () => {
    const t = (s: number) => new Date(clock.now() + s * 1_000);
    expect(await store.lastTick('report')).toBeNull();
    expect(await store.lastTick('report', t(0))).toEqual(t(0));
    expect(await store.lastTick('report', t(5))).toEqual(t(0)); // init only when there is none
    expect(await store.claimTick('report', t(0), job({ type: 'report' }))).toBeNull();
    expect(await store.claimTick('report', t(60), job({ type: 'report' }))).toBe('1');
    expect(await store.claimTick('report', t(60), job({ type: 'report' }))).toBeNull();
    expect(await store.claimTick('other', t(60), job({ type: 'other' }))).toBe('2'); // no last tick yet
    expect(await store.lastTick('report')).toEqual(t(60));
    expect(store.rows()).toMatchObject([{ type: 'report', runAt: clock.now() }, { type: 'other' }]);
  });

  it('reports stats and lists the jobs in the SQL stores shapes', async () => {
    await store.insert(direct, [job({ type: 'b' }), job({ type: 'a' }), job({ type: 'a', delayMs: 60_000 }), job({ type: 'a' })]);
    clock.advance(3_000);
    await claim(1, T1, ['b']); // job 2
    await store.deadLetter('2', T1, { message: 'x' });
    await claim(1, T1, ['b']); // job 4
    expect(await store.stats()).toEqual({
      types: [
        { type: 'a', due: 0, running: 1, total: 2, oldestDueAgeMs: 0 },
        { type: 'b', due: 1, running: 0, total: 1, oldestDueAgeMs: 3_000 },
      ],
      deadLetters: [{ type: 'a', count: 1 }],
    });
    expect(await store.listJobs({ type: 'a', limit: 10 })).toEqual([
      { id: '3', type: 'a', payload: {}, attempts: 0, maxAttempts: 3, runAt: new Date(clock.now() + 57_000), lastError: null, claimed: false, createdAt: expect.any(Date) },
      { id: '4', type: 'a', payload: {}, attempts: 1, maxAttempts: 3, runAt: new Date(clock.now() - 3_000), lastError: null, claimed: true, createdAt: expect.any(Date) },
    ]);
    expect(await store.listJobs({ limit: 1 })).toMatchObject([{ id: '1' }]);
  });

  describe('hooks', () => {
    it('failNext makes the next call of that method reject, once', async () => {
      store.failNext('claim', new Error('connection reset'));
      await store.insert(direct, [job()]);
      await expect(claim()).rejects.toThrow('connection reset');
      expect(await ids(claim())).toEqual(['1']);
      store.failNext('complete');
      await expect(store.complete([{ id: '1', token: T1 }])).rejects.toThrow('injected failure of complete');
      expect(store.rows()).toHaveLength(1); // the failed call did nothing
    });

    it('hold makes calls wait before their work: a claim runs while a batch DELETE is in flight', async () => {
      await store.insert(direct, [job({ orderingKey: 'k' }), job({ orderingKey: 'k' })]);
      await claim();
      const held = store.hold('complete');
      const deleting = store.complete([{ id: '1', token: T1 }]);
      await held.waiting;
      expect(held.calls).toBe(1);
      expect(await claim(10, T2)).toEqual([]); // job 1 is still in the queue: job 2 waits behind it
      held.release();
      expect(await deleting).toEqual(new Set());
      expect(await ids(claim(10, T2))).toEqual(['2']);
      expect(store.calls.map((c) => c.method)).toEqual(['insert', 'claim', 'complete', 'claim', 'claim']);
      expect(store.calls[2].args).toEqual([[{ id: '1', token: T1 }]]);
      expect(store.calls[0].args).toEqual([direct, [expect.objectContaining({ orderingKey: 'k' }), expect.anything()], undefined]);
    });

    it('expireLease and stealClaim simulate a lease lost mid-handler', async () => {
      await store.insert(direct, [job(), job()]);
      await claim();
      store.expireLease('1');
      expect(await ids(claim(10, T2))).toEqual(['1']);
      const thief = store.stealClaim('2');
      expect(store.rows()[1]).toMatchObject({ claimToken: thief, attempts: 2, lockedUntil: clock.now() + 30_000 });
      expect(await store.complete([{ id: '2', token: T1 }])).toEqual(new Set(['2:' + T1]));
      expect(await store.extend(['2'], thief, LEASE)).toEqual(['2']);
      expect(() => store.expireLease('9')).toThrow('no job 9');
    });
  });
});
