import { openConnection, openSqliteDatabase, quoteMysql, sqliteConnection, type SqlConnection } from './connection';
import type { Dialect } from './database-url';

/** Per table, per column: the column's type, nullability and default, as the database itself describes them. */
export type TableShapes = Map<string, Map<string, string>>;

/** The tables a migration script creates (its CREATE TABLE statements). */
export function tablesCreatedBy(script: string): string[] {
  const names = [...script.matchAll(/^\s*CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?[`"]?([A-Za-z_][A-Za-z0-9_]*)[`"]?/gim)].map((m) => m[1]);
  return [...new Set(names)];
}

/** The columns a migration script adds to existing tables (its ALTER TABLE ... ADD COLUMN clauses), per table. */
export function columnsAddedBy(script: string): Map<string, string[]> {
  const added = new Map<string, string[]>();
  for (const statement of script.replace(/^\s*--.*$/gm, '').split(';')) {
    const table = /^\s*ALTER\s+TABLE\s+[`"]?([A-Za-z_][A-Za-z0-9_]*)[`"]?/i.exec(statement)?.[1];
    if (!table) continue;
    for (const m of statement.matchAll(/\bADD\s+COLUMN\s+(?:IF\s+NOT\s+EXISTS\s+)?[`"]?([A-Za-z_][A-Za-z0-9_]*)[`"]?/gi)) {
      added.set(table, [...new Set([...(added.get(table) ?? []), m[1]])]);
    }
  }
  return added;
}

/** Which of these tables exist in the database (in its current schema). */
export async function existingTables(connection: SqlConnection, tables: string[]): Promise<string[]> {
  if (tables.length === 0) return [];
  const list = tables.map(() => '?').join(', ');
  const sql: Record<Dialect, string> = {
    postgresql: `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name IN (${list})`,
    mysql: `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name IN (${list})`,
    sqlite: `SELECT name FROM sqlite_master WHERE type = 'table' AND name IN (${list})`,
  };
  const rows = await connection.query<{ name: string }>(sql[connection.dialect], tables);
  const found = new Set(rows.map((row) => String(row.name)));
  return tables.filter((table) => found.has(table));
}

/** The shapes of these tables in the database. */
export function actualShapes(connection: SqlConnection, tables: string[]): Promise<TableShapes> {
  if (connection.dialect === 'postgresql') return postgresShapes(connection, tables, 'current');
  if (connection.dialect === 'mysql') return mariadbShapes(connection, tables);
  return sqliteShapes(connection, tables);
}

/**
 * The shapes these tables would have after the migration scripts, worked out on the same server
 * without touching the app's tables: on PostgreSQL in the session's temporary schema inside a
 * transaction that is rolled back, on MariaDB as temporary tables of a second connection, on SQLite
 * in an in-memory database.
 */
export async function expectedShapes(connection: SqlConnection, scripts: string[], tables: string[]): Promise<TableShapes> {
  if (connection.dialect === 'postgresql') {
    await connection.exec('BEGIN');
    try {
      await connection.exec('SET LOCAL search_path TO pg_temp');
      for (const script of scripts) await connection.exec(script);
      return await postgresShapes(connection, tables, 'temporary');
    } finally {
      await connection.exec('ROLLBACK');
    }
  }
  if (connection.dialect === 'mysql') {
    const scratch = await openConnection(connection.target);
    try {
      for (const script of scripts) await scratch.exec(script.replace(/\bCREATE\s+TABLE\b/gi, 'CREATE TEMPORARY TABLE'));
      return await mariadbShapes(scratch, tables);
    } finally {
      await scratch.close();
    }
  }
  const scratch = sqliteConnection(connection.target, openSqliteDatabase(':memory:'));
  try {
    for (const script of scripts) await scratch.exec(script);
    return await sqliteShapes(scratch, tables);
  } finally {
    await scratch.close();
  }
}

/** Lines naming each column that differs, is missing, or is extra; empty when the shapes agree. */
export function shapeDifferences(expected: TableShapes, actual: TableShapes): string[] {
  const lines: string[] = [];
  for (const [table, columns] of expected) {
    const found = actual.get(table);
    if (!found) {
      lines.push(`table ${table} is missing`);
      continue;
    }
    for (const [column, shape] of columns) {
      const actualShape = found.get(column);
      if (actualShape === undefined) lines.push(`${table}.${column} is missing (the migration makes it ${shape})`);
      else if (actualShape !== shape) lines.push(`${table}.${column} is ${actualShape}, the migration makes it ${shape}`);
    }
    for (const [column, shape] of found) {
      if (!columns.has(column)) lines.push(`${table}.${column} (${shape}) is not in the migration`);
    }
  }
  return lines;
}

function addColumn(shapes: TableShapes, table: string, column: string, shape: string): void {
  let columns = shapes.get(table);
  if (!columns) shapes.set(table, (columns = new Map()));
  columns.set(column, shape.replace(/\s+/g, ' ').trim());
}

async function postgresShapes(connection: SqlConnection, tables: string[], schema: 'current' | 'temporary'): Promise<TableShapes> {
  const namespace = schema === 'temporary' ? 'pg_my_temp_schema()' : '(SELECT oid FROM pg_namespace WHERE nspname = current_schema())';
  const rows = await connection.query<{ table_name: string; column_name: string; type: string; not_null: boolean; default_value: string | null }>(
    `SELECT c.relname AS table_name, a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS type,
            a.attnotnull AS not_null, pg_get_expr(d.adbin, d.adrelid) AS default_value
       FROM pg_class c
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
       LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
      WHERE c.relnamespace = ${namespace} AND c.relkind IN ('r', 'p') AND c.relname::text = ANY(?::text[])
      ORDER BY c.relname, a.attnum`,
    [tables],
  );
  const shapes: TableShapes = new Map();
  for (const row of rows) {
    // A serial's sequence is named with its schema where it is not on the search path.
    const defaultValue = row.default_value?.replace(/nextval\('[^']*'::regclass\)/, 'nextval(<its sequence>)');
    addColumn(shapes, row.table_name, row.column_name, `${row.type} ${row.not_null ? 'NOT NULL' : 'NULL'}${defaultValue ? ` DEFAULT ${defaultValue}` : ''}`);
  }
  return shapes;
}

async function mariadbShapes(connection: SqlConnection, tables: string[]): Promise<TableShapes> {
  const shapes: TableShapes = new Map();
  for (const table of tables) {
    let rows: { Field: string; Type: string; Null: string; Default: string | null; Extra: string }[];
    try {
      rows = await connection.query(`SHOW FULL COLUMNS FROM ${quoteMysql(table)}`);
    } catch (error) {
      if ((error as { code?: string }).code === 'ER_NO_SUCH_TABLE') continue;
      throw error;
    }
    for (const row of rows) {
      const defaultValue = row.Default === null ? '' : ` DEFAULT ${row.Default}`;
      addColumn(shapes, table, row.Field, `${row.Type} ${row.Null === 'YES' ? 'NULL' : 'NOT NULL'}${defaultValue} ${row.Extra ?? ''}`);
    }
  }
  return shapes;
}

async function sqliteShapes(connection: SqlConnection, tables: string[]): Promise<TableShapes> {
  const shapes: TableShapes = new Map();
  for (const table of tables) {
    const rows = await connection.query<{ name: string; type: string; notnull: number; dflt_value: string | null; pk: number }>(
      'SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?)',
      [table],
    );
    for (const row of rows) {
      const defaultValue = row.dflt_value === null ? '' : ` DEFAULT ${row.dflt_value}`;
      addColumn(shapes, table, row.name, `${row.type} ${row.notnull ? 'NOT NULL' : 'NULL'}${defaultValue}${row.pk ? ' PRIMARY KEY' : ''}`);
    }
  }
  return shapes;
}
