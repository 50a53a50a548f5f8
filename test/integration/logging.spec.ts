import { ConsoleLogger, Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ScheduleModule } from '@nestjs/schedule';
import { DoctorJobModule, JobHandler, OutboxService } from 'doctor-job';
import { createTestDatabase, type TestDatabase } from '../support/databases';
import { startOutboxApp, type AnyJobs } from '../support/outbox-app';
import { waitFor } from '../support/wait';

@Injectable()
class Quiet {
  @JobHandler('quiet')
  run() {}

  @JobHandler('loud', { maxAttempts: 1 })
  fail() {
    throw new Error('loud failure');
  }
}

// The log lines do not depend on the dialect: one SQLite file is enough.
describe('what the runner logs per job', () => {
  let db: TestDatabase;
  beforeAll(async () => (db = await createTestDatabase('sqlite')));
  afterAll(() => db?.dispose());
  beforeEach(() => db.execute('DELETE FROM "doctor_job"'));

  it("under Nest's default ConsoleLogger (debug on), a successful job writes nothing; a dead letter writes its line", async () => {
    const written: string[] = [];
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    const errors = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    const module = await Test.createTestingModule({
      imports: [ScheduleModule.forRoot(), DoctorJobModule.forRoot({ prisma: db.prisma, pollIntervalMs: 50 })],
      providers: [Quiet],
    })
      .setLogger(new ConsoleLogger()) // what an app gets with no logger setting: every level, debug included
      .compile();
    try {
      await module.init();
      const outbox = module.get<OutboxService<AnyJobs>>(OutboxService);
      await outbox.transaction(async (tx) => {
        for (let i = 0; i < 5; i++) await outbox.enqueue(tx, 'quiet', {});
        await outbox.enqueue(tx, 'loud', {});
      });
      await waitFor('queue empty', async () => (await db.countJobs()) === 0);
    } finally {
      await module.close();
      write.mockRestore();
      errors.mockRestore();
    }
    const jobLines = written.filter((line) => /Job \d+ \(/.test(line));
    expect(jobLines).toHaveLength(1);
    expect(jobLines[0]).toMatch(/ERROR.*Job \d+ \(loud\) dead-lettered after attempt 1\/1: loud failure/);
  });

  it('logSuccesses: true writes one line per successful job', async () => {
    const app = await startOutboxApp(db, [Quiet], { logSuccesses: true });
    try {
      const ids = await app.outbox.transaction((tx) => app.outbox.enqueueMany(tx, [1, 2, 3].map(() => ({ type: 'quiet', payload: {} }))));
      // The success lines follow the commit that deleted the jobs: wait for the lines as well.
      const successLines = () => app.logs.entries.filter((e) => e.message.includes('succeeded in'));
      await waitFor('queue empty', async () => (await db.countJobs()) === 0 && successLines().length >= 3);
      const lines = successLines();
      expect(lines.map((e) => e.level)).toEqual(['log', 'log', 'log']);
      expect(lines.map((e) => e.message.match(/^Job (\d+) \(quiet\) succeeded in \d+ ms$/)?.[1]).sort()).toEqual([...ids].sort());
    } finally {
      await app.close();
    }
  });

  it('logSuccesses must be a boolean', async () => {
    await expect(startOutboxApp(db, [Quiet], { logSuccesses: 'yes' as never })).rejects.toThrow('"logSuccesses" must be true or false, got "yes"');
  });
});
