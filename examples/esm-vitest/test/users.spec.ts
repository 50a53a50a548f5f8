import { createRequire } from 'node:module';
import * as nestCommon from '@nestjs/common';
import * as nestCore from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { OutboxService } from 'doctor-job';
import { JobTester, withoutRunner } from 'doctor-job/testing';
import request from 'supertest';
import { AppModule } from '../src/app.module.js';
import { setUpApp } from '../src/app.setup.js';
import { MailerService } from '../src/mailer/mailer.service.js';
import { PrismaService } from '../src/prisma/prisma.service.js';
import { UsersService } from '../src/users/users.service.js';
import type { Prisma } from '../src/generated/prisma/client.js';

let app: INestApplication;
let jobs: JobTester;
let prisma: PrismaService;
let mailer: MailerService;

beforeAll(async () => {
  // withoutRunner: jobs stay queued until the test drains them.
  const moduleRef = await withoutRunner(Test.createTestingModule({ imports: [AppModule] })).compile();
  app = setUpApp(moduleRef.createNestApplication());
  await app.init();
  jobs = JobTester.from(app);
  prisma = app.get(PrismaService);
  mailer = app.get(MailerService);
});

afterAll(() => app.close());

beforeEach(async () => {
  // Doctor Job's models are in the schema (prisma/doctor-job.prisma): an empty queue for each test.
  await prisma.doctorJob.deleteMany();
  await prisma.doctorJobDeadLetter.deleteMany();
  await prisma.user.deleteMany();
  mailer.sent.length = 0;
});

describe('Doctor Job in an ES-module app', () => {
  it('loads one @nestjs/common and one @nestjs/core: what doctor-job (CommonJS) requires is what the app imports', () => {
    const requireFromDoctorJob = createRequire(import.meta.resolve('doctor-job'));
    expect(requireFromDoctorJob('@nestjs/common').Injectable).toBe(nestCommon.Injectable);
    expect(requireFromDoctorJob('@nestjs/core').DiscoveryService).toBe(nestCore.DiscoveryService);
  });

  it('injects OutboxService and finds the @JobHandler', async () => {
    expect(app.get(OutboxService)).toBeInstanceOf(OutboxService);
    // perform() runs the handler found by discovery, after enqueue's checks (here: the DTO's).
    await expect(jobs.perform('sendWelcomeEmail', { userId: 0 })).rejects.toThrow('userId must not be less than 1');
  });

  it('enqueues the welcome email in the sign-up transaction', async () => {
    const res = await request(app.getHttpServer()).post('/users').send({ email: 'ada@example.com' }).expect(201);

    expect(await jobs.enqueued('sendWelcomeEmail')).toEqual([expect.objectContaining({ payload: { userId: res.body.id } })]);
    expect(mailer.sent).toEqual([]); // the runner is off: nothing ran yet
  });

  it('runs the handler when the queue is drained', async () => {
    const user = await app.get(UsersService).signUp('grace@example.com');

    const { jobs: ran, remaining } = await jobs.drain();

    expect(ran).toEqual([expect.objectContaining({ type: 'sendWelcomeEmail', outcome: 'succeeded', attempts: 1 })]);
    expect(remaining).toEqual([]);
    expect(mailer.sent).toEqual([{ to: 'grace@example.com', subject: 'Welcome!' }]);
    expect((await prisma.user.findUniqueOrThrow({ where: { id: user.id } })).welcomeEmailSentAt).toBeInstanceOf(Date);
    expect(await jobs.enqueued()).toEqual([]);
  });

  it('leaves neither the user nor the job when the transaction rolls back', async () => {
    const outbox = app.get(OutboxService);
    await expect(
      outbox.transaction(async (tx: Prisma.TransactionClient) => {
        const user = await tx.user.create({ data: { email: 'rolled-back@example.com' } });
        await outbox.enqueue(tx, 'sendWelcomeEmail', { userId: user.id });
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');

    expect(await prisma.user.count()).toBe(0);
    expect(await jobs.enqueued()).toEqual([]);
  });

  it('dead-letters the job of a user that is gone, without retrying', async () => {
    const user = await prisma.user.create({ data: { email: 'gone@example.com' } });
    await app.get(OutboxService).transaction(async (tx: Prisma.TransactionClient) => {
      await app.get(OutboxService).enqueue(tx, 'sendWelcomeEmail', { userId: user.id });
      await tx.user.delete({ where: { id: user.id } });
    });

    const { jobs: ran } = await jobs.drain();

    expect(ran).toEqual([expect.objectContaining({ outcome: 'dead-lettered', attempts: 1 })]);
    expect(ran[0].errors[0]).toContain(`User ${user.id} does not exist`);
  });
});
