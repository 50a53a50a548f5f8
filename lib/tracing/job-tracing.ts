/**
 * The tracing interface the outbox and the runner call. Without @opentelemetry/api installed it is
 * NO_TRACING, which makes nothing; with it, the OpenTelemetry implementation (otel-tracing.ts),
 * loaded lazily on the first call of jobTracing(), makes spans only while a tracer provider is
 * registered. Neither the interface nor the no-op imports anything of OpenTelemetry.
 */
import type { JobTracing } from './tracing.types';

export type { AbandonReason, JobTracing, ProcessSpan, SendSpan } from './tracing.types';

/** No OpenTelemetry: no spans, nothing stored, nothing allocated. */
export const NO_TRACING: JobTracing = {
  send: () => undefined,
  process: () => undefined,
  processing: () => false,
  headers: () => undefined,
};

let loaded: JobTracing | undefined;

/**
 * The process's tracing: OpenTelemetry when @opentelemetry/api can be loaded, else NO_TRACING.
 * Decided on the first call; an app without the package loads nothing of it.
 */
export function jobTracing(): JobTracing {
  return (loaded ??= load());
}

function load(): JobTracing {
  let api: unknown;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    api = require('@opentelemetry/api');
  } catch {
    return NO_TRACING;
  }
  const { OtelJobTracing, isUsableApi } = require('./otel-tracing') as typeof import('./otel-tracing');
  return isUsableApi(api) ? new OtelJobTracing(api) : NO_TRACING;
}
