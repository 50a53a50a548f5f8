import type { AddressInfo } from 'node:net';
import type { INestApplication, Provider } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { DoctorJobAdminService, OutboxService } from 'doctor-job';
import { AppModule } from '../../../sample/app.module';
import { configureApp } from '../../../sample/app.setup';
import type { TestDatabase } from '../../support/databases';

export interface SampleServer {
  app: INestApplication;
  /** e.g. http://127.0.0.1:40123 */
  url: string;
  port: number;
  admin: DoctorJobAdminService;
  outbox: OutboxService;
  close(): Promise<void>;
}

export interface SampleServerOptions {
  /** DASHBOARD_TOKEN for this app; undefined: unset (the read-only, loopback-only console). */
  dashboardToken?: string;
  /** Where to listen; undefined listens as main.ts does (every interface). */
  host?: string;
  /** Providers added to the app (e.g. handlers of test job types). */
  providers?: Provider[];
  /** The HTTP adapter: Express (as main.ts) unless told; 'fastify' to show the console works on both. */
  adapter?: 'express' | 'fastify';
}

/** Boots the sample as main.ts does, on a random port, with the environment it reads set for the boot only. */
export async function startSampleServer(db: TestDatabase, options: SampleServerOptions = {}): Promise<SampleServer> {
  const env = { DATABASE_URL: db.url, POLL_INTERVAL_MS: '50', DASHBOARD_TOKEN: options.dashboardToken };
  const previous = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]));
  const set = (values: Record<string, string | undefined>) => {
    for (const [key, value] of Object.entries(values)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
  set(env);
  let app: INestApplication;
  try {
    const module = await Test.createTestingModule({ imports: [AppModule], providers: options.providers ?? [] }).compile();
    // Nest's FastifyAdapter registers @fastify/formbody itself, so the sign-in form posts as under Express.
    const created = options.adapter === 'fastify' ? module.createNestApplication(new FastifyAdapter(), { logger: ['error'] }) : module.createNestApplication({ logger: ['error'] });
    app = configureApp(created);
    await (options.host === undefined ? app.listen(0) : app.listen(0, options.host));
  } finally {
    set(previous);
  }
  const { port } = app.getHttpServer().address() as AddressInfo;
  return {
    app,
    port,
    url: `http://127.0.0.1:${port}`,
    admin: app.get(DoctorJobAdminService),
    outbox: app.get(OutboxService),
    close: () => app.close(),
  };
}
