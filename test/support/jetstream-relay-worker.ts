// A worker process for test/integration/jetstream-relay.spec.ts: a Nest application context with
// DoctorJobModule on DATABASE_URL and a JetStreamRelay for the job type RELAY_TYPE into STREAM.
// Each PubAck is printed as "ACK <job id> <attempt> <stream seq> <duplicate>". With
// KILL_AFTER_ACKS=n the process SIGKILLs itself right after its n-th PubAck, inside the relay's
// onPubAck hook: the broker has stored the message, the handler has not returned, so the job is
// not deleted. Prints "READY <pid>" once the runner runs.
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { DoctorJobModule, JetStreamRelay, type PrismaClientLike } from 'doctor-job';
import { createPrismaClient } from '../../sample/database/prisma.service';

const killAfter = Number(process.env.KILL_AFTER_ACKS ?? 0);
let acks = 0;

async function main() {
  const prisma = await createPrismaClient(process.env.DATABASE_URL!);

  @Module({
    imports: [
      ScheduleModule.forRoot(),
      DoctorJobModule.forRoot({
        prisma: prisma as unknown as PrismaClientLike,
        concurrency: Number(process.env.CONCURRENCY ?? 1),
        batchSize: Number(process.env.BATCH_SIZE ?? 1),
        leaseMs: Number(process.env.LEASE_MS ?? 1_500),
        pollIntervalMs: 50,
      }),
    ],
    providers: [
      JetStreamRelay(process.env.RELAY_TYPE!, {
        connection: { servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222', name: `dj-relay-worker-${process.pid}` },
        subject: (payload) => `${process.env.SUBJECT_PREFIX}.${(payload as { key: string }).key}`,
        stream: process.env.STREAM,
        orderingKey: (payload) => (payload as { key: string }).key,
        maxAttempts: 10,
        backoff: { baseMs: 50, maxMs: 50, jitter: 0 },
        onPubAck: (ack, job) => {
          process.stdout.write(`ACK ${job.id} ${job.attempt} ${ack.seq} ${ack.duplicate}\n`);
          // stdout is a pipe: written synchronously on Linux, so the line is out before the kill.
          if (++acks === killAfter) process.kill(process.pid, 'SIGKILL');
        },
      }),
    ],
  })
  class WorkerModule {}

  const app = await NestFactory.createApplicationContext(WorkerModule, { logger: ['warn', 'error'] });
  app.enableShutdownHooks();
  process.on('exit', () => void prisma.$disconnect());
  process.stdout.write(`READY ${process.pid}\n`);
}

void main();
