import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { DOCTOR_JOB_OPTIONS } from '../doctor-job.constants';
import { describe, type Dialect, type ResolvedDoctorJobOptions } from '../doctor-job.options';
import { InvalidOptionsError } from '../errors/invalid-options.error';
import type { JobStore } from './job-store.interface';
import { MariadbJobStore } from './mariadb.store';
import { PostgresqlJobStore } from './postgresql.store';
import type { PrismaClientLike } from './prisma-client.interface';
import { SqliteJobStore } from './sqlite.store';

/**
 * Resolves the app's Prisma client (a DI token is looked up once every provider exists, so the
 * client may live in any module) and builds the store for its dialect.
 */
@Injectable()
export class JobStoreHost implements OnModuleInit {
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
        ? new PostgresqlJobStore(prisma, this.listenUrl(prisma))
        : dialect === 'mysql'
          ? new MariadbJobStore(prisma)
          : new SqliteJobStore(prisma);
    this.resolved = { prisma, store };
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

  /** The connection string for LISTEN: given in the options, or read from the client's pg adapter. */
  private listenUrl(prisma: PrismaClientLike): string | undefined {
    const { notify } = this.options;
    if (notify === false) return undefined;
    if (typeof notify === 'object') return notify.connectionString;
    const adapter = (prisma as { _engineConfig?: { adapter?: Record<string, unknown> } })._engineConfig?.adapter;
    const config = adapter?.config as string | { connectionString?: string } | undefined;
    const pool = adapter?.externalPool as { options?: { connectionString?: string } } | undefined;
    return (typeof config === 'string' ? config : config?.connectionString) ?? pool?.options?.connectionString;
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
