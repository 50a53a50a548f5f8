import * as api from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ClaimedJob } from '../store/job-store.interface';
import { jobTracing } from './job-tracing';
import { OtelJobTracing } from './otel-tracing';

const job = (extra: Partial<ClaimedJob> = {}): ClaimedJob => ({ id: '7', type: 'mail', payload: {}, attempt: 1, maxAttempts: 3, createdAt: new Date(), traceContext: null, ...extra });
const recording = () => {
  const exporter = new InMemorySpanExporter();
  return { exporter, provider: new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }) };
};

describe('OtelJobTracing', () => {
  const contextManager = new AsyncLocalStorageContextManager();
  beforeAll(() => api.context.setGlobalContextManager(contextManager.enable()));
  afterAll(() => api.context.disable());
  afterEach(() => {
    api.trace.disable();
    api.propagation.disable();
  });

  it('is what jobTracing() loads where @opentelemetry/api is installed', () => {
    expect(jobTracing()).toBeInstanceOf(OtelJobTracing);
    expect(jobTracing()).toBe(jobTracing());
  });

  it('makes nothing while no tracer provider is registered, and spans once one is (asked at every call)', async () => {
    const tracing = new OtelJobTracing(api);
    expect(tracing.send('mail')).toBeUndefined();
    expect(tracing.process(job())).toBeUndefined();
    expect(api.trace.getTracer('t').startActiveSpan('x', (span) => (span.end(), tracing.headers()))).toBeUndefined();

    const first = recording();
    api.trace.setGlobalTracerProvider(first.provider);
    await tracing.send('mail')!.run(async () => 'id-1');
    expect(first.exporter.getFinishedSpans().map((s) => [s.name, s.attributes['messaging.message.id']])).toEqual([['send mail', 'id-1']]);

    // The app replaces its provider: the next spans go to the new one.
    api.trace.disable();
    expect(tracing.process(job())).toBeUndefined();
    const second = recording();
    api.trace.setGlobalTracerProvider(second.provider);
    tracing.process(job())!.succeeded();
    expect(second.exporter.getFinishedSpans().map((s) => s.name)).toEqual(['process mail']);
    expect(first.exporter.getFinishedSpans()).toHaveLength(1);
  });

  it('a send span whose enqueue fails records the error and rethrows it', async () => {
    const { exporter, provider } = recording();
    api.trace.setGlobalTracerProvider(provider);
    const failure = new Error('no table');
    await expect(new OtelJobTracing(api).send('mail')!.run(() => Promise.reject(failure))).rejects.toBe(failure);
    const [span] = exporter.getFinishedSpans();
    expect(span.status).toEqual({ code: api.SpanStatusCode.ERROR, message: 'no table' });
    expect(span.events.map((e) => e.name)).toEqual(['exception']);
  });

  it('a stored context that is not a valid traceparent gives a root span without links', () => {
    const { exporter, provider } = recording();
    api.trace.setGlobalTracerProvider(provider);
    const tracing = new OtelJobTracing(api);
    tracing.process(job({ traceContext: 'not-a-traceparent' }))!.succeeded();
    tracing.process(job({ traceContext: 'not-a-traceparent', attempt: 2 }))!.succeeded();
    for (const span of exporter.getFinishedSpans()) {
      expect(span.parentSpanContext).toBeUndefined();
      expect(span.links).toEqual([]);
    }
  });

  it('a span ends once: later outcomes are ignored', () => {
    const { exporter, provider } = recording();
    api.trace.setGlobalTracerProvider(provider);
    const span = new OtelJobTracing(api).process(job())!;
    span.succeeded();
    span.failed(new Error('late'));
    span.abandoned('runner_error', new Error('later'));
    const [ended] = exporter.getFinishedSpans();
    expect(exporter.getFinishedSpans()).toHaveLength(1);
    expect(ended.attributes['messaging.doctor_job.outcome']).toBe('succeeded');
    expect(ended.status.code).toBe(api.SpanStatusCode.UNSET);
  });

  it('headers(): the active span as W3C traceparent and tracestate, plus what the app’s propagator adds', () => {
    const { provider } = recording();
    api.trace.setGlobalTracerProvider(provider);
    const tracing = new OtelJobTracing(api);
    const parent = api.trace.setSpanContext(api.ROOT_CONTEXT, {
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: 1,
      isRemote: true,
      traceState: api.createTraceState('vendor=x'),
    });
    const span = api.trace.getTracer('t').startSpan('publish', {}, parent);
    const inSpan = () => api.context.with(api.trace.setSpan(parent, span), () => tracing.headers());
    expect(inSpan()).toEqual({ traceparent: `00-4bf92f3577b34da6a3ce929d0e0e4736-${span.spanContext().spanId}-01`, tracestate: 'vendor=x' });

    api.propagation.setGlobalPropagator({
      inject: (context, carrier, setter) => setter.set(carrier, 'b3', `${api.trace.getSpanContext(context)!.traceId}-${api.trace.getSpanContext(context)!.spanId}`),
      extract: (context) => context,
      fields: () => ['b3'],
    });
    expect(inSpan()).toEqual({
      b3: `4bf92f3577b34da6a3ce929d0e0e4736-${span.spanContext().spanId}`,
      traceparent: `00-4bf92f3577b34da6a3ce929d0e0e4736-${span.spanContext().spanId}-01`,
      tracestate: 'vendor=x',
    });
    span.end();
  });
});
