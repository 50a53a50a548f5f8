import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Dialect } from './database-url';
import { checksumOf } from './history';
import { columnsAddedBy, tablesCreatedBy } from './table-shapes';

/** The migrations the package ships, in Prisma Migrate's folder layout, as the CLI and the start-up schema check read them. */

/** Doctor Job's migration folders: `<14-digit timestamp>_doctor_job[_what]`. The sample's own are not shipped. */
export const DOCTOR_JOB_MIGRATION = /^\d{14}_doctor_job(_[a-z0-9_]+)?$/;

/** A migration shipped in the package, in Prisma Migrate's folder layout. */
export interface ShippedMigration {
  /** The folder name, e.g. `20261128000000_doctor_job`; also its `migration_name` in `_prisma_migrations`. */
  name: string;
  /** The folder. */
  dir: string;
  /** Its `migration.sql`. */
  file: string;
  sql: string;
  /** SHA-256 of `migration.sql`, as Prisma Migrate records it. */
  checksum: string;
  /** The tables its CREATE TABLE statements make. */
  creates: string[];
}

/** The package's folder of a dialect's migrations. */
export function migrationsDir(dialect: Dialect): string {
  // lib/cli (sources) and dist/cli (the build) both sit two levels below the package root.
  return join(__dirname, '..', '..', 'prisma', dialect, 'migrations');
}

/** Doctor Job's migrations for a dialect, oldest first. */
export function shippedMigrations(dialect: Dialect, dir = migrationsDir(dialect)): ShippedMigration[] {
  if (!existsSync(dir)) throw new Error(`Doctor Job's migrations are missing from the package: ${dir}`);
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && DOCTOR_JOB_MIGRATION.test(entry.name))
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const file = join(dir, name, 'migration.sql');
      const bytes = readFileSync(file);
      const sql = bytes.toString('utf8');
      return { name, dir: join(dir, name), file, sql, checksum: checksumOf(bytes), creates: tablesCreatedBy(sql) };
    });
}

/**
 * Where a migration stands in a database:
 * - `applied`: recorded in `_prisma_migrations` as finished, with the shipped file's checksum;
 * - `pending`: not recorded (or only as rolled back);
 * - `failed`: an attempt is recorded that did not finish and was not marked rolled back;
 * - `modified`: recorded as finished, but with another checksum: the shipped file is not the one applied.
 */
