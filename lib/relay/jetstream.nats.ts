import { createRequire } from 'node:module';
import type { InjectionToken } from '@nestjs/common';
// Type-only: erased from the JavaScript, and kept out of the declarations (the public types are
// structural), so an app that does not use the relay needs no NATS package at all.
import type * as JetStreamModule from '@nats-io/jetstream';
import type * as NatsCoreModule from '@nats-io/nats-core';
import type * as TransportNodeModule from '@nats-io/transport-node';
import type { JetStreamServers } from './jetstream.options';

/** Loading the NATS packages lazily, and the small checks JetStreamRelay makes of its options. */

export type NatsConnection = NatsCoreModule.NatsConnection;
export type JetStreamClient = JetStreamModule.JetStreamClient;

export interface NatsModules {
  jetstream: typeof JetStreamModule;
  core: typeof NatsCoreModule;
  transport?: typeof TransportNodeModule;
}

/** Loads the NATS packages (at the relay's start-up, never when doctor-job is imported). */
export function loadNats(withTransport: boolean): NatsModules {
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

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function isServers(connection: JetStreamServers | InjectionToken): connection is JetStreamServers {
  return typeof connection === 'object' && connection !== null && 'servers' in connection;
}

/** Why a subject cannot be published to, or undefined. */
export function subjectProblem(subject: unknown): string | undefined {
  if (typeof subject !== 'string' || subject.length === 0) return `must be a non-empty string, got ${JSON.stringify(subject)}`;
  if (/\s/.test(subject)) return `must not contain whitespace, got "${subject}"`;
  if (subject.split('.').some((token) => token === '' || token === '*' || token === '>')) {
    return `must be dot-separated non-empty tokens without wildcards (* or >), got "${subject}"`;
  }
  return undefined;
}
