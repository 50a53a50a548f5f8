import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { JobTester, withoutRunner } from 'doctor-job/testing';
import { AppModule } from '../../sample/app.module';
import { configureApp } from '../../sample/app.setup';
import { createTestDatabase, eachDialect, type TestDatabase } from '../support/databases';

// The sample tested the way the README's "Testing your app" shows: the runner off, the queue
// inspected and run by the test itself (no waiting for a poll interval or a backoff).
eachDialect('the sample, tested with doctor-job/testing', (dialect) => {
  let db: TestDatabase;
  let app: INestApplication;
  let jobs: JobTester;
  let http: ReturnType<typeof request>;

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
    const previous = process.env.DATABASE_URL;
    process.env.DATABASE_URL = db.url;
    try {
      const moduleRef = await withoutRunner(Test.createTestingModule({ imports: [AppModule] })).compile();
      app = configureApp(moduleRef.createNestApplication({ logger: ['error'] }));
      await app.init();
    } finally {
      process.env.DATABASE_URL = previous;
    }
    jobs = JobTester.from(app);
    http = request(app.getHttpServer());
  });
  afterAll(async () => {
    await app?.close();
    await db?.dispose();
  });

  it('a login-link request enqueues one job, and the email is sent when the test drains the queue', async () => {
    const client = (await http.post('/clients').send({ email: 'kit@example.com' }).expect(201)).body;
    const { jobId } = (await http.post('/clients/login-link').send({ email: 'kit@example.com' }).expect(202)).body;
    expect(await jobs.enqueued('sendClientLoginLink')).toEqual([expect.objectContaining({ id: jobId, payload: { clientId: client.id } })]);
    expect((await http.get('/emails').expect(200)).body).toEqual([]);

    const report = await jobs.drain();
    expect(report.jobs).toEqual(expect.arrayContaining([{ id: jobId, type: 'sendClientLoginLink', outcome: 'succeeded', attempts: 1, errors: [] }]));
    const emails = (await http.get('/emails').expect(200)).body;
    expect(emails).toEqual([expect.objectContaining({ to: 'kit@example.com', clientId: client.id })]);
    expect(await jobs.enqueued('sendClientLoginLink')).toEqual([]);
  });

  it('a job that always fails is dead-lettered by one drain, through all its attempts', async () => {
    const { jobId } = (await http.post('/splines').send({ target: 'terrain' }).expect(202)).body;
    const report = await jobs.drain();
    const splines = report.jobs.find((j) => j.id === jobId);
    expect(splines).toMatchObject({ outcome: 'dead-lettered', attempts: 3 });
    expect(splines!.errors).toEqual(Array(3).fill('Reticulating splines for "terrain" is not implemented yet'));
    const letters = (await http.get('/dead-letters?type=reticulateSplines').expect(200)).body.items;
    expect(letters.map((l: { jobId: string }) => l.jobId)).toContain(jobId);
  });

  it('perform() runs a handler directly, with its DTO check', async () => {
    await expect(jobs.perform('sendClientLoginLink', { clientId: 0 })).rejects.toThrow('payload.clientId: clientId must not be less than 1');
  });
});
