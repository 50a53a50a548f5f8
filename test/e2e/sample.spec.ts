import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { SchedulerRegistry } from '@nestjs/schedule';
import request from 'supertest';
import { DOCTOR_JOB_RUNNER_NAME } from 'doctor-job';
import { AppModule } from '../../sample/app.module';
import { configureApp } from '../../sample/app.setup';
import { createTestDatabase, describePostgres, eachDialect, type TestDatabase } from '../support/databases';
import { waitFor } from '../support/wait';

/** Boots the sample app exactly as main.ts does, on the given database. */
async function startSample(db: TestDatabase): Promise<INestApplication> {
  const previous = process.env.DATABASE_URL;
  process.env.DATABASE_URL = db.url;
  process.env.POLL_INTERVAL_MS = '50';
  try {
    const module = await Test.createTestingModule({ imports: [AppModule] }).compile();
    const app = configureApp(module.createNestApplication({ logger: ['error'] }));
    await app.init();
    return app;
  } finally {
    process.env.DATABASE_URL = previous;
  }
}

eachDialect('sample app over HTTP', (dialect) => {
  let db: TestDatabase;
  let app: INestApplication;
  let http: ReturnType<typeof request>;

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
    app = await startSample(db);
    http = request(app.getHttpServer());
  });
  afterAll(async () => {
    await app?.close();
    await db?.dispose();
  });

  it('runs the outbox runner, visible in SchedulerRegistry', () => {
    expect(app.get(SchedulerRegistry).getIntervals()).toContain(DOCTOR_JOB_RUNNER_NAME);
  });

  it('creates clients, refusing bad and duplicate emails', async () => {
    const created = await http.post('/clients').send({ email: 'ada@example.com' }).expect(201);
    expect(created.body).toMatchObject({ id: expect.any(Number), email: 'ada@example.com' });
    await http.post('/clients').send({ email: 'ada@example.com' }).expect(409);
    const bad = await http.post('/clients').send({ email: 'not-an-email' }).expect(400);
    expect(bad.body.message).toEqual(['email must be an email']);
  });

  it('sends a login link through the outbox: 202, then the email with a fresh token', async () => {
    const client = (await http.post('/clients').send({ email: 'grace@example.com' }).expect(201)).body;
    const accepted = await http.post('/clients/login-link').send({ email: 'grace@example.com' }).expect(202);
    expect(accepted.body).toEqual({ clientId: client.id, jobId: expect.stringMatching(/^\d+$/) });

    let emails: { to: string; clientId: number; token: string; sentAt: string }[] = [];
    await waitFor('the login-link email', async () => {
      emails = (await http.get('/emails').expect(200)).body.filter((e: { to: string }) => e.to === 'grace@example.com');
      return emails.length === 1;
    });
    expect(emails[0]).toMatchObject({ clientId: client.id, token: expect.stringMatching(/^[\w-]{20,}$/), sentAt: expect.any(String) });
    const tokens = await db.query<{ token: string }>('SELECT "token" FROM "login_token" WHERE "client_id" = $1', client.id);
    expect(tokens.map((t) => t.token)).toEqual([emails[0].token]);
    await waitFor('the job deleted', async () => (await db.countJobs()) === 0);
  });

  it('answers 404 for an unknown email and enqueues nothing', async () => {
    const response = await http.post('/clients/login-link').send({ email: 'nobody@example.com' }).expect(404);
    expect(response.body.message).toBe('No client with email nobody@example.com');
    expect(await db.countJobs()).toBe(0);
  });

  it('dead-letters reticulateSplines after its three attempts, lists it and replays it', async () => {
    const { jobId } = (await http.post('/splines').send({ target: 'terrain' }).expect(202)).body;
    let letters: { id: string; jobId: string; type: string; attempts: number; errorMessage: string }[] = [];
    await waitFor('the dead letter', async () => {
      letters = (await http.get('/dead-letters').expect(200)).body.items;
      return letters.some((l) => l.jobId === jobId);
    });
    const letter = letters.find((l) => l.jobId === jobId)!;
    expect(letter).toMatchObject({ type: 'reticulateSplines', attempts: 3, errorMessage: 'Reticulating splines for "terrain" is not implemented yet' });

    const replayed = (await http.post(`/dead-letters/${letter.id}/replay`).expect(202)).body;
    expect(replayed.jobId).toMatch(/^\d+$/);
    await waitFor('the replayed job dead-lettered again', async () => {
      const items = (await http.get('/dead-letters?type=reticulateSplines').expect(200)).body.items;
      return items.some((l: { jobId: string }) => l.jobId === replayed.jobId);
    });
    const again = await http.post(`/dead-letters/${letter.id}/replay`).expect(404);
    expect(again.body.message).toContain(`No dead letter has the id ${letter.id}: it may have been replayed`);
    const malformed = await http.post('/dead-letters/abc/replay').expect(400);
    expect(malformed.body.message).toBe('id must be a dead-letter id (a string of digits from 1 to 9223372036854775807), got "abc"');
    const beyond = await http.post('/dead-letters/9999999999999999999/replay').expect(400); // digits, but beyond 64 bits
    expect(beyond.body.message).toContain('got "9999999999999999999"');
    const unknown = await http.post('/dead-letters/999999/replay').expect(404);
    expect(unknown.body.message).toBe('No dead letter has the id 999999: it may have been replayed (its job is back in the queue, under a new id) or deleted already; nothing was changed.');
    await http.get('/dead-letters?limit=0').expect(400);
  });

  it('reports its health and Prometheus metrics', async () => {
    const health = await http.get('/health').expect(200);
    expect(health.body).toMatchObject({ status: 'ok', info: { jobs: { status: 'up', runner: 'running', database: 'reachable' } } });
    const metrics = await http.get('/metrics').expect(200);
    expect(metrics.headers['content-type']).toContain('text/plain');
    expect(metrics.text).toContain('doctor_job_processed_total{type="sendClientLoginLink",outcome="succeeded"} 1');
    expect(metrics.text).toMatch(/doctor_job_dead_letters\{type="reticulateSplines"\} [12]/);
  });

  it.each([2_500, 10_000])('answers 400 to a JSON body nested %i levels deep (ValidationPipe would overflow the stack: a 500)', async (levels) => {
    const body = '{"a":'.repeat(levels) + '1' + '}'.repeat(levels); // 10,000 levels: 60 kB, under body-parser's 100 kB limit
    const response = await http.post('/splines').set('Content-Type', 'application/json').send(body).expect(400);
    expect(response.body.message).toBe('The request body is nested deeper than 32 levels.');
    expect(await db.countJobs()).toBe(0);
  });

  it('refuses an invalid splines body without enqueueing', async () => {
    await http.post('/splines').send({ target: '' }).expect(400);
    await http.post('/splines').send({}).expect(400);
    expect(await db.countJobs()).toBe(0);
  });
});

describePostgres('several sample instances on one PostgreSQL database', () => {
  const CLIENTS = 40;
  let db: TestDatabase;
  const apps: INestApplication[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('postgresql');
    apps.push(await startSample(db), await startSample(db));
  });
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await db?.dispose();
  });

  it('share the work: every login link is sent exactly once', async () => {
    for (let i = 0; i < CLIENTS; i++) {
      const http = request(apps[i % 2].getHttpServer());
      await http.post('/clients').send({ email: `user${i}@example.com` }).expect(201);
      await http.post('/clients/login-link').send({ email: `user${i}@example.com` }).expect(202);
    }
    await waitFor('all emails', async () => (await db.countJobs()) === 0, 30_000);
    const emails = (await request(apps[1].getHttpServer()).get('/emails').expect(200)).body as { to: string }[];
    expect(emails).toHaveLength(CLIENTS);
    expect(new Set(emails.map((e) => e.to)).size).toBe(CLIENTS);
  });
});
