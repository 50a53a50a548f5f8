import { Injectable } from '@nestjs/common';
import { context, createTraceState, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { JobHandler, NonRetryableJobError, type JobContext, type TransactionalJobContext, type TransactionClientLike } from 'doctor-job';
import { createTestDatabase, eachDialect, type TestDatabase } from '../support/databases';
import { parentOf, TestTracing } from '../support/otel';
import { startOutboxApp, type OutboxApp } from '../support/outbox-app';
import { sleep, waitFor } from '../support/wait';

const tracing = new TestTracing();
const tracer = () => trace.getTracer('test');
const handled: string[] = [];

class FirstAttemptFails extends Error {}

@Injectable()
class TracedHandlers {
  @JobHandler('traced')
  async traced(_payload: unknown, job: JobContext) {
    await sleep(5); // the span below starts in a later turn of the event loop: the context must follow
    tracer().startActiveSpan('inside traced', (span) => span.end());
    handled.push(job.id);
  }

  @JobHandler('flaky', { maxAttempts: 3, backoff: { baseMs: 20, maxMs: 20, jitter: 0 } })
  flaky(_payload: unknown, job: JobContext) {
    if (job.attempt === 1) throw new FirstAttemptFails('the first attempt fails');
    handled.push(job.id);
  }

  @JobHandler('doomed', { maxAttempts: 5 })
  doomed() {
    throw new NonRetryableJobError('doomed from the start');
  }

  @JobHandler('in-transaction', { transaction: true })
  async inTransaction(_payload: unknown, job: TransactionalJobContext<TransactionClientLike>) {
    await job.tx.$queryRawUnsafe('SELECT 1');
    tracer().startActiveSpan('inside transaction', (span) => span.end());
    handled.push(job.id);
  }
}

/** Runs `fn` inside an active span of the test, as a request handler would; returns the span's context and fn's result. */
async function inRequest<T>(fn: () => Promise<T>): Promise<{ result: T; request: { traceId: string; spanId: string } }> {
  return tracer().startActiveSpan('request', async (span) => {
    try {
      return { result: await fn(), request: span.spanContext() };
    } finally {
      span.end();
    }
  });
}

eachDialect('OpenTelemetry tracing', (dialect) => {
  let db: TestDatabase;
  let app: OutboxApp;

  const storedContexts = async (table: 'doctor_job' | 'doctor_job_dead_letter') =>
    new Map((await db.query<{ id: unknown; job_id?: unknown; trace_context: string | null }>(`SELECT * FROM "${table}"`)).map((row) => [String(row.job_id ?? row.id), row.trace_context]));
  const sendSpanOf = (jobId: string) => {
    const [first] = tracing.processSpans(jobId);
    return tracing.spans().find((span) => span.spanContext().spanId === parentOf(first))!;
  };

  beforeAll(async () => {
    handled.length = 0;
    tracing.install();
    db = await createTestDatabase(dialect);
    app = await startOutboxApp(db, [TracedHandlers], { concurrency: 4, batchSize: 4 });
  });
  afterAll(async () => {
    await app?.close();
    await db?.dispose();
    tracing.uninstall();
  });
  beforeEach(() => tracing.exporter.reset());

  it('enqueue is a send span (PRODUCER) in the active span; the handler runs in a process span (CONSUMER) that is its child, with the messaging attributes; the handler’s spans are children of it', async () => {
    const { result: id, request } = await inRequest(() => app.outbox.transaction((tx) => app.outbox.enqueue(tx, 'traced', { n: 1 })));
    await waitFor('the traced job', () => handled.includes(id) && tracing.processSpans(id).length === 1);

    const [send] = tracing.spans('send traced');
    const [process] = tracing.processSpans(id);
    const [inside] = tracing.spans('inside traced');
    expect(send.kind).toBe(SpanKind.PRODUCER);
    expect(send.spanContext().traceId).toBe(request.traceId);
    expect(parentOf(send)).toBe(request.spanId);
    expect(send.attributes).toEqual({
      'messaging.system': 'doctor-job',
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'send',
      'messaging.destination.name': 'traced',
      'messaging.message.id': id,
    });
    expect(send.instrumentationScope.name).toBe('doctor-job');

    expect(process.name).toBe('process traced');
    expect(process.kind).toBe(SpanKind.CONSUMER);
    expect(process.spanContext().traceId).toBe(request.traceId);
    expect(parentOf(process)).toBe(send.spanContext().spanId);
    expect(process.links).toEqual([]);
    expect(process.status.code).toBe(SpanStatusCode.UNSET);
    expect(process.attributes).toEqual({
      'messaging.system': 'doctor-job',
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'process',
      'messaging.destination.name': 'traced',
      'messaging.message.id': id,
      'messaging.doctor_job.attempt': 1,
      'messaging.doctor_job.max_attempts': 5,
      'messaging.doctor_job.queue_wait_ms': expect.any(Number),
      'messaging.doctor_job.outcome': 'succeeded',
    });
    expect(process.attributes['messaging.doctor_job.queue_wait_ms']).toBeGreaterThanOrEqual(0);

    expect(parentOf(inside)).toBe(process.spanContext().spanId);
    expect(inside.spanContext().traceId).toBe(request.traceId);
  });

  it('stores the send span’s W3C traceparent (and the tracestate it inherits) with the job, in the insert', async () => {
    const remote = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: 1,
      isRemote: true,
      traceState: createTraceState('vendor=opaque,other=x'),
    });
    const [later, now] = await context.with(remote, () =>
      app.outbox.transaction(async (tx) => [await app.outbox.enqueue(tx, 'traced', { n: 2 }, { delayMs: 600_000 }), await app.outbox.enqueue(tx, 'traced', { n: 3 })]),
    );
    const send = tracing.spans('send traced').find((span) => span.attributes['messaging.message.id'] === later)!;
    expect(send.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(parentOf(send)).toBe('00f067aa0ba902b7');
    expect((await storedContexts('doctor_job')).get(later)).toBe(`00-4bf92f3577b34da6a3ce929d0e0e4736-${send.spanContext().spanId}-01 vendor=opaque,other=x`);

    await waitFor('the job due now', () => tracing.processSpans(now).length === 1);
    const [process] = tracing.processSpans(now);
    expect(process.spanContext().traceState?.serialize()).toBe('vendor=opaque,other=x');
    await db.execute('DELETE FROM "doctor_job"');
  });

  it('enqueueMany is one send span with the batch count; every job’s process span is its child', async () => {
    const { result: ids } = await inRequest(() =>
      app.outbox.transaction((tx) => app.outbox.enqueueMany(tx, [1, 2, 3].map((n) => ({ type: 'traced', payload: { n } })))),
    );
    await waitFor('three traced jobs', () => ids.every((id) => tracing.processSpans(id).length === 1));
    const sends = tracing.spans('send traced');
    expect(sends).toHaveLength(1);
    expect(sends[0].attributes).toMatchObject({ 'messaging.batch.message_count': 3, 'messaging.destination.name': 'traced' });
    expect(sends[0].attributes['messaging.message.id']).toBeUndefined();
    for (const id of ids) expect(parentOf(tracing.processSpans(id)[0])).toBe(sends[0].spanContext().spanId);

    await inRequest(() => app.outbox.transaction((tx) => app.outbox.enqueueMany(tx, [{ type: 'traced', payload: {} }, { type: 'flaky', payload: {} }])));
    await waitFor('the mixed batch’s send span', () => tracing.spans('send').length === 1);
    expect(tracing.spans('send')[0].attributes['messaging.destination.name']).toBeUndefined();
  });

  it('a retry is a new trace whose process span links to the enqueue’s span; the failed attempt records the error (status ERROR)', async () => {
    const { result: id } = await inRequest(() => app.outbox.transaction((tx) => app.outbox.enqueue(tx, 'flaky', {})));
    await waitFor('the second attempt', () => handled.includes(id) && tracing.processSpans(id).length === 2);
    const send = sendSpanOf(id);
    const [first, second] = tracing.processSpans(id);

    expect(parentOf(first)).toBe(send.spanContext().spanId);
    expect(first.status).toEqual({ code: SpanStatusCode.ERROR, message: 'the first attempt fails' });
    expect(first.attributes).toMatchObject({ 'messaging.doctor_job.attempt': 1, 'messaging.doctor_job.outcome': 'retry', 'messaging.doctor_job.retry_in_ms': 20, 'error.type': 'FirstAttemptFails' });
    expect(first.events).toEqual([expect.objectContaining({ name: 'exception', attributes: expect.objectContaining({ 'exception.message': 'the first attempt fails', 'exception.type': 'Error' }) })]);

    expect(parentOf(second)).toBeUndefined();
    expect(second.spanContext().traceId).not.toBe(send.spanContext().traceId);
    expect(second.links).toEqual([expect.objectContaining({ context: expect.objectContaining({ traceId: send.spanContext().traceId, spanId: send.spanContext().spanId }) })]);
    expect(second.attributes).toMatchObject({ 'messaging.doctor_job.attempt': 2, 'messaging.doctor_job.outcome': 'succeeded' });
    expect(second.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('a dead letter’s span has status ERROR and says it was dead-lettered; the dead letter keeps the trace context, and its replay runs as a child of the enqueue’s span again', async () => {
    const { result: id } = await inRequest(() => app.outbox.transaction((tx) => app.outbox.enqueue(tx, 'doomed', {})));
    await waitFor('the dead letter', async () => (await db.countDeadLetters()) === 1 && tracing.processSpans(id).length === 1);
    const send = sendSpanOf(id);
    const [process] = tracing.processSpans(id);
    expect(process.status).toEqual({ code: SpanStatusCode.ERROR, message: 'doomed from the start' });
    expect(process.attributes).toMatchObject({ 'messaging.doctor_job.outcome': 'dead_lettered', 'error.type': 'NonRetryableJobError' });
    expect(process.events.map((event) => event.name)).toEqual(['exception', 'doctor_job.dead_lettered']);
    expect((await storedContexts('doctor_job_dead_letter')).get(id)).toBe(`00-${send.spanContext().traceId}-${send.spanContext().spanId}-01`);

    const [letter] = (await app.deadLetters.list()).items;
    const [replayed] = await app.deadLetters.replay(letter.id);
    await waitFor('the replay dead-lettered again', async () => tracing.processSpans(replayed).length === 1 && (await db.countDeadLetters()) === 1);
    expect(parentOf(tracing.processSpans(replayed)[0])).toBe(send.spanContext().spanId);
    await db.execute('DELETE FROM "doctor_job_dead_letter"');
  });

  it('a transaction: true handler runs its transaction inside the process span', async () => {
    const { result: id } = await inRequest(() => app.outbox.transaction((tx) => app.outbox.enqueue(tx, 'in-transaction', {})));
    await waitFor('the transactional job', () => handled.includes(id) && tracing.processSpans(id).length === 1);
    const [process] = tracing.processSpans(id);
    expect(parentOf(process)).toBe(sendSpanOf(id).spanContext().spanId);
    expect(parentOf(tracing.spans('inside transaction')[0])).toBe(process.spanContext().spanId);
    expect(process.attributes['messaging.doctor_job.outcome']).toBe('succeeded');
  });

  it('a job enqueued outside any span is a trace of its own (root send span); one waiting for its time reports the wait', async () => {
    const id = await app.outbox.transaction((tx) => app.outbox.enqueue(tx, 'traced', {}, { delayMs: 400 }));
    await waitFor('the delayed job', () => tracing.processSpans(id).length === 1, 10_000);
    const send = sendSpanOf(id);
    expect(parentOf(send)).toBeUndefined();
    expect(tracing.processSpans(id)[0].attributes['messaging.doctor_job.queue_wait_ms']).toBeGreaterThanOrEqual(300);
  });

  it('without a tracer provider: no spans, and the job stores no trace context (NULL) and runs as usual', async () => {
    trace.disable();
    try {
      const { result: ids } = await inRequest(() =>
        app.outbox.transaction(async (tx) => [
          await app.outbox.enqueue(tx, 'traced', {}, { delayMs: 600_000 }),
          ...(await app.outbox.enqueueMany(tx, [{ type: 'traced', payload: {} }, { type: 'traced', payload: {}, delayMs: 600_000 }])),
        ]),
      );
      const stored = await storedContexts('doctor_job');
      expect([stored.get(ids[0]), stored.get(ids[2])]).toEqual([null, null]);
      await waitFor('the untraced job', () => handled.includes(ids[1]));
      await sleep(50);
      expect(tracing.spans()).toEqual([]);
      await db.execute('DELETE FROM "doctor_job"');
    } finally {
      trace.setGlobalTracerProvider(tracing.provider);
    }
  });
});
