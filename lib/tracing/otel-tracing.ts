/**
 * JobTracing on OpenTelemetry: spans after the messaging semantic conventions. Loaded by
 * jobTracing() only when @opentelemetry/api resolves; the package is an optional peer and this
 * file imports only its types (the module object is handed in).
 *
 * Spans are made only while a tracer provider is registered; without one, each call costs a
 * lookup of the global provider and allocates nothing.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as Api from '@opentelemetry/api';
import type { ClaimedJob } from '../store/job-store.interface';
import type { AbandonReason, JobTracing, ProcessSpan, SendSpan } from './tracing.types';
import { formatTraceContext, formatTraceparent, parseTraceContext } from './trace-context';

type OtelApi = typeof Api;

/** The instrumentation scope's name. */
export const TRACER_NAME = 'doctor-job';
/** `messaging.system` of every span. */
export const MESSAGING_SYSTEM = 'doctor-job';

/** Attribute names: the messaging conventions', and Doctor Job's own under `messaging.doctor_job.`. */
export const ATTR = {
  system: 'messaging.system',
  operationType: 'messaging.operation.type',
  operationName: 'messaging.operation.name',
  destination: 'messaging.destination.name',
  messageId: 'messaging.message.id',
  batchCount: 'messaging.batch.message_count',
  errorType: 'error.type',
  attempt: 'messaging.doctor_job.attempt',
  maxAttempts: 'messaging.doctor_job.max_attempts',
  queueWait: 'messaging.doctor_job.queue_wait_ms',
  outcome: 'messaging.doctor_job.outcome',
  retryIn: 'messaging.doctor_job.retry_in_ms',
} as const;

/** Whether a loaded module is an @opentelemetry/api 1.x this file can use. */
export function isUsableApi(api: unknown): api is OtelApi {
  const candidate = api as Partial<OtelApi> | null;
  return (
    typeof candidate?.trace?.getTracerProvider === 'function' &&
    typeof candidate.ProxyTracerProvider === 'function' &&
    typeof candidate.context?.with === 'function' &&
    typeof candidate.createTraceState === 'function'
  );
}

function packageVersion(): string | undefined {
  try {
    // lib/tracing (sources) and dist/tracing (the build) both sit two levels below the package root.
    return JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')).version as string;
  } catch {
    return undefined;
  }
}

export class OtelJobTracing implements JobTracing {
  /** What the global proxy delegates to while no provider is registered. */
  private readonly noopProvider: Api.TracerProvider;
  private readonly version = packageVersion();
  private provider?: Api.TracerProvider;
  private cachedTracer?: Api.Tracer;

  constructor(private readonly api: OtelApi) {
    this.noopProvider = new api.ProxyTracerProvider().getDelegate();
  }

  /**
   * The tracer of the registered provider; undefined while none is registered. Asked on every
   * call, as the app may register (or replace) its provider at any time; allocates nothing.
   */
  private tracer(): Api.Tracer | undefined {
    const { api } = this;
    const global = api.trace.getTracerProvider();
    const provider = global instanceof api.ProxyTracerProvider ? global.getDelegate() : global;
    if (provider === this.noopProvider) return undefined;
    if (provider !== this.provider) {
      this.provider = provider;
      this.cachedTracer = provider.getTracer(TRACER_NAME, this.version);
    }
    return this.cachedTracer;
  }

  send(type: string | undefined, count?: number): SendSpan | undefined {
    const tracer = this.tracer();
    if (!tracer) return undefined;
    const { api } = this;
    const attributes: Api.Attributes = { [ATTR.system]: MESSAGING_SYSTEM, [ATTR.operationType]: 'send', [ATTR.operationName]: 'send' };
    if (type !== undefined) attributes[ATTR.destination] = type;
    if (count !== undefined) attributes[ATTR.batchCount] = count;
    const parent = api.context.active();
    const span = tracer.startSpan(type === undefined ? 'send' : `send ${type}`, { kind: api.SpanKind.PRODUCER, attributes }, parent);
    return new OtelSendSpan(api, span, parent);
  }

  processing(): boolean {
    return this.tracer() !== undefined;
  }

