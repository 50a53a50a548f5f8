import { Injectable } from '@nestjs/common';
import { EnqueueError, JobHandler } from 'doctor-job';
import { MAX_PAYLOAD_DEPTH } from '../../lib/handlers/payload';
import { createTestDatabase, eachDialect, type TestDatabase } from '../support/databases';
import { startOutboxApp, type OutboxApp } from '../support/outbox-app';

@Injectable()
class Blob {
  @JobHandler('edge-blob')
  run() {}
}

/** `{ a: { a: … 1 } }` with `levels` objects. */
function nested(levels: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = { a: value };
  return value;
}

eachDialect('bad input at the edges', (dialect) => {
  let db: TestDatabase;
  let app: OutboxApp;
  const limit = MAX_PAYLOAD_DEPTH[dialect];

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
    app = await startOutboxApp(db, [Blob], { autoStart: false });
  });
  afterAll(async () => {
    await app?.close();
    await db?.dispose();
  });
  beforeEach(() => db.execute('DELETE FROM "doctor_job"'));

  const enqueue = (payload: unknown, options = {}) =>
    app.outbox.transaction((tx) => app.outbox.enqueue(tx, 'edge-blob', payload, options)).then(
      (id) => ({ id, error: undefined }),
      (error: Error) => ({ id: undefined, error }),
    );

  it(`a payload ${limit} levels deep is stored intact; deeper ones, up to 100,000 levels, get a clear EnqueueError and write nothing`, async () => {
    const deepest = nested(limit);
    const { id, error } = await enqueue(deepest);
    expect(error).toBeUndefined();
    expect((await app.outbox.pending()).find((job) => job.id === id)?.payload).toEqual(deepest);
    for (const levels of [limit + 1, 5_000, 100_000]) {
      const refused = await enqueue(nested(levels));
      expect(refused.error).toBeInstanceOf(EnqueueError);
      expect(refused.error!.message).toContain(`is nested deeper than ${limit} levels, the most this database's JSON holds through Doctor Job`);
      expect(refused.error!.message.length).toBeLessThan(1_000);
    }
    expect(await db.countJobs()).toBe(1);
  });

  it('key lengths count characters as the database does: 255 emoji fit, 256 are refused with a message that cuts no character', async () => {
    const fits = '😀'.repeat(255); // 510 UTF-16 units, 255 characters
    const { error } = await enqueue({}, { orderingKey: fits, dedupKey: fits });
    expect(error).toBeUndefined();
    const [row] = await db.query<{ k: string }>('SELECT "ordering_key" AS k FROM "doctor_job"');
    expect(row.k).toBe(fits);
    for (const option of ['orderingKey', 'dedupKey']) {
      const refused = await enqueue({}, { [option]: '😀'.repeat(256) });
      expect(refused.error).toBeInstanceOf(EnqueueError);
      expect(refused.error!.message).toContain(`"${option}" must be a non-empty string of at most 255 characters`);
      expect(refused.error!.message).toContain('(256 characters)');
      expect(refused.error!.message).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/); // no half of a surrogate pair
    }
    expect(await db.countJobs()).toBe(1);
  });
});
