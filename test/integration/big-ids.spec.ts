import { randomUUID } from 'node:crypto';
import { createJobStore } from '../../lib/store/create-job-store';
import type { JobStore } from '../../lib/store/job-store.interface';
import { createTestDatabase, eachDialect, type TestDatabase } from '../support/databases';

/** 2^53 + 1: the first id a JavaScript number cannot hold. */
const FIRST = '9007199254740993';

eachDialect('job ids beyond 2^53 stay exact', (dialect) => {
  let db: TestDatabase;
  let store: JobStore;

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
    store = createJobStore(dialect, db.prisma);
    // Move both sequences past 2^53.
    if (dialect === 'postgresql') {
      await db.execute(`ALTER SEQUENCE "doctor_job_id_seq" RESTART WITH ${FIRST}`);
      await db.execute(`ALTER SEQUENCE "doctor_job_dead_letter_id_seq" RESTART WITH ${FIRST}`);
    } else if (dialect === 'mysql') {
      await db.execute(`ALTER TABLE "doctor_job" AUTO_INCREMENT = ${FIRST}`);
      await db.execute(`ALTER TABLE "doctor_job_dead_letter" AUTO_INCREMENT = ${FIRST}`);
    } else {
      await db.execute(`INSERT INTO "sqlite_sequence" ("name", "seq") VALUES ('doctor_job', ${BigInt(FIRST) - 1n}), ('doctor_job_dead_letter', ${BigInt(FIRST) - 1n})`);
    }
  });
  afterAll(async () => {
    await store?.close?.();
    await db?.dispose();
  });

  it('insert, claim, complete, dead-letter, replay and list return the exact ids', async () => {
    const job = { type: 'big', payload: '{}', maxAttempts: 1, priority: 0 };
    const ids = await db.prisma.$transaction((tx) => store.insert(tx, [job, job, job]));
    expect(ids).toEqual([FIRST, '9007199254740994', '9007199254740995']);
    expect((await store.listJobs({ limit: 10 })).map((j) => j.id)).toEqual(ids);
    const token = randomUUID();
    const claimed = await store.claim({ limit: 10, leaseMs: 60_000, token });
    expect(claimed.map((j) => j.id)).toEqual(ids);
    expect(await store.extend(ids, token, 60_000)).toEqual(expect.arrayContaining(ids));
    expect(await store.complete([{ id: ids[0], token }])).toEqual(new Set());
    expect(await store.deadLetter(ids[1], token, { message: 'no' })).toBe(true);
    const [letter] = (await store.listDeadLetters({ limit: 10 })).filter((l) => l.jobId === ids[1]);
    expect(letter.id).toBe(FIRST);
    expect((await store.getDeadLetter(FIRST))?.jobId).toBe(ids[1]);
    const [replayed] = await store.replayDeadLetters([FIRST]);
    expect(replayed).toBe('9007199254740996');
    expect((await store.listJobs({ limit: 10 })).map((j) => j.id)).toEqual([ids[2], replayed]);
  });

  // A claim of many jobs comes back in one value on PostgreSQL (from CLAIM_AS_JSON_FROM jobs, the batch
  // form), of a few as rows: both must decode every field the same way, whatever the type and payload hold.
  it.each([5, 500])('a claim of up to %i jobs decodes every field exactly', async (limit) => {
    await db.execute('DELETE FROM "doctor_job"');
    const odd = ['plain', 'quote"d', 'back\\slash', 'tab\tnew\nline', 'ünï😀', "it's"];
    const payloads: unknown[] = ['a string', 42, -1.5e-7, true, null, [1, 'two', { three: 3 }], { nested: { deep: ['x', { y: 'é"\\' }] }, empty: {} }];
    const jobs = Array.from({ length: 7 * 3 }, (_, i) => ({
      type: odd[i % odd.length],
      payload: JSON.stringify(payloads[i % payloads.length]),
      maxAttempts: 1 + (i % 4),
      priority: 0,
      ...(i % 3 === 0 ? { traceContext: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01;state="${i}"` } : {}),
    }));
    const before = Date.now();
    const ids = await db.prisma.$transaction((tx) => store.insert(tx, jobs));
    const claimed = await store.claim({ limit, leaseMs: 60_000, token: randomUUID() });
    expect(claimed.map((j) => j.id)).toEqual(ids.slice(0, Math.min(limit, ids.length)));
    expect(BigInt(claimed[0].id)).toBeGreaterThan(BigInt(Number.MAX_SAFE_INTEGER));
    claimed.forEach((got, i) => {
      expect({ ...got, createdAt: undefined }).toEqual({
        id: ids[i],
        type: jobs[i].type,
        payload: payloads[i % payloads.length],
        attempt: 1,
        maxAttempts: jobs[i].maxAttempts,
        createdAt: undefined,
        traceContext: jobs[i].traceContext ?? null,
      });
      expect(got.createdAt).toBeInstanceOf(Date);
      // The database's clock, not this process's: a generous bound either side.
      expect(Math.abs(got.createdAt.getTime() - before)).toBeLessThan(60_000);
    });
  });
});
