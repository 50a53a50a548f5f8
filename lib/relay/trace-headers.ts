/**
 * Trace headers on relayed messages: what a ClientProxyRelay emits for a traced job, per transport.
 * The headers are the running job's span's (see JobTracing.headers), so a consumer that extracts
 * them continues the trace as a child of the job's `process` span. Only transports whose messages
 * have headers get them; for the others (Redis pub/sub, TCP) the payload is emitted as it is.
 */
/** The Nest microservices transports whose messages carry headers. */
export type HeaderTransport = 'rmq' | 'nats' | 'mqtt' | 'kafka';

const CLIENTS: Record<string, HeaderTransport> = { ClientRMQ: 'rmq', ClientNats: 'nats', ClientMqtt: 'mqtt', ClientKafka: 'kafka' };

/** The transport of a ClientProxy (or a subclass of one), from its class; undefined for the others and for look-alikes. */
export function headerTransportOf(client: unknown): HeaderTransport | undefined {
  for (let proto = client === null || typeof client !== 'object' ? null : Object.getPrototypeOf(client); proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    const transport = CLIENTS[(proto.constructor as { name?: string } | undefined)?.name ?? ''];
    if (transport) return transport;
  }
  return undefined;
}

interface RecordClasses {
  RmqRecord: new (data: unknown, options: { headers: Record<string, string> }) => unknown;
  NatsRecord: new (data: unknown, headers: unknown) => unknown;
  MqttRecord: new (data: unknown, options: { properties: { userProperties: Record<string, string> } }) => unknown;
}

let records: RecordClasses | null | undefined;
let natsHeaders: (() => { set(key: string, value: string): void }) | null | undefined;

/** @nestjs/microservices' record classes (the app's copy: the client's serializer checks `instanceof`), or null. */
function recordClasses(): RecordClasses | null {
  if (records === undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      records = require('@nestjs/microservices') as RecordClasses;
    } catch {
      records = null;
    }
  }
  return records;
}

/** `headers()` of @nats-io/transport-node (what ClientNats publishes with), or null. */
function natsHeaderFactory(): (() => { set(key: string, value: string): void }) | null {
  if (natsHeaders === undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      natsHeaders = (require('@nats-io/transport-node') as { headers: () => { set(key: string, value: string): void } }).headers;
    } catch {
      natsHeaders = null;
    }
  }
  return natsHeaders;
}

/**
 * What to emit so that the message carries `headers`: RabbitMQ an RmqRecord (AMQP message
 * headers), NATS a NatsRecord (message headers), MQTT an MqttRecord (MQTT 5 user properties;
 * MQTT 3.1.1 has none, and the client leaves them out), Kafka a message with record headers. The
 * consumer receives the payload as before. Falls back to the bare payload when the classes cannot be loaded.
 */
export function withTraceHeaders(transport: HeaderTransport, payload: unknown, headers: Record<string, string>): unknown {
  if (transport === 'kafka') {
    // Nest's Kafka serializer takes an object with `key` or `value` as the message itself: keep that reading.
    if (payload !== null && typeof payload === 'object' && !Array.isArray(payload) && ('key' in payload || 'value' in payload)) {
      const message = payload as { headers?: Record<string, unknown> };
      return { ...message, headers: { ...message.headers, ...headers } };
    }
    return { value: payload, headers };
  }
  const classes = recordClasses();
  if (!classes) return payload;
  if (transport === 'rmq') return new classes.RmqRecord(payload, { headers });
  if (transport === 'mqtt') return new classes.MqttRecord(payload, { properties: { userProperties: headers } });
  const create = natsHeaderFactory();
  if (!create) return payload;
  const natsMessageHeaders = create();
  for (const [key, value] of Object.entries(headers)) natsMessageHeaders.set(key, value);
  return new classes.NatsRecord(payload, natsMessageHeaders);
}
