import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Redis } from 'ioredis';
import request from 'supertest';
import { createTestDatabase, type TestDatabase } from '../support/databases';
import { waitFor } from '../support/wait';
import type * as AppModuleFile from '../../sample/app.module';
import type * as AppSetupFile from '../../sample/app.setup';

describe('sample app relaying clientCreated to Redis (EVENTS_REDIS_URL)', () => {
  let db: TestDatabase;
  let app: INestApplication;
  let subscriber: Redis;
  const received: { pattern: string; data: { clientId: number; email: string } }[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    process.env.DATABASE_URL = db.url;
    process.env.POLL_INTERVAL_MS = '50';
    process.env.EVENTS_REDIS_URL = 'redis://127.0.0.1:6379';
    subscriber = new Redis({ host: '127.0.0.1', port: 6379 });
    subscriber.on('message', (_channel: string, message: string) => received.push(JSON.parse(message)));
    await subscriber.subscribe('clients.created');
    // Loaded after the environment is set: the sample reads EVENTS_REDIS_URL when its module is defined.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { AppModule } = require('../../sample/app.module') as typeof AppModuleFile;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { configureApp } = require('../../sample/app.setup') as typeof AppSetupFile;
    const module = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app = configureApp(module.createNestApplication({ logger: ['error'] }));
    await app.init();
  });
  afterAll(async () => {
    await app?.close();
    subscriber?.disconnect();
    await db?.dispose();
    delete process.env.EVENTS_REDIS_URL;
    delete process.env.DATABASE_URL;
  });

  it('publishes the event of each client created over HTTP, once the transaction has committed', async () => {
    const http = request(app.getHttpServer());
    const a = (await http.post('/clients').send({ email: 'relay-a@example.com' }).expect(201)).body;
    const b = (await http.post('/clients').send({ email: 'relay-b@example.com' }).expect(201)).body;
    await http.post('/clients').send({ email: 'relay-a@example.com' }).expect(409); // rolled back: no event
    await waitFor('both events', () => received.length >= 2, 10_000);
    await waitFor('queue empty', async () => (await db.countJobs()) === 0);
    expect(received.map((m) => m.pattern)).toEqual(['clients.created', 'clients.created']);
    // Each event once, in either order: the two jobs have no ordering key, and each commit wakes the
    // runner at once, so the first can be relayed alone and the second overtake it (a CI run saw that).
    expect(received.map((m) => m.data).sort((x, y) => x.clientId - y.clientId)).toEqual([
      { clientId: a.id, email: 'relay-a@example.com' },
      { clientId: b.id, email: 'relay-b@example.com' },
    ]);
  });
});
