import type { InjectionToken } from '@nestjs/common';
import type { JobHandlerOptions } from '../decorators/job-handler.decorator';
import type { JobContext } from '../handlers/job-context.interface';

/**
 * JetStreamRelay's options, its headers and its error: the relay's public shapes, structural so
 * that no NATS package is needed to compile or load them.
 */

/** Where the relay connects: NATS servers, and any other @nats-io/transport-node connect option. */
export interface JetStreamServers {
  /** e.g. `'nats://127.0.0.1:4222'` or several. */
  servers: string | string[];
  /** Further `connect()` options of @nats-io/transport-node (name, user, pass, token, tls, authenticator…), passed as given. */
  [option: string]: unknown;
}

/** The broker's acknowledgement of a publish (the `PubAck` of @nats-io/jetstream). */
export interface JetStreamPubAck {
  /** The stream that stored the message. */
  stream: string;
  /** Its sequence in that stream (for a duplicate: the sequence of the message stored first). */
  seq: number;
  /** True when the stream already held a message with this `Nats-Msg-Id` (within its duplicate window) and stored nothing. */
  duplicate: boolean;
  domain?: string;
}

export interface JetStreamRelayOptions extends Omit<JobHandlerOptions, 'payload' | 'cron'> {
  /**
   * The NATS connection: `{ servers }` (the relay opens its own connection with
   * @nats-io/transport-node on the first publish and closes it at shutdown), or the injection token
   * of a `NatsConnection` your app provides (the relay neither opens nor closes it).
   */
  connection: JetStreamServers | InjectionToken;
  /** The subject to publish to: a fixed one, or one derived from each job (default: the job type). */
  subject?: string | ((payload: unknown, job: JobContext) => string);
  /**
   * The stream that must store the messages (sent as `Nats-Expected-Stream`): a publish whose
   * subject another stream captures fails instead of landing there. Optional.
   */
  stream?: string;
  /** How long to wait for the PubAck, in ms (default 5000). Past it the attempt fails and is retried. */
  ackTimeoutMs?: number;
  /**
   * Prepended to the job id to make the `Nats-Msg-Id` (default: none). Set one per database when
   * several outboxes publish into the same stream, or their job ids would collide in its duplicate window.
   */
  msgIdPrefix?: string;
  /**
   * The job's ordering key, for the `Doctor-Job-Ordering-Key` header (the handler context does not
   * carry it): derive it from the payload the way your enqueue does.
   */
  orderingKey?: (payload: unknown, job: JobContext) => string | null | undefined;
  /** More headers for each message (e.g. a trace context). Doctor Job's own headers win on a clash. */
  headers?: (payload: unknown, job: JobContext) => Record<string, string> | undefined;
  /**
   * Put the running job's trace context (W3C `traceparent`, `tracestate`) in the message headers,
   * when OpenTelemetry is in use (see "Tracing"), so a consumer continues the trace. Default true.
   */
  traceHeaders?: boolean;
  /** JetStream client options: a `domain` or an `apiPrefix`. */
  jetStream?: { domain?: string; apiPrefix?: string };
  /**
   * Called with each PubAck, after the broker stored (or deduplicated) the message and before the
   * job is deleted. Throwing fails the attempt: it is retried, and the stream deduplicates the
   * retry within its duplicate window.
   */
  onPubAck?: (ack: JetStreamPubAck, job: JobContext) => void | Promise<void>;
}

/** Headers the relay sets on each message, besides `Nats-Msg-Id`. */
export const JETSTREAM_RELAY_HEADERS = {
  jobId: 'Doctor-Job-Id',
  type: 'Doctor-Job-Type',
  attempt: 'Doctor-Job-Attempt',
  orderingKey: 'Doctor-Job-Ordering-Key',
} as const;

/**
 * A publish the relay could not get acknowledged, with what to do about it in the message. The
 * attempt fails and is retried (then dead-lettered) like any handler failure.
 */
export class JetStreamRelayError extends Error {
  override readonly name = 'JetStreamRelayError';
  constructor(
    message: string,
    readonly subject: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
