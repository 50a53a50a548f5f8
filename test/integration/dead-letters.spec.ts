import { HttpException } from '@nestjs/common';
import { Injectable } from '@nestjs/common';
import { DeadLetterNotFoundError, InvalidArgumentError, JobHandler } from 'doctor-job';
import { createTestDatabase, eachDialect, type TestDatabase } from '../support/databases';
import { startOutboxApp, type OutboxApp } from '../support/outbox-app';
import { waitFor } from '../support/wait';

@Injectable()
class Doomed {
  @JobHandler('doomed-dl', { maxAttempts: 1 })
  run() {
    throw new Error('doomed');
  }
}

eachDialect('DeadLetterService: ids that are malformed or unknown', (dialect) => {
  let db: TestDatabase;
  let app: OutboxApp;
  let letters: string[];

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
    app = await startOutboxApp(db, [Doomed]);
    await app.outbox.transaction((tx) => app.outbox.enqueueMany(tx, [1, 2].map(() => ({ type: 'doomed-dl', payload: {} }))));
    await waitFor('two dead letters', async () => (await db.countDeadLetters()) === 2);
    letters = (await app.deadLetters.list()).items.map((l) => l.id).sort();
  });
  afterAll(async () => {
    await app?.close();
    await db?.dispose();
  });

  const status = async (call: Promise<unknown>) => {
    const error = await call.then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(HttpException);
    return { status: (error as HttpException).getStatus(), message: (error as Error).message, error };
  };

  it.each(['abc', '0', '-1', '1.5', '9223372036854775808', '9999999999999999999'])('a malformed id %p is a 400 naming it', async (id) => {
    for (const call of [app.deadLetters.replay(id), app.deadLetters.delete(id), app.deadLetters.get(id)]) {
      const { status: code, message, error } = await status(call);
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect(code).toBe(400);
      expect(message).toBe(`id must be a dead-letter id (a string of digits from 1 to 9223372036854775807), got ${JSON.stringify(id)}`);
    }
    expect(await db.countDeadLetters()).toBe(2);
  });

  it('an unknown id is a 404 naming it, and a batch with one changes nothing', async () => {
    const single = await status(app.deadLetters.replay('999999'));
    expect([single.status, single.message]).toEqual([404, 'No dead letter has the id 999999: it may have been replayed (its job is back in the queue, under a new id) or deleted already; nothing was changed.']);
    const batch = await status(app.deadLetters.replay([letters[0], '999998', '999999']));
    expect(batch.error).toBeInstanceOf(DeadLetterNotFoundError);
    expect(batch.message).toBe('No dead letters have the ids 999998, 999999: they may have been replayed (their jobs are back in the queue, under new ids) or deleted already; nothing was changed.');
    expect((batch.error as DeadLetterNotFoundError).ids).toEqual(['999998', '999999']);
    const deleting = await status(app.deadLetters.delete([letters[1], '999999']));
    expect(deleting.status).toBe(404);
    expect(await db.countDeadLetters()).toBe(2);
    expect(await db.countJobs()).toBe(0);
  });

  it('known ids: replay returns the new job ids (a repeated id counts once), delete returns the count; either again is a 404 saying why', async () => {
    await app.runner.stop(); // keep the replayed job queued
    const [jobId, ...rest] = await app.deadLetters.replay([letters[0], letters[0]]);
    expect(rest).toEqual([]);
    expect(jobId).toMatch(/^\d+$/);
    expect((await app.outbox.pending()).map((j) => j.id)).toEqual([jobId]);
    expect(await app.deadLetters.delete(letters[1])).toBe(1);
    expect(await db.countDeadLetters()).toBe(0);
    // Again (a double click, a retried request): a 404 that says why the id may be gone.
    for (const [call, id] of [[() => app.deadLetters.replay(letters[0]), letters[0]], [() => app.deadLetters.delete(letters[1]), letters[1]]] as const) {
      const again = await status(call());
      expect([again.status, again.message]).toEqual([404, `No dead letter has the id ${id}: it may have been replayed (its job is back in the queue, under a new id) or deleted already; nothing was changed.`]);
    }
    expect((await app.outbox.pending()).map((j) => j.id)).toEqual([jobId]);
  });
});
