/**
 * JobStoreHost, the Nest provider of the JobStore: the app's Prisma client resolved from the
 * options, its dialect detected, the store built by createJobStore() and closed at shutdown.
 */
import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { DOCTOR_JOB_OPTIONS } from '../doctor-job.constants';
import type { Dialect, ResolvedDoctorJobOptions } from '../doctor-job.options';
import { describe } from '../util/describe';
import { InvalidOptionsError } from '../errors/invalid-options.error';
import { createJobStore } from './create-job-store';
import type { JobStore } from './job-store.interface';
import type { PrismaClientLike } from './prisma-client.interface';

/**
 * The Nest provider of the JobStore: resolves the app's Prisma client (a DI token is looked up
 * once every provider exists, so the client may live in any module), detects its dialect, and
 * has `createJobStore()` build the store.
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
    const { notify, runnerPool, reindex } = this.options;
    const store = createJobStore(dialect, prisma, { notify, runnerPool, reindex, warn: (message) => this.logger.warn(message) });
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
