/**
 * What `migrate` checks before it records a migration whose tables (or added columns) it finds
 * present: that they are exactly as the shipped migrations make them, or which columns differ.
 */
import { relative } from 'node:path';
import { firstLine, type SqlConnection } from './connection';
import { stateError } from './errors';
import { HISTORY_TABLE } from './history';
import type { ShippedMigration } from './shipped-migrations';
import { actualShapes, columnsAddedBy, existingTables, expectedShapes, shapeDifferences } from './table-shapes';

/** Throws, naming what differs, unless the tables a migration creates are all there exactly as it makes them. */
export async function checkPresentTables(connection: SqlConnection, shipped: ShippedMigration[], migration: ShippedMigration, present: string[]): Promise<void> {
  const missing = migration.creates.filter((table) => !present.includes(table));
  if (missing.length) {
    throw stateError(
      `${migration.name} is not recorded in ${HISTORY_TABLE}, and of the tables it creates ${list(present)} exist but ${list(missing)} do not: ` +
        `migrate leaves the database alone. Drop the partial tables (if they hold nothing you need) or create the missing ones, then run migrate again`,
    );
  }
  let differences: string[];
  try {
    differences = await differencesFromShipped(connection, shipped, migration, migration.creates);
  } catch (error) {
    throw stateError(
      `${migration.name} is not recorded in ${HISTORY_TABLE} but its tables exist, and migrate could not compare them with what it makes ` +
        `(${firstLine((error as Error).message)}): nothing changed`,
    );
  }
  if (differences.length) {
    throw stateError(
      `${migration.name} is not recorded in ${HISTORY_TABLE}, and the tables it creates already exist but differ from what it makes; ` +
        `migrate changes nothing:\n${differences.map((line) => `  - ${line}`).join('\n')}\n` +
        `Bring the tables in line with ${relative(process.cwd(), migration.file) || migration.file} (or drop them if they hold nothing you need), then run migrate again`,
    );
  }
}

/**
 * How `tables` differ from what the migrations up to `migration` make of them; none when they are
 * as those make them, or as all the shipped migrations make them (the later ones were run by hand
 * too, e.g. every file of the package at once: those are then recorded in their turn).
 */
async function differencesFromShipped(connection: SqlConnection, shipped: ShippedMigration[], migration: ShippedMigration, tables: string[]): Promise<string[]> {
  const actual = await actualShapes(connection, tables);
  const upTo = shipped.filter((m) => m.name <= migration.name).map((m) => m.sql);
  const differences = shapeDifferences(await expectedShapes(connection, upTo, tables), actual);
  if (differences.length === 0 || upTo.length === shipped.length) return differences;
  const all = shapeDifferences(await expectedShapes(connection, shipped.map((m) => m.sql), tables), actual);
  return all.length === 0 ? [] : differences;
}

/** Whether a migration that creates no table adds columns that the database has already. */
export async function addedColumnsPresent(connection: SqlConnection, migration: ShippedMigration): Promise<boolean> {
  if (migration.creates.length) return false;
  const added = columnsAddedBy(migration.sql);
  if (added.size === 0) return false;
  const tables = await existingTables(connection, [...added.keys()]);
  if (tables.length === 0) return false;
  const actual = await actualShapes(connection, tables);
  return tables.some((table) => added.get(table)!.some((column) => actual.get(table)?.has(column)));
}

/** Throws, naming what differs, unless the tables a migration alters are exactly as it leaves them. */
export async function checkAlteredTables(connection: SqlConnection, shipped: ShippedMigration[], migration: ShippedMigration): Promise<void> {
  const tables = [...columnsAddedBy(migration.sql).keys()];
  let differences: string[];
  try {
    differences = await differencesFromShipped(connection, shipped, migration, tables);
  } catch (error) {
    throw stateError(
      `${migration.name} is not recorded in ${HISTORY_TABLE} but the columns it adds exist, and migrate could not compare the tables with what it makes ` +
        `(${firstLine((error as Error).message)}): nothing changed`,
    );
  }
  if (differences.length) {
    throw stateError(
      `${migration.name} is not recorded in ${HISTORY_TABLE}, and some of the columns it adds already exist, but the tables differ from what it makes; ` +
        `migrate changes nothing:\n${differences.map((line) => `  - ${line}`).join('\n')}\n` +
        `Bring the tables in line with ${relative(process.cwd(), migration.file) || migration.file}, then run migrate again`,
    );
  }
}

const list = (names: string[]) => names.join(', ');
