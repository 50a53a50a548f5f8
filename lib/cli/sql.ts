import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import type { Dialect } from './database-url';
import { stateError, usageError } from './errors';
import { shippedMigrations } from './migrations';

/** Every shipped migration of a dialect, oldest first, each headed by its folder name. */
export function migrationsSql(dialect: Dialect): string {
  return shippedMigrations(dialect)
    .map((m) => `-- ${m.name}/migration.sql\n${m.sql.endsWith('\n') ? m.sql : `${m.sql}\n`}`)
    .join('\n');
}

/** The provider a Prisma Migrate folder's migration_lock.toml names, if it has one. */
export function lockedProvider(folder: string): string | undefined {
  const lock = join(folder, 'migration_lock.toml');
  if (!existsSync(lock)) return undefined;
  return /^\s*provider\s*=\s*"([^"]+)"/m.exec(readFileSync(lock, 'utf8'))?.[1];
}

export interface CopyResult {
  folder: string;
  copied: string[];
  /** Already there with the same content. */
  unchanged: string[];
}

/**
 * Copies Doctor Job's migration folders into an app's Prisma Migrate folder. A migration.sql that
 * is already there with other content is never overwritten: nothing is copied and the conflicts are
 * reported (exit code 1).
 */
export function copyMigrations(dialect: Dialect, into: string): CopyResult {
  const folder = resolve(into);
  if (existsSync(folder) && !statSync(folder).isDirectory()) throw usageError(`${into} is not a folder`);
  if (!existsSync(folder) && !existsSync(dirname(folder))) {
    throw usageError(`neither ${into} nor its parent folder exists: give the app's Prisma Migrate folder, e.g. --into prisma/migrations`);
  }
  const provider = lockedProvider(folder);
  if (provider && provider !== dialect) {
    throw stateError(`${join(into, 'migration_lock.toml')} says provider = "${provider}", but these are the ${dialect} migrations: pass --dialect ${provider}, or the right folder`);
  }
  const migrations = shippedMigrations(dialect);
  const conflicts: string[] = [];
  const copied: string[] = [];
  const unchanged: string[] = [];
  for (const m of migrations) {
    const target = join(folder, m.name, 'migration.sql');
    if (!existsSync(target)) continue;
    if (readFileSync(target).equals(readFileSync(m.file))) unchanged.push(m.name);
    else conflicts.push(relative(process.cwd(), target) || target);
  }
  if (conflicts.length) {
    throw stateError(`not copying: ${conflicts.join(', ')} already exist${conflicts.length === 1 ? 's' : ''} with other content (edited, or from another Doctor Job version); move ${conflicts.length === 1 ? 'it' : 'them'} away to copy the shipped SQL`);
  }
  for (const m of migrations) {
    if (unchanged.includes(m.name)) continue;
    mkdirSync(join(folder, m.name), { recursive: true });
    copyFileSync(m.file, join(folder, m.name, 'migration.sql'));
    copied.push(m.name);
  }
  return { folder, copied, unchanged };
}
