import { randomBytes } from 'node:crypto';
import { ClientsModule, Transport } from '@nestjs/microservices';
import { Test, type TestingModule } from '@nestjs/testing';
import { ScheduleModule } from '@nestjs/schedule';
import * as amqp from 'amqplib';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import * as mqtt from 'mqtt';
import { connect as natsConnect } from '@nats-io/transport-node';
import { BullMqRelay, ClientProxyRelay, DeadLetterService, DoctorJobModule, OutboxService } from 'doctor-job';
import { createTestDatabase, describePostgres, type TestDatabase } from '../support/databases';
import { waitFor } from '../support/wait';

const KEYS = ['order-1', 'order-2', 'order-3'];
const PER_KEY = 10;
const UNKEYED = 5;
const TOTAL = KEYS.length * PER_KEY + UNKEYED;

interface Message {
  key: string | null;
  seq: number;
}

/** Enqueues the same set of jobs for every broker: 3 keys × 10 in order, plus unkeyed ones. */
async function enqueueAll(outbox: OutboxService<Record<string, Message>>, type: string): Promise<void> {
  const jobs: { type: string; payload: Message; orderingKey?: string }[] = [];
  for (let seq = 1; seq <= PER_KEY; seq++) for (const key of KEYS) jobs.push({ type, payload: { key, seq }, orderingKey: key });
  for (let seq = 1; seq <= UNKEYED; seq++) jobs.push({ type, payload: { key: null, seq } });
  for (let i = 0; i < jobs.length; i += 7) await outbox.transaction((tx) => outbox.enqueueMany(tx, jobs.slice(i, i + 7)));
}

function expectAllInOrder(received: Message[]): void {
  expect(received).toHaveLength(TOTAL);
  for (const key of KEYS) {
    expect(received.filter((m) => m.key === key).map((m) => m.seq)).toEqual(Array.from({ length: PER_KEY }, (_, i) => i + 1));
  }
  expect(received.filter((m) => m.key === null).map((m) => m.seq).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5]);
}

