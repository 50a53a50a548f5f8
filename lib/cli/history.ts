import { createHash } from 'node:crypto';
import type { Dialect } from './database-url';

/** Prisma Migrate's history table. */
export const HISTORY_TABLE = '_prisma_migrations';

/**
 * Prisma Migrate's own DDL for `_prisma_migrations`, per provider (prisma-engines,
 * sql-schema-connector `create_migrations_table`), with IF NOT EXISTS added: `prisma migrate deploy`
 * finds the table it would have made, and takes it over.
 */
export const HISTORY_TABLE_DDL: Record<Dialect, string> = {
  postgresql: `CREATE TABLE IF NOT EXISTS _prisma_migrations (
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             TIMESTAMPTZ,
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          TIMESTAMPTZ,
    started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_steps_count     INTEGER NOT NULL DEFAULT 0
)`,
  mysql: `CREATE TABLE IF NOT EXISTS _prisma_migrations (
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             DATETIME(3),
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          DATETIME(3),
    started_at              DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    applied_steps_count     INTEGER UNSIGNED NOT NULL DEFAULT 0
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
  sqlite: `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    TEXT PRIMARY KEY NOT NULL,
    "checksum"              TEXT NOT NULL,
    "finished_at"           DATETIME,
    "migration_name"        TEXT NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        DATETIME,
    "started_at"            DATETIME NOT NULL DEFAULT current_timestamp,
    "applied_steps_count"   INTEGER UNSIGNED NOT NULL DEFAULT 0
)`,
};

/** Prisma Migrate's checksum of a migration script: SHA-256 of the file's bytes, lower-case hex. */
export function checksumOf(script: string | Buffer): string {
  return createHash('sha256').update(script).digest('hex');
}

/**
 * Whether a recorded checksum belongs to the script, as Prisma Migrate decides it: line endings do
 * not count (a checkout with CRLF matches a record made from LF), and old records without
 * zero-padding still match.
 */
export function matchesChecksum(script: string, checksum: string): boolean {
  const variants = [script, script.replace(/\r\n/g, '\n'), script.replace(/\r?\n/g, '\r\n')];
  return variants.some((variant) => {
    const digest = createHash('sha256').update(variant).digest();
    const hex = checksum.length !== 64 && checksum !== '' ? [...digest].map((byte) => byte.toString(16)).join('') : digest.toString('hex');
    return hex === checksum;
  });
}

/**
 * A time as Prisma Migrate binds it: a Date on PostgreSQL, UTC text on MariaDB (DATETIME(3) has no
 * zone), milliseconds since the epoch on SQLite (what the schema engine's SQLite driver writes).
 */
export function historyTime(dialect: Dialect, time: Date): Date | string | number {
  if (dialect === 'postgresql') return time;
  if (dialect === 'mysql') return time.toISOString().replace('T', ' ').replace('Z', '');
  return time.getTime();
}

/** A recorded time read back, as ISO-8601 UTC text. */
export function formatHistoryTime(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'number' || typeof value === 'bigint') return new Date(Number(value)).toISOString();
  const text = String(value);
  if (/^\d+$/.test(text)) return new Date(Number(text)).toISOString();
  // MariaDB DATETIME / SQLite CURRENT_TIMESTAMP text: UTC without a zone.
  const match = /^(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d(\.\d+)?)$/.exec(text);
  if (match) return new Date(`${match[1]}T${match[2]}Z`).toISOString();
  return text;
}
