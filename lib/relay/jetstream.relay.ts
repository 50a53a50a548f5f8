import { Injectable, type InjectionToken, type OnApplicationShutdown, type OnModuleInit, type Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type * as TransportNodeModule from '@nats-io/transport-node';
import { JobHandler } from '../decorators/job-handler.decorator';
import { HandlerRegistrationError } from '../errors/handler-registration.error';
import { NonRetryableJobError } from '../errors/non-retryable.error';
import type { JobContext } from '../handlers/job-context.interface';
import { errorMessage, isServers, loadNats, subjectProblem, type JetStreamClient, type NatsConnection, type NatsModules } from './jetstream.nats';
import { traceHeaders } from '../tracing';
import { JETSTREAM_RELAY_HEADERS, JetStreamRelayError, type JetStreamPubAck, type JetStreamRelayOptions } from './jetstream.options';

export { JETSTREAM_RELAY_HEADERS, JetStreamRelayError, type JetStreamPubAck, type JetStreamRelayOptions, type JetStreamServers } from './jetstream.options';

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
    traceHeaders: withTraceHeaders = true,
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
      // The trace context first: the relay's own headers below win a clash.
      if (withTraceHeaders) for (const [name, value] of Object.entries(traceHeaders() ?? {})) msgHeaders.set(name, value);
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