describePostgres('relays to real brokers', () => {
  const suffix = randomBytes(4).toString('hex');
  const rmqQueue = `doctor_job_relay_${suffix}`;
  const natsSubject = `doctor-job.relay.${suffix}`;
  const redisChannel = `doctor-job:relay:${suffix}`;
  const bullQueue = `doctor-job-relay-${suffix}`;
  const mqttTopic = `doctor-job/relay/${suffix}`;
  let db: TestDatabase;
  let module: TestingModule;
  let queue: Queue;

  beforeAll(async () => {
    db = await createTestDatabase('postgresql');
    queue = new Queue(bullQueue, { connection: { host: '127.0.0.1', port: 6379 } });
    module = await Test.createTestingModule({
      imports: [
        ScheduleModule.forRoot(),
        ClientsModule.register([
          { name: 'RMQ', transport: Transport.RMQ, options: { urls: ['amqp://guest:guest@127.0.0.1:5672'], queue: rmqQueue, queueOptions: { durable: false } } },
          { name: 'NATS', transport: Transport.NATS, options: { servers: ['nats://127.0.0.1:4222'] } },
          { name: 'REDIS', transport: Transport.REDIS, options: { host: '127.0.0.1', port: 6379 } },
          { name: 'MQTT', transport: Transport.MQTT, options: { url: 'mqtt://127.0.0.1:1883' } },
          { name: 'REDIS_DOWN', transport: Transport.REDIS, options: { host: '127.0.0.1', port: 1, retryAttempts: 0, retryDelay: 10 } },
        ]),
        DoctorJobModule.forRoot({ prisma: db.prisma, pollIntervalMs: 50, concurrency: 8, batchSize: 8 }),
      ],
      providers: [
        ClientProxyRelay('toRabbit', 'RMQ', { pattern: 'orders.event' }),
        ClientProxyRelay('toNats', 'NATS', { pattern: natsSubject }),
        ClientProxyRelay('toRedis', 'REDIS', { pattern: redisChannel }),
        ClientProxyRelay('toMqtt', 'MQTT', { pattern: mqttTopic }),
        ClientProxyRelay('toNowhere', 'REDIS_DOWN', { pattern: 'lost', timeoutMs: 300, maxAttempts: 2, backoff: { baseMs: 10, maxMs: 10, jitter: 0 } }),
        { provide: 'BULL_QUEUE', useValue: queue },
        BullMqRelay('toBull', 'BULL_QUEUE'),
      ],
    }).compile();
    await module.init();
  });
  afterAll(async () => {
    await module?.close();
    await queue?.obliterate({ force: true });
    await queue?.close();
    await db?.dispose();
  });

  const outbox = () => module.get<OutboxService<Record<string, Message>>>(OutboxService);
  const drained = () => waitFor('relayed', async () => (await db.countJobs()) === 0, 30_000, 50);

  it('RabbitMQ: a consumer of the queue receives every message, in order per ordering key', async () => {
    const connection = await amqp.connect('amqp://guest:guest@127.0.0.1:5672');
    const channel = await connection.createChannel();
    await channel.assertQueue(rmqQueue, { durable: false });
    const received: Message[] = [];
    await channel.consume(rmqQueue, (msg) => {
      if (!msg) return;
      const packet = JSON.parse(msg.content.toString()) as { pattern: string; data: Message };
      expect(packet.pattern).toBe('orders.event');
      received.push(packet.data);
      channel.ack(msg);
    });
    try {
      await enqueueAll(outbox(), 'toRabbit');
      await drained();
      await waitFor('all consumed', () => received.length === TOTAL, 10_000);
      expectAllInOrder(received);
    } finally {
      await channel.deleteQueue(rmqQueue);
      await channel.close();
      await connection.close();
    }
  });

  it('NATS: a subscriber receives every message, in order per ordering key', async () => {
    const nc = await natsConnect({ servers: 'nats://127.0.0.1:4222' });
    const received: Message[] = [];
    const subscription = nc.subscribe(natsSubject);
    void (async () => {
      for await (const msg of subscription) received.push((JSON.parse(msg.string()) as { data: Message }).data);
    })();
    try {
      await nc.flush();
      await enqueueAll(outbox(), 'toNats');
      await drained();
      await waitFor('all received', () => received.length === TOTAL, 10_000);
      expectAllInOrder(received);
    } finally {
      await nc.drain();
    }
  });

  it('Redis pub/sub: a subscriber receives every message, in order per ordering key', async () => {
    const subscriber = new Redis({ host: '127.0.0.1', port: 6379 });
    const received: Message[] = [];
    subscriber.on('message', (channel: string, message: string) => {
      if (channel === redisChannel) received.push((JSON.parse(message) as { data: Message }).data);
    });
    try {
      await subscriber.subscribe(redisChannel);
      await enqueueAll(outbox(), 'toRedis');
      await drained();
      await waitFor('all received', () => received.length === TOTAL, 10_000);
      expectAllInOrder(received);
    } finally {
      subscriber.disconnect();
    }
  });

  it('MQTT (Mosquitto): a subscriber receives every message, in order per ordering key', async () => {
    const client = await mqtt.connectAsync('mqtt://127.0.0.1:1883');
    const received: Message[] = [];
    client.on('message', (topic, message) => {
      if (topic === mqttTopic) received.push((JSON.parse(message.toString()) as { data: Message }).data);
    });
    try {
      await client.subscribeAsync(mqttTopic, { qos: 1 });
      await enqueueAll(outbox(), 'toMqtt');
      await drained();
      await waitFor('all received', () => received.length === TOTAL, 10_000);
      expectAllInOrder(received);
    } finally {
      await client.endAsync();
    }
  });

  it('BullMQ: a worker processes every job once, in order per ordering key', async () => {
    const received: Message[] = [];
    const ids = new Set<string>();
    const worker = new Worker(
      bullQueue,
      async (job) => {
        ids.add(job.id!);
        received.push(job.data as Message);
      },
      { connection: { host: '127.0.0.1', port: 6379 }, concurrency: 1 },
    );
    try {
      await enqueueAll(outbox(), 'toBull');
      await drained();
      await waitFor('all processed', () => received.length === TOTAL, 15_000);
      expectAllInOrder(received);
      expect([...ids].every((id) => /^doctor-job-\d+$/.test(id))).toBe(true);
      expect(ids.size).toBe(TOTAL);
    } finally {
      await worker.close();
    }
  });

  it('a publish that fails is retried, then dead-lettered; the job is never dropped', async () => {
    await outbox().transaction((tx) => outbox().enqueue(tx, 'toNowhere', { key: null, seq: 1 }));
    await waitFor('dead-lettered', async () => (await db.countDeadLetters()) === 1, 15_000);
    const { items } = await module.get(DeadLetterService).list({ type: 'toNowhere' });
    const letter = items[0];
    expect(letter).toMatchObject({ type: 'toNowhere', attempts: 2, payload: { key: null, seq: 1 } });
    expect(letter.errorMessage).toMatch(/ECONNREFUSED|Connection is closed|timeout of 300 ms/);
  });
});
