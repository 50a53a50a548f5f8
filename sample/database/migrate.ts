import { createHash, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PrismaClientLike, TransactionClientLike } from 'doctor-job';

export type SqlDialect = 'postgresql' | 'sqlite' | 'mysql';

/** Folder of a dialect's migrations, in Prisma Migrate's layout. */
export const migrationsDir = (dialect: SqlDialect) => join(__dirname, '..', '..', 'prisma', dialect, 'migrations');

const HISTORY_TABLE: Record<SqlDialect, string> = {
  postgresql: `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id" VARCHAR(36) PRIMARY KEY NOT NULL, "checksum" VARCHAR(64) NOT NULL, "finished_at" TIMESTAMPTZ,
    "migration_name" VARCHAR(255) NOT NULL, "logs" TEXT, "rolled_back_at" TIMESTAMPTZ,
    "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(), "applied_steps_count" INTEGER NOT NULL DEFAULT 0)`,
  mysql: `CREATE TABLE IF NOT EXISTS \`_prisma_migrations\` (
    \`id\` VARCHAR(36) PRIMARY KEY NOT NULL, \`checksum\` VARCHAR(64) NOT NULL, \`finished_at\` DATETIME(3),
    \`migration_name\` VARCHAR(255) NOT NULL, \`logs\` TEXT, \`rolled_back_at\` DATETIME(3),
    \`started_at\` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), \`applied_steps_count\` INTEGER UNSIGNED NOT NULL DEFAULT 0
  ) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
  sqlite: `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id" TEXT PRIMARY KEY NOT NULL, "checksum" TEXT NOT NULL, "finished_at" DATETIME,
    "migration_name" TEXT NOT NULL, "logs" TEXT, "rolled_back_at" DATETIME,
    "started_at" DATETIME NOT NULL DEFAULT current_timestamp, "applied_steps_count" INTEGER UNSIGNED NOT NULL DEFAULT 0)`,
};

/**
 * Applies the migration SQL under prisma/<dialect>/migrations that the database has not seen,
 * in order, each in its own transaction, and records it in `_prisma_migrations` the way Prisma
 * Migrate does, so `prisma migrate deploy` can take over wherever the schema engine is available.
 * On PostgreSQL an advisory lock lets several app instances start at once.
 * Returns the names of the migrations applied.
 */
export async function applyMigrations(prisma: PrismaClientLike, dialect: SqlDialect, dir = migrationsDir(dialect)): Promise<string[]> {
  await prisma.$executeRawUnsafe(HISTORY_TABLE[dialect]);
  const names = readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  const applied: string[] = [];
  const q = (identifier: string) => (dialect === 'mysql' ? `\`${identifier}\`` : `"${identifier}"`);
  for (const name of names) {
    const sql = readFileSync(join(dir, name, 'migration.sql'), 'utf8');
    const done = await prisma.$transaction(async (tx: TransactionClientLike) => {
      if (dialect === 'postgresql') await tx.$executeRawUnsafe(`SELECT pg_advisory_xact_lock(4242424242)`);
      // MySQL: a row lock on the history table serialises instances starting at once (its DDL is not transactional).
      if (dialect === 'mysql') await tx.$queryRawUnsafe('SELECT COUNT(*) AS n FROM `_prisma_migrations` FOR UPDATE');
      const seen = await tx.$queryRawUnsafe<unknown[]>(
        `SELECT 1 FROM ${q('_prisma_migrations')} WHERE ${q('migration_name')} = ${dialect === 'postgresql' ? '$1' : '?'} AND ${q('rolled_back_at')} IS NULL`,
        name,
      );
      if (seen.length) return false;
      const statements = splitStatements(sql);
      for (const statement of statements) await tx.$executeRawUnsafe(statement);
      const p = dialect === 'postgresql' ? ['$1', '$2', '$3', '$4'] : ['?', '?', '?', '?'];
      await tx.$executeRawUnsafe(
        `INSERT INTO ${q('_prisma_migrations')} (${['id', 'checksum', 'migration_name', 'finished_at', 'applied_steps_count'].map(q).join(', ')})
         VALUES (${p[0]}, ${p[1]}, ${p[2]}, CURRENT_TIMESTAMP, ${p[3]})`,
        randomUUID(),
        createHash('sha256').update(sql).digest('hex'),
        name,
        1,
      );
      return true;
    }, { timeout: 60_000 });
    if (done) applied.push(name);
  }
  return applied;
}

/** Splits a migration file into statements: Prisma's files end each statement with `;` at a line end. */
export function splitStatements(sql: string): string[] {
  return sql
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('--'))
    .join('\n')
    .split(/;\s*$/m)
    .map((statement) => statement.trim())
    .filter(Boolean);
}
