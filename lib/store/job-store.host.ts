import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { DOCTOR_JOB_OPTIONS } from '../doctor-job.constants';
import type { Dialect, ResolvedDoctorJobOptions } from '../doctor-job.options';
import { describe } from '../util/describe';
import { InvalidOptionsError } from '../errors/invalid-options.error';
import type { JobStore } from './job-store.interface';
import { MariadbJobStore } from './mariadb.store';
import { PostgresqlJobStore, type PgConnectionConfig } from './postgresql.store';
import type { PrismaClientLike } from './prisma-client.interface';
import { SqliteJobStore } from './sqlite.store';

/**
 * Resolves the app's Prisma client (a DI token is looked up once every provider exists, so the
 * client may live in any module) and builds the store for its dialect.
 */
@Injectable()
export class JobStoreHost implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('DoctorJob');
  private resolved?: { prisma: PrismaClientLike; store: JobStore };

  constructor(
    @Inject(DOCTOR_JOB_OPTIONS) private readonly options: ResolvedDoctorJobOptions,
    private readonly moduleRef: ModuleRef,
  ) {}

  onModuleInit(): void {
    const prisma = this.resolveClient();
    const dialect = this.options.dialect ?? detectDialect(prisma);
    const store =
      dialect === 'postgresql'
        ? this.postgresqlStore(prisma)
        : dialect === 'mysql'
          ? new MariadbJobStore(prisma)
          : new SqliteJobStore(prisma);
    this.resolved = { prisma, store };
  }

  /** Closes what the store opened itself (the runner's pg pool); the app's Prisma client stays open. */
  async onApplicationShutdown(): Promise<void> {
    await this.resolved?.store.close?.();
  }

  get store(): JobStore {
    return this.get().store;
  }

  get prisma(): PrismaClientLike {
    return this.get().prisma;
  }

  private get() {
    if (!this.resolved) throw new Error('Doctor Job is not initialised yet: use OutboxService once the Nest app has been initialised (app.init() or listen()).');
    return this.resolved;
  }

  private postgresqlStore(prisma: PrismaClientLike): PostgresqlJobStore {
    const { notify, runnerPool } = this.options;
    const adapter = adapterConnection(prisma);
    const listen = notify === false ? undefined : typeof notify === 'object' ? { connectionString: notify.connectionString } : adapter;
    let pool: (PgConnectionConfig & { max: number }) | undefined;
    if (runnerPool !== false) {
      const own = typeof runnerPool === 'object' ? runnerPool : {};
      const settings = own.connectionString ? { connectionString: own.connectionString } : adapter;
      if (!settings) {
        this.logger.warn(
          'runnerPool: the connection settings of the Prisma client\'s adapter could not be read, so the runner claims jobs through the ' +
            'Prisma client (more CPU per job). Pass runnerPool: { connectionString } to use a pool of its own, or runnerPool: false to silence this.',
        );
      } else if (!pgInstalled()) {
        this.logger.warn(
          'runnerPool: the "pg" package is not installed, so the runner claims jobs through the Prisma client (more CPU per job). ' +
            'Install pg (npm install pg) or set runnerPool: false to silence this.',
        );
      } else {
        pool = { ...settings, max: own.max ?? 2 };
      }
    }
    return new PostgresqlJobStore(prisma, listen, pool);
  }
  private resolveClient(): PrismaClientLike {
    const { prisma } = this.options;
    // Tokens are classes, strings or symbols; any object is taken as the client itself.
    let client: unknown = prisma;
    if (typeof prisma !== 'object') {
      try {
        client = this.moduleRef.get(prisma as never, { strict: false });
      } catch {
        throw new InvalidOptionsError([
          `"prisma" is the token ${tokenName(prisma)}, but no provider is registered for it. ` +
            `Register your Prisma client as a provider (e.g. PrismaService in a PrismaModule) or pass an instance.`,
        ]);
      }
    }
    const c = client as Partial<PrismaClientLike> | null;
    if (!c || typeof c.$transaction !== 'function' || typeof c.$queryRawUnsafe !== 'function' || typeof c.$executeRawUnsafe !== 'function') {
      throw new InvalidOptionsError([
        `"prisma" resolved to ${describe(client)}, which is not a Prisma client ($transaction, $queryRawUnsafe and $executeRawUnsafe are required).`,
      ]);
    }
    return c as PrismaClientLike;
  }
}

/**
 * Reads the provider of the client's driver adapter. Prisma does not expose it publicly, so this
 * looks at the adapter the client was built with and at the generated client's provider; when
 * neither is there, the user must say `dialect`.
 */
export function detectDialect(client: unknown): Dialect {
  const internals = client as { _engineConfig?: { adapter?: { provider?: string } }; _activeProvider?: string };
  const provider = internals._engineConfig?.adapter?.provider ?? internals._activeProvider;
  switch (provider) {
    case 'postgres':
    case 'postgresql':
      return 'postgresql';
    case 'sqlite':
      return 'sqlite';
    case 'mysql':
      return 'mysql';
    case undefined:
      throw new InvalidOptionsError([
        'could not detect the database of the Prisma client; set "dialect" to "postgresql", "sqlite" or "mysql"',
      ]);
    default:
      throw new InvalidOptionsError([
        `the Prisma client uses "${provider}", which Doctor Job does not support yet (supported: postgresql, sqlite, mysql)`,
      ]);
  }
}

function tokenName(token: unknown): string {
  if (typeof token === 'function') return token.name;
  return String(token);
}

/**
 * The pg connection settings of the client's @prisma/adapter-pg: its connection string or pool
 * config, or the options of the pg.Pool it was given. Prisma does not expose them publicly.
 */
function adapterConnection(prisma: PrismaClientLike): PgConnectionConfig | undefined {
  const adapter = (prisma as { _engineConfig?: { adapter?: Record<string, unknown> } })._engineConfig?.adapter;
  const config = adapter?.config as string | PgConnectionConfig | undefined;
  const pool = adapter?.externalPool as { options?: PgConnectionConfig } | undefined;
  if (typeof config === 'string') return { connectionString: config };
  const settings = config ?? pool?.options;
  if (!settings || typeof settings !== 'object') return undefined;
  // The app's pool sizing and callbacks are its own; only the connection settings are shared.
  const { max: _max, min: _min, log: _log, onConnect: _onConnect, ...connection } = settings as PgConnectionConfig & Record<string, unknown>;
  return connection;
}

function pgInstalled(): boolean {
  try {
    require.resolve('pg');
    return true;
  } catch {
    return false;
  }
}
