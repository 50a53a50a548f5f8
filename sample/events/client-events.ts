import { Injectable, Logger, type DynamicModule, type Provider } from '@nestjs/common';
import { ClientsModule, Transport } from '@nestjs/microservices';
import { ClientProxyRelay, JobHandler } from 'doctor-job';

/** Payload of `clientCreated`, the event the sample publishes when a client signs up. */
export interface ClientCreated {
  clientId: number;
  email: string;
}

@Injectable()
class ClientEventsLog {
  private readonly logger = new Logger('ClientEvents');

  /** Without a broker configured, the event is only logged. */
  @JobHandler('clientCreated')
  log(event: ClientCreated) {
    this.logger.log(`Client ${event.clientId} (${event.email}) created; set EVENTS_REDIS_URL to relay it to a broker`);
  }
}

const EVENTS_CLIENT = 'CLIENT_EVENTS';

/**
 * With EVENTS_REDIS_URL (e.g. redis://127.0.0.1:6379), `clientCreated` jobs are relayed to Redis
 * pub/sub (channel `clients.created`) through a Nest microservices ClientProxy; without it they are
 * logged. Read when the module is defined.
 */
export function clientEvents(): { imports: DynamicModule[]; providers: Provider[] } {
  const url = process.env.EVENTS_REDIS_URL;
  if (!url) return { imports: [], providers: [ClientEventsLog] };
  const { hostname, port } = new URL(url);
  return {
    imports: [ClientsModule.register([{ name: EVENTS_CLIENT, transport: Transport.REDIS, options: { host: hostname, port: Number(port || 6379) } }])],
    providers: [ClientProxyRelay('clientCreated', EVENTS_CLIENT, { pattern: 'clients.created' })],
  };
}
