import { randomBytes } from 'node:crypto';
import { ClientsModule, Transport } from '@nestjs/microservices';
import { KafkaRequestSerializer } from '@nestjs/microservices/serializers/kafka-request.serializer.js';
import { ScheduleModule } from '@nestjs/schedule';
import { Test, type TestingModule } from '@nestjs/testing';
import { trace } from '@opentelemetry/api';
import { connect as natsConnect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import * as amqp from 'amqplib';
import { Queue } from 'bullmq';
import * as mqtt from 'mqtt';
import { BullMqRelay, ClientProxyRelay, DoctorJobModule, JetStreamRelay, OutboxService } from 'doctor-job';
import { headerTransportOf, withTraceHeaders } from '../../lib/relay/trace-headers';
import { createTestDatabase, describePostgres, type TestDatabase } from '../support/databases';
import { TestTracing } from '../support/otel';
import { waitFor } from '../support/wait';

const tracing = new TestTracing();

/** The W3C traceparent of the job's process span: what the relayed message must carry. */
function processTraceparent(jobId: string): string {
  const [process] = tracing.processSpans(jobId);
  const { traceId, spanId } = process.spanContext();
  return `00-${traceId}-${spanId}-01`;
}

describePostgres('relays carry the trace context in message headers', () => {
  const suffix = randomBytes(4).toString('hex');
  const rmqQueue = `doctor_job_trace_${suffix}`;
  const natsSubject = `doctor-job.trace.${suffix}`;
  const mqttTopic = `doctor-job/trace/${suffix}`;
  const bullQueue = `doctor-job-trace-${suffix}`;
  const jsStream = `DJ_TRACE_${suffix}`;
  const jsSubject = `doctor-job.trace-js.${suffix}`;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let db: TestDatabase;
  let module: TestingModule;
  let queue: Queue;
  let outbox: OutboxService<Record<string, object>>;

  beforeAll(async () => {
    tracing.install();
    db = await createTestDatabase('postgresql');
    queue = new Queue(bullQueue, { connection: { host: '127.0.0.1', port: 6379 } });
    nc = await natsConnect({ servers: 'nats://127.0.0.1:4222' });
    jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: jsStream, subjects: [jsSubject], storage: StorageType.Memory });
    module = await Test.createTestingModule({
      imports: [
        ScheduleModule.forRoot(),
        ClientsModule.register([
          { name: 'RMQ', transport: Transport.RMQ, options: { urls: ['amqp://guest:guest@127.0.0.1:5672'], queue: rmqQueue, queueOptions: { durable: false } } },
          { name: 'NATS', transport: Transport.NATS, options: { servers: ['nats://127.0.0.1:4222'] } },
          { name: 'MQTT5', transport: Transport.MQTT, options: { url: 'mqtt://127.0.0.1:1883', protocolVersion: 5 } },
        ]),
        DoctorJobModule.forRoot({ prisma: db.prisma, pollIntervalMs: 50 }),
      ],
      providers: [
        ClientProxyRelay('toRabbit', 'RMQ', { pattern: 'orders.event' }),
        ClientProxyRelay('toRabbitBare', 'RMQ', { pattern: 'orders.bare', traceHeaders: false }),
        ClientProxyRelay('toNats', 'NATS', { pattern: natsSubject }),
        ClientProxyRelay('toMqtt', 'MQTT5', { pattern: mqttTopic }),
        { provide: 'BULL_QUEUE', useValue: queue },
        BullMqRelay('toBull', 'BULL_QUEUE'),
        JetStreamRelay('toJetStream', { connection: { servers: 'nats://127.0.0.1:4222' }, subject: jsSubject, stream: jsStream }),
      ],
    }).compile();
    await module.init();
    outbox = module.get(OutboxService);
  });
  afterAll(async () => {
    await module?.close();
    await queue?.obliterate({ force: true });
    await queue?.close();
    await jsm?.streams.delete(jsStream).catch(() => undefined);
    await nc?.drain();
    await db?.dispose();
    tracing.uninstall();
  });

  const enqueueTraced = (type: string, payload: object) =>
    trace.getTracer('test').startActiveSpan('request', async (span) => {
      try {
        return await outbox.transaction((tx) => outbox.enqueue(tx, type, payload));
      } finally {
        span.end();
      }
    });
  const relayed = (id: string) => waitFor(`job ${id} relayed`, () => tracing.processSpans(id).some((s) => s.attributes['messaging.doctor_job.outcome'] === 'succeeded'), 15_000);

  it('RabbitMQ: the message’s headers carry the traceparent of the job’s process span; the body is the payload as before; traceHeaders: false leaves them out', async () => {
    const connection = await amqp.connect('amqp://guest:guest@127.0.0.1:5672');
    const channel = await connection.createChannel();
    await channel.assertQueue(rmqQueue, { durable: false });
    const received: { pattern: string; data: unknown; traceparent?: unknown }[] = [];
    await channel.consume(rmqQueue, (msg) => {
      if (!msg) return;
      const packet = JSON.parse(msg.content.toString()) as { pattern: string; data: unknown };
      received.push({ ...packet, traceparent: msg.properties.headers?.traceparent });
      channel.ack(msg);
    });
    try {
      const id = await enqueueTraced('toRabbit', { order: 1 });
      const bare = await enqueueTraced('toRabbitBare', { order: 2 });
      await relayed(id);
      await relayed(bare);
      await waitFor('both consumed', () => received.length === 2, 10_000);
      expect(received).toEqual(
        expect.arrayContaining([
          { pattern: 'orders.event', data: { order: 1 }, traceparent: processTraceparent(id) },
          { pattern: 'orders.bare', data: { order: 2 }, traceparent: undefined },
        ]),
      );
    } finally {
      await channel.deleteQueue(rmqQueue);
      await channel.close();
      await connection.close();
    }
  });

  it('NATS: the message headers carry the traceparent', async () => {
    const nc = await natsConnect({ servers: 'nats://127.0.0.1:4222' });
    const received: { data: unknown; traceparent?: string }[] = [];
    const subscription = nc.subscribe(natsSubject);
    void (async () => {
      for await (const msg of subscription) received.push({ data: (JSON.parse(msg.string()) as { data: unknown }).data, traceparent: msg.headers?.get('traceparent') });
    })();
    try {
      await nc.flush();
      const id = await enqueueTraced('toNats', { order: 3 });
      await relayed(id);
      await waitFor('received', () => received.length === 1, 10_000);
      expect(received).toEqual([{ data: { order: 3 }, traceparent: processTraceparent(id) }]);
    } finally {
      await nc.drain();
    }
  });

  it('NATS JetStream: the stored message carries the traceparent beside the relay headers', async () => {
    const id = await enqueueTraced('toJetStream', { order: 7 });
    await relayed(id);
    const stored = await jsm.streams.getMessage(jsStream, { seq: 1 });
    expect(stored?.json()).toEqual({ order: 7 });
    expect(stored?.header.get('traceparent')).toBe(processTraceparent(id));
    expect(stored?.header.get('Nats-Msg-Id')).toBe(id);
  });

  it('MQTT 5: the user properties carry the traceparent', async () => {
    const client = await mqtt.connectAsync('mqtt://127.0.0.1:1883', { protocolVersion: 5 });
    const received: { data: unknown; traceparent?: unknown }[] = [];
    client.on('message', (topic, message, packet) => {
      if (topic === mqttTopic) received.push({ data: (JSON.parse(message.toString()) as { data: unknown }).data, traceparent: packet.properties?.userProperties?.traceparent });
    });
    try {
      await client.subscribeAsync(mqttTopic, { qos: 1 });
      const id = await enqueueTraced('toMqtt', { order: 4 });
      await relayed(id);
      await waitFor('received', () => received.length === 1, 10_000);
      expect(received).toEqual([{ data: { order: 4 }, traceparent: processTraceparent(id) }]);
    } finally {
      await client.endAsync();
    }
  });

  it('BullMQ: the job’s telemetry metadata (what bullmq-otel reads) carries the traceparent; the data is the payload', async () => {
    const id = await enqueueTraced('toBull', { order: 5 });
    await relayed(id);
    const job = await queue.getJob(`doctor-job-${id}`);
    expect(job?.data).toEqual({ order: 5 });
    expect(JSON.parse(job!.opts.telemetry!.metadata!)).toEqual({ traceparent: processTraceparent(id) });
  });

  it('an untraced job (no tracer provider) is relayed without headers', async () => {
    trace.disable();
    try {
      const id = await outbox.transaction((tx) => outbox.enqueue(tx, 'toBull', { order: 6 }));
      await waitFor('relayed', async () => (await queue.getJob(`doctor-job-${id}`)) !== undefined, 15_000);
      expect((await queue.getJob(`doctor-job-${id}`))!.opts.telemetry).toBeUndefined();
    } finally {
      trace.setGlobalTracerProvider(tracing.provider);
    }
  });
});

