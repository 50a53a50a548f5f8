import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';

/**
 * OpenTelemetry for a test file: an in-memory exporter behind a BasicTracerProvider, and the
 * AsyncLocalStorage context manager (as the Node SDK registers), installed globally by `install()`.
 */
export class TestTracing {
  readonly exporter = new InMemorySpanExporter();
  readonly provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(this.exporter)] });
  private readonly contextManager = new AsyncLocalStorageContextManager();

  install(): void {
    context.setGlobalContextManager(this.contextManager.enable());
    trace.setGlobalTracerProvider(this.provider);
  }

  /** Removes the global provider and context manager (the provider stays usable: install() again). */
  uninstall(): void {
    trace.disable();
    context.disable();
  }

  /** Finished spans, optionally only those of this name. */
  spans(name?: string): ReadableSpan[] {
    return this.exporter.getFinishedSpans().filter((span) => name === undefined || span.name === name);
  }

  /** The finished `process` spans of one job, in start order. */
  processSpans(jobId: string): ReadableSpan[] {
    return this.spans()
      .filter((span) => span.name.startsWith('process ') && span.attributes['messaging.message.id'] === jobId)
      .sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1]);
  }
}

/** The id of the span's parent, or undefined for a root span. */
export const parentOf = (span: ReadableSpan): string | undefined => span.parentSpanContext?.spanId;
