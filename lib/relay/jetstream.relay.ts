import { createRequire } from 'node:module';
import { Injectable, type InjectionToken, type OnApplicationShutdown, type OnModuleInit, type Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
// Type-only: erased from the JavaScript, and kept out of the declarations (the public types below
// are structural), so an app that does not use this relay needs no NATS package at all.
import type * as JetStreamModule from '@nats-io/jetstream';
import type * as NatsCoreModule from '@nats-io/nats-core';
import type * as TransportNodeModule from '@nats-io/transport-node';
import { JobHandler, type JobHandlerOptions } from '../decorators/job-handler.decorator';
import { HandlerRegistrationError } from '../errors/handler-registration.error';
import { NonRetryableJobError } from '../errors/non-retryable.error';
import type { JobContext } from '../handlers/job-context.interface';

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

const DEFAULT_ACK_TIMEOUT_MS = 5_000;

/**
 * A provider that relays the jobs of one type into a NATS JetStream stream. Each job's payload
 * (JSON) is published to `subject` with `Nats-Msg-Id` = the job id and the headers
 * {@link JETSTREAM_RELAY_HEADERS}; the relay waits for the stream's PubAck, and the job is deleted
 * only after it. A job relayed again (its worker died between the PubAck and the delete) carries the
 * same `Nats-Msg-Id`, so the stream stores it once if it comes within the stream's duplicate window
 * (2 minutes by default). A publish without a PubAck (no stream for the subject, timeout, NATS down)
 * fails the attempt, which is retried and dead-lettered like any handler failure. Jobs that share
 * an ordering key are published one at a time, in enqueue order.
 *
 * Needs @nats-io/jetstream (and @nats-io/transport-node to connect by `servers`); they are loaded
 * when the relay is created, never by an app that does not use it.
 *
 * ```ts
 * providers: [JetStreamRelay('orderEvent', { connection: { servers: 'nats://localhost:4222' }, subject: 'orders.event', stream: 'ORDERS' })]
 * ```
 */
export function JetStreamRelay(type: string, options: JetStreamRelayOptions): Type<unknown> {
  const {
    connection,
    subject = type,
    stream,
    ackTimeoutMs = DEFAULT_ACK_TIMEOUT_MS,
    msgIdPrefix = '',
    orderingKey,
    headers: extraHeaders,
    jetStream: jetStreamOptions,
    onPubAck,
    ...handlerOptions
  } = options;
  const problems: string[] = [];
  if (connection === undefined || connection === null) problems.push('"connection" is required: { servers } or the injection token of a NatsConnection');
  if (isServers(connection) && !(typeof connection.servers === 'string' || Array.isArray(connection.servers))) {
    problems.push('"connection.servers" must be a string or an array of strings');
  }
  if (typeof subject === 'string' && subjectProblem(subject)) problems.push(`"subject": ${subjectProblem(subject)}`);
  if (!(Number.isInteger(ackTimeoutMs) && ackTimeoutMs > 0)) problems.push(`"ackTimeoutMs" must be a positive integer, got ${String(ackTimeoutMs)}`);
  if (problems.length) throw new HandlerRegistrationError(`JetStreamRelay(${type}): ${problems.join('; ')}`);

  @Injectable()
  class Relay implements OnModuleInit, OnApplicationShutdown {
    private nats!: NatsModules;
    /** The connection and its JetStream client, once opened (or looked up). */
    private client?: Promise<{ nc: NatsConnection; js: JetStreamClient }>;

    constructor(readonly moduleRef: ModuleRef) {}

    onModuleInit(): void {
      this.nats = loadNats(isServers(connection));
      if (!isServers(connection)) {
        // The app's connection: looked up once at start-up (a missing provider fails the start).
        const nc = this.moduleRef.get<unknown, NatsConnection>(connection, { strict: false });
        this.client = Promise.resolve({ nc, js: this.nats.jetstream.jetstream(nc, jetStreamOptions) });
      }
    }

    async onApplicationShutdown(): Promise<void> {
      const client = this.client;
      this.client = undefined;
      if (!client || !isServers(connection)) return;
      const { nc } = await client.catch(() => ({ nc: undefined }));
      if (nc && !nc.isClosed()) await nc.drain().catch(() => nc.close());
    }

    @JobHandler(type, handlerOptions)
    async relay(payload: unknown, job: JobContext): Promise<void> {
      const to = typeof subject === 'function' ? subject(payload, job) : subject;
      const problem = subjectProblem(to);
      if (problem) throw new NonRetryableJobError(`JetStreamRelay(${type}): the subject for job ${job.id} ${problem}`);
      const { js, nc } = await this.connect().catch((error: unknown) => {
        // Only the relay's own connection is opened here (an app-provided one was looked up at start-up).
        const servers = isServers(connection) ? [connection.servers].flat().join(', ') : 'the provided connection';
        throw new JetStreamRelayError(`JetStreamRelay(${type}): cannot connect to NATS at ${servers}: ${errorMessage(error)}`, to, { cause: error });
      });
      const msgHeaders = this.nats.core.headers();
      for (const [name, value] of Object.entries(extraHeaders?.(payload, job) ?? {})) msgHeaders.set(name, value);
      msgHeaders.set(JETSTREAM_RELAY_HEADERS.jobId, job.id);
      msgHeaders.set(JETSTREAM_RELAY_HEADERS.type, job.type);
      msgHeaders.set(JETSTREAM_RELAY_HEADERS.attempt, String(job.attempt));
      // The option, else the context's own `orderingKey` should the runner ever pass one (it does not today).
      const key = orderingKey?.(payload, job) ?? (job as JobContext & { orderingKey?: string | null }).orderingKey;
      if (key !== undefined && key !== null) msgHeaders.set(JETSTREAM_RELAY_HEADERS.orderingKey, key);
      const msgID = `${msgIdPrefix}${job.id}`;
      let ack: JetStreamPubAck;
      try {
        ack = await js.publish(to, JSON.stringify(payload ?? null), {
          msgID,
          headers: msgHeaders,
          timeout: ackTimeoutMs,
          ...(stream ? { expect: { streamName: stream } } : {}),
        });
      } catch (error) {
        throw await this.explain(error, to, msgID, nc);
      }
      await onPubAck?.(ack, job);
    }

    /**
     * The connection and its JetStream client. With `servers`, the relay's own connection is opened
     * on first use, and opened again once it has closed (nats.js gave up reconnecting).
     */
    private connect(): Promise<{ nc: NatsConnection; js: JetStreamClient }> {
      if (!isServers(connection)) return this.client!;
      const open = async () => {
        const nc = await this.nats.transport!.connect(connection as TransportNodeModule.NodeConnectionOptions);
        return { nc, js: this.nats.jetstream.jetstream(nc, jetStreamOptions) };
      };
      const current = this.client;
      const attempt = current ? current.then((c) => (c.nc.isClosed() ? open() : c), open) : open();
      this.client = attempt;
      // A failed connect is not kept: the next attempt connects again.
      attempt.catch(() => {
        if (this.client === attempt) this.client = undefined;
      });
      return attempt;
    }

    /** Turns a failed publish into an error that says what happened and what to do. */
    private async explain(error: unknown, to: string, msgID: string, nc: NatsConnection): Promise<Error> {
      const { jetstream } = this.nats;
      const prefix = `JetStreamRelay(${type}): publishing job message ${msgID} to "${to}"`;
      if (error instanceof Error && error.name === 'TimeoutError') {
        return new JetStreamRelayError(
          `${prefix}: no PubAck within ${ackTimeoutMs} ms (ackTimeoutMs). The attempt is retried; if the stream stored it after all, the retry is deduplicated within its duplicate window.`,
          to,
          { cause: error },
        );
      }
      if (error instanceof Error && error.name === 'JetStreamNotEnabled') {
        // No responder for the subject: no stream captures it, or JetStream is off. Ask which.
        let streamOff = false;
        try {
          const jsm = await jetstream.jetstreamManager(nc, { ...jetStreamOptions, checkAPI: false, timeout: ackTimeoutMs });
          await jsm.getAccountInfo();
        } catch {
          streamOff = true;
        }
        const name = stream ?? 'MY_STREAM';
        return new JetStreamRelayError(
          streamOff
            ? `${prefix}: JetStream did not answer: it is not enabled on the NATS server or for this account (start nats-server with -js, or enable JetStream for the account).`
            : `${prefix}: no JetStream stream captures the subject "${to}". Create one that does, e.g. \`nats stream add ${name} --subjects "${to}"\` or, in code, \`(await jetstreamManager(nc)).streams.add({ name: '${name}', subjects: ['${to}'] })\`. The attempt is retried.`,
          to,
          { cause: error },
        );
      }
      if (error instanceof jetstream.JetStreamApiError && error.code === 10060 && stream) {
        const actual = await jetstream
          .jetstreamManager(nc, { ...jetStreamOptions, checkAPI: false, timeout: ackTimeoutMs })
          .then((jsm) => jsm.streams.find(to))
          .catch(() => undefined);
        return new JetStreamRelayError(
          `${prefix}: the subject is captured by ${actual ? `stream "${actual}"` : 'another stream'}, not by the expected stream "${stream}" (the "stream" option). Add the subject to "${stream}", or change the option.`,
          to,
          { cause: error },
        );
      }
      return new JetStreamRelayError(`${prefix} failed: ${errorMessage(error)}`, to, { cause: error });
    }
  }
  Object.defineProperty(Relay, 'name', { value: `JetStreamRelay(${type})` });
  return Relay;
}

type NatsConnection = NatsCoreModule.NatsConnection;
type JetStreamClient = JetStreamModule.JetStreamClient;

interface NatsModules {
  jetstream: typeof JetStreamModule;
  core: typeof NatsCoreModule;
  transport?: typeof TransportNodeModule;
}

/** Loads the NATS packages (at the relay's start-up, never when doctor-job is imported). */
function loadNats(withTransport: boolean): NatsModules {
  const jetstream = requirePackage<typeof JetStreamModule>('@nats-io/jetstream', require);
  // @nats-io/nats-core (headers()) is a dependency of @nats-io/jetstream: resolve it from there.
  const core = requirePackage<typeof NatsCoreModule>('@nats-io/nats-core', createRequire(require.resolve('@nats-io/jetstream')));
  const transport = withTransport ? requirePackage<typeof TransportNodeModule>('@nats-io/transport-node', require) : undefined;
  return { jetstream, core, transport };
}

function requirePackage<T>(name: string, from: NodeJS.Require): T {
  try {
    return from(name) as T;
  } catch (error) {
    if ((error as { code?: string }).code === 'MODULE_NOT_FOUND' && String((error as Error).message).includes(name)) {
      throw new Error(
        `JetStreamRelay needs the package ${name}: npm install @nats-io/jetstream@^3.4.0 @nats-io/transport-node@^3.4.0 (the transport only to connect by "servers").`,
        { cause: error },
      );
    }
    throw error;
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function isServers(connection: JetStreamServers | InjectionToken): connection is JetStreamServers {
  return typeof connection === 'object' && connection !== null && 'servers' in connection;
}

/** Why a subject cannot be published to, or undefined. */
function subjectProblem(subject: unknown): string | undefined {
  if (typeof subject !== 'string' || subject.length === 0) return `must be a non-empty string, got ${JSON.stringify(subject)}`;
  if (/\s/.test(subject)) return `must not contain whitespace, got "${subject}"`;
  if (subject.split('.').some((token) => token === '' || token === '*' || token === '>')) {
    return `must be dot-separated non-empty tokens without wildcards (* or >), got "${subject}"`;
  }
  return undefined;
}
