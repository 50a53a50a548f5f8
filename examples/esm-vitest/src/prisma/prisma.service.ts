import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaClient } from '../generated/prisma/client.js';

/** The app's Prisma client (Prisma 7: a driver adapter, here SQLite through better-sqlite3). */
@Injectable()
export class PrismaService extends PrismaClient implements OnApplicationShutdown {
  constructor() {
    super({ adapter: new PrismaBetterSqlite3({ url: process.env.DATABASE_URL ?? 'file:./dev.db' }) });
  }

  // Not onModuleDestroy: Doctor Job's runner finishes its jobs in its own onModuleDestroy, and they
  // may still use the client. onApplicationShutdown runs after every onModuleDestroy.
  async onApplicationShutdown(): Promise<void> {
    await this.$disconnect();
  }
}
