import { Injectable } from '@nestjs/common';
import { JobHandler, type JobContext } from 'doctor-job';
import { createTestDatabase, eachDialect, type TestDatabase } from '../support/databases';
import { newGate } from '../support/gate';
import { startOutboxApp, type OutboxApp } from '../support/outbox-app';
import { sleep, waitFor } from '../support/wait';

@Injectable()
class Keyed {
  static ran: string[] = [];
  @JobHandler('keyed-order')
  run(payload: { label: string }, _job: JobContext) {
    Keyed.ran.push(payload.label);
  }
}

// SQLite runs one transaction at a time (one connection), so producers cannot overlap there: the
// property is about PostgreSQL and MariaDB, where they can.
eachDialect('per-key order under overlapping transactions', (dialect) => {
  if (dialect === 'sqlite') return it('SQLite serialises transactions: nothing to overlap', () => expect(dialect).toBe('sqlite'));
  let db: TestDatabase;
  let app: OutboxApp;

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
    app = await startOutboxApp(db, [Keyed], { pollIntervalMs: 20 });
  });
  afterAll(async () => {
    await app?.close();
    await db?.dispose();
  });
  beforeEach(() => (Keyed.ran = []));

  const ROUNDS = 5;

  it(`T1 enqueues K, T2 enqueues K and tries to commit first, T1 commits later: T1's job runs first (${ROUNDS} rounds, new and known keys, single and batch enqueues)`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const key = round % 2 ? 'known-key' : `new-key-${round}`;
      const t1Enqueued = newGate();
      const t1Commit = newGate();
      const commits: string[] = [];
      const t1 = app.outbox.transaction(async (tx) => {
        if (round % 3 === 2) await app.outbox.enqueueMany(tx, [{ type: 'keyed-order', payload: { label: `r${round}-T1` }, orderingKey: key }]);
        else await app.outbox.enqueue(tx, 'keyed-order', { label: `r${round}-T1` }, { orderingKey: key });
        t1Enqueued.open();
        await t1Commit.promise; // T1 stays open while T2 runs
      }).then(() => commits.push('T1'));
      await t1Enqueued.promise;
      const t2 = app.outbox
        .transaction((tx) => app.outbox.enqueue(tx, 'keyed-order', { label: `r${round}-T2` }, { orderingKey: key }))
        .then(() => commits.push('T2'));
      await sleep(150 + Math.random() * 150); // several poll intervals: a runner would claim T2's job now if it were visible
      expect(commits).toEqual([]); // T2 waits for T1's key
      t1Commit.open();
      await Promise.all([t1, t2]); // (which promise resolves first is up to the client; the server ordered them)
      await waitFor('both ran', () => Keyed.ran.length === 2 * (round + 1));
    }
    for (let round = 0; round < ROUNDS; round++) {
      expect(Keyed.ran.slice(2 * round, 2 * round + 2)).toEqual([`r${round}-T1`, `r${round}-T2`]);
    }
  });

  it('a rolled-back earlier job never holds the key: the later one runs', async () => {
    for (let round = 0; round < 3; round++) {
      const t1Enqueued = newGate();
      const t1End = newGate();
      const t1 = app.outbox.transaction(async (tx) => {
        await app.outbox.enqueue(tx, 'keyed-order', { label: `rolled-back-${round}` }, { orderingKey: 'rb' });
        t1Enqueued.open();
        await t1End.promise;
        throw new Error('roll back');
      });
      await t1Enqueued.promise;
      const t2 = app.outbox.transaction((tx) => app.outbox.enqueue(tx, 'keyed-order', { label: `kept-${round}` }, { orderingKey: 'rb' }));
      await sleep(100);
      t1End.open();
      await expect(t1).rejects.toThrow('roll back');
      await t2;
      await waitFor('the kept job ran', () => Keyed.ran.includes(`kept-${round}`));
    }
    expect(Keyed.ran).toEqual(['kept-0', 'kept-1', 'kept-2']);
    expect(await db.countJobs()).toBe(0);
  });

  it('unkeyed jobs and other keys are not held up by an open transaction on a key', async () => {
    const hold = newGate();
    const enqueued = newGate();
    const t1 = app.outbox.transaction(async (tx) => {
      await app.outbox.enqueue(tx, 'keyed-order', { label: 'held' }, { orderingKey: 'busy' });
      enqueued.open();
      await hold.promise;
    });
    await enqueued.promise;
    await app.outbox.transaction((tx) =>
      app.outbox.enqueueMany(tx, [
        { type: 'keyed-order', payload: { label: 'other-key' }, orderingKey: 'free' },
        { type: 'keyed-order', payload: { label: 'no-key' } },
      ]),
    );
    await waitFor('the others ran', () => Keyed.ran.length === 2);
    expect(Keyed.ran.sort()).toEqual(['no-key', 'other-key']);
    hold.open();
    await t1;
    await waitFor('the held one ran', () => Keyed.ran.includes('held'));
  });
});
