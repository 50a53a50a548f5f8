import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaMariaDb } from '@prisma/adapter-mariadb';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient as MysqlClient } from '../../generated/mysql/client';
import { PrismaClient as PostgresqlClient } from '../../generated/postgresql/client';
import { PrismaClient as SqliteClient } from '../../generated/sqlite/client';
import { applyMigrations, type SqlDialect } from './migrate';

export const DEFAULT_DATABASE_URL = 'file:./.sample-data/sample.db';

/**
 * The app's Prisma client. Its type is the generated client's (both generated clients have the same
 * models); at run time it is the PostgreSQL or the SQLite client, picked from DATABASE_URL.
 */
export interface PrismaService extends PostgresqlClient {}
// eslint-disable-next-line @typescript-eslint/no-extraneous-class
export abstract class PrismaService {}

export function dialectOf(url: string): SqlDialect {
  if (/^postgres(ql)?:\/\//.test(url)) return 'postgresql';
  if (url.startsWith('file:')) return 'sqlite';
  if (/^(mysql|mariadb):\/\//.test(url)) return 'mysql';
  throw new Error(`DATABASE_URL must start with postgresql://, mysql:// (or mariadb://) or file: (got "${url}")`);
}

/** Builds the client for a database URL and brings the database's schema up to date. */
export async function createPrismaClient(url: string): Promise<PrismaService> {
  const dialect = dialectOf(url);
  let client: PrismaService;
  if (dialect === 'postgresql') {
    client = new PostgresqlClient({ adapter: new PrismaPg({ connectionString: url }) }) as PrismaService;
  } else if (dialect === 'mysql') {
    client = new MysqlClient({ adapter: new PrismaMariaDb(url.replace(/^mysql:/, 'mariadb:')) }) as unknown as PrismaService;
  } else {
    const file = url.slice('file:'.length);
    if (file !== ':memory:') mkdirSync(dirname(resolve(file)), { recursive: true });
    client = new SqliteClient({ adapter: new PrismaBetterSqlite3({ url: file, timeout: 10_000 }) }) as unknown as PrismaService;
    await client.$queryRawUnsafe('PRAGMA journal_mode = WAL');
  }
  await applyMigrations(client, dialect);
  return client;
}