describe('trace headers per transport', () => {
  const headers = { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', tracestate: 'vendor=x' };

  it('Kafka: the record headers carry them; a payload Nest reads as a Kafka message keeps its key and headers', () => {
    const serializer = new KafkaRequestSerializer();
    expect(serializer.serialize(withTraceHeaders('kafka', { order: 1 }, headers) as never)).toEqual({ value: '{"order":1}', headers });
    expect(serializer.serialize(withTraceHeaders('kafka', { key: 'k', value: { order: 2 }, headers: { mine: 'y' } }, headers) as never)).toEqual({
      key: 'k',
      value: '{"order":2}',
      headers: { mine: 'y', ...headers },
    });
    expect(serializer.serialize(withTraceHeaders('kafka', 'text', headers) as never)).toEqual({ value: 'text', headers });
  });

  it('the transport is read from the client’s class (subclasses too); Redis, TCP and look-alikes have no headers', () => {
    class ClientRMQ {}
    class MyRabbit extends ClientRMQ {}
    class ClientRedis {}
    expect(headerTransportOf(new MyRabbit())).toBe('rmq');
    expect(headerTransportOf(new ClientRedis())).toBeUndefined();
    expect(headerTransportOf({ emit: () => undefined })).toBeUndefined();
    expect(headerTransportOf(null)).toBeUndefined();
  });
});
