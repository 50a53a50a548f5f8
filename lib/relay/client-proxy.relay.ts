import { Inject, Injectable, type InjectionToken, type Type } from '@nestjs/common';
import { defaultIfEmpty, lastValueFrom, type Observable } from 'rxjs';
import { JobHandler, type JobHandlerOptions } from '../decorators/job-handler.decorator';
import type { JobContext } from '../handlers/job-context.interface';
import { jobTracing } from '../tracing/job-tracing';
import { headerTransportOf, withTraceHeaders, type HeaderTransport } from './trace-headers';

/** The part of @nestjs/microservices' ClientProxy a relay uses. */
export interface EventEmitterClient {
  emit<TResult = unknown, TInput = unknown>(pattern: unknown, data: TInput): Observable<TResult>;
}

export interface ClientProxyRelayOptions extends Omit<JobHandlerOptions, 'payload' | 'cron'> {
  /** The event pattern to emit (default: the job type). */
  pattern?: string;
  /**
   * A traced job's message carries the trace context of its `process` span (W3C `traceparent`,
   * `tracestate`, and what the app's propagator adds) in the transport's headers: RabbitMQ message
   * headers, NATS headers, MQTT 5 user properties, Kafka record headers (Redis and TCP messages have
   * none). Default true; false emits the bare payload always.
   */
  traceHeaders?: boolean;
}

/**
 * A provider that relays the jobs of one type to a broker through a Nest microservices
 * ClientProxy (RabbitMQ, NATS, Redis, Kafka, MQTT...): each job's payload is emitted under
 * `pattern`, and the job is deleted only once the emit has completed, that is once the transport
 * reports the message accepted (RabbitMQ: the broker's publisher confirm; Redis: the PUBLISH reply).
 * A publish that fails is retried and dead-lettered like any handler failure. Jobs that share an
 * ordering key are relayed in order.
 *
 * ```ts
 * providers: [ClientProxyRelay('orderEvent', 'ORDERS_BROKER', { pattern: 'orders.event' })]
 * ```
 */
export function ClientProxyRelay(type: string, client: InjectionToken, options: ClientProxyRelayOptions = {}): Type<unknown> {
  const { pattern = type, traceHeaders = true, ...handlerOptions } = options;
  const tracing = jobTracing();

  @Injectable()
  class Relay {
    /** The transport, when its messages have headers (found once, from the client's class). */
    private readonly headerTransport: HeaderTransport | undefined;

    constructor(@Inject(client) readonly client: EventEmitterClient) {
      this.headerTransport = traceHeaders ? headerTransportOf(client) : undefined;
    }

    @JobHandler(type, handlerOptions)
    async relay(payload: unknown, _job: JobContext): Promise<void> {
      const headers = this.headerTransport && tracing.headers();
      const message = headers ? withTraceHeaders(this.headerTransport!, payload, headers) : payload;
      await lastValueFrom(this.client.emit(pattern, message).pipe(defaultIfEmpty(undefined)));
    }
  }
  Object.defineProperty(Relay, 'name', { value: `ClientProxyRelay(${type})` });
  return Relay;
}