  process(job: ClaimedJob): ProcessSpan | undefined {
    const tracer = this.tracer();
    if (!tracer) return undefined;
    const { api } = this;
    const startTime = Date.now();
    const attributes: Api.Attributes = {
      [ATTR.system]: MESSAGING_SYSTEM,
      [ATTR.operationType]: 'process',
      [ATTR.operationName]: 'process',
      [ATTR.destination]: job.type,
      [ATTR.messageId]: job.id,
      [ATTR.attempt]: job.attempt,
      [ATTR.maxAttempts]: job.maxAttempts,
      // Enqueue (created_at, the database's clock) to this attempt's start (this host's clock).
      [ATTR.queueWait]: Math.max(0, startTime - job.createdAt.getTime()),
    };
    const enqueue = job.traceContext ? this.spanContextOf(job.traceContext) : undefined;
    // Never the runner's own async context: a claim may have been set off from anywhere.
    let parent = api.ROOT_CONTEXT;
    let links: Api.Link[] | undefined;
    if (enqueue) {
      // The first attempt is a child of the enqueue's span; a later one starts a trace of its own, linked to it.
      if (job.attempt <= 1) parent = api.trace.setSpanContext(api.ROOT_CONTEXT, enqueue);
      else links = [{ context: enqueue }];
    }
    const span = tracer.startSpan(`process ${job.type}`, { kind: api.SpanKind.CONSUMER, attributes, links, startTime }, parent);
    return new OtelProcessSpan(api, span, api.trace.setSpan(parent, span));
  }

  headers(): Record<string, string> | undefined {
    const { api } = this;
    const active = api.context.active();
    const spanContext = api.trace.getSpanContext(active);
    if (!spanContext || !api.trace.isSpanContextValid(spanContext)) return undefined;
    const carrier: Record<string, string> = {};
    api.propagation.inject(active, carrier);
    // No propagator registered (the API's default injects nothing), or one without W3C's: add W3C's.
    if (carrier.traceparent === undefined) {
      carrier.traceparent = formatTraceparent(spanContext.traceId, spanContext.spanId, spanContext.traceFlags);
      const tracestate = spanContext.traceState?.serialize();
      if (tracestate) carrier.tracestate = tracestate;
    }
    return carrier;
  }

  private spanContextOf(text: string): Api.SpanContext | undefined {
    const stored = parseTraceContext(text);
    if (!stored) return undefined;
    const { traceState, ...ids } = stored;
    return { ...ids, isRemote: true, traceState: traceState ? this.api.createTraceState(traceState) : undefined };
  }
}

class OtelSendSpan implements SendSpan {
  readonly traceContext: string | undefined;

  constructor(
    private readonly api: OtelApi,
    private readonly span: Api.Span,
    private readonly parent: Api.Context,
  ) {
    const context = span.spanContext();
    this.traceContext = api.trace.isSpanContextValid(context)
      ? formatTraceContext({ traceId: context.traceId, spanId: context.spanId, traceFlags: context.traceFlags, traceState: context.traceState?.serialize() })
      : undefined;
  }

  async run<T extends string | string[]>(enqueue: () => Promise<T>): Promise<T> {
    const { api, span } = this;
    try {
      const result = await api.context.with(api.trace.setSpan(this.parent, span), enqueue);
      if (typeof result === 'string') span.setAttribute(ATTR.messageId, result);
      return result;
    } catch (error) {
      recordError(api, span, error);
      throw error;
    } finally {
      span.end();
    }
  }
}

class OtelProcessSpan implements ProcessSpan {
  private ended = false;

  constructor(
    private readonly api: OtelApi,
    private readonly span: Api.Span,
    private readonly context: Api.Context,
  ) {}

  run<T>(fn: () => T): T {
    return this.api.context.with(this.context, fn);
  }

  succeeded(): void {
    if (this.end()) return;
    this.span.setAttribute(ATTR.outcome, 'succeeded');
    this.span.end();
  }

  failed(error: unknown, retryInMs?: number): void {
    if (this.end()) return;
    const { span } = this;
    recordError(this.api, span, error);
    if (retryInMs === undefined) {
      span.setAttribute(ATTR.outcome, 'dead_lettered');
      span.addEvent('doctor_job.dead_lettered');
    } else {
      span.setAttribute(ATTR.outcome, 'retry');
      span.setAttribute(ATTR.retryIn, Math.round(retryInMs));
    }
    span.end();
  }

  abandoned(reason: AbandonReason, error?: unknown): void {
    if (this.end()) return;
    if (error !== undefined) recordError(this.api, this.span, error);
    this.span.setAttribute(ATTR.outcome, reason);
    this.span.end();
  }

  /** True when the span has ended already; else marks it ending. */
  private end(): boolean {
    if (this.ended) return true;
    this.ended = true;
    return false;
  }
}

/** Records what was thrown on the span (an exception event, `error.type`) and sets its status to ERROR. */
function recordError(api: OtelApi, span: Api.Span, error: unknown): void {
  const message = error instanceof Error ? error.message || error.name : typeof error === 'string' ? error : (error as { message?: unknown })?.message;
  const text = typeof message === 'string' ? message : String(error);
  if (error instanceof Error) span.recordException(error);
  else span.recordException({ message: text, stack: (error as { stack?: string } | null)?.stack });
  span.setAttribute(ATTR.errorType, error instanceof Error ? error.constructor.name || error.name : '_OTHER');
  span.setStatus({ code: api.SpanStatusCode.ERROR, message: text });
}
