import { mkdirSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DIALECT_LABEL, type DatabaseTarget, type Dialect } from './database-url';
import { usageError } from './errors';

export type Row = Record<string, unknown>;

/**
 * One connection to the app's database through the plain driver of its dialect (`pg`, `mariadb`,
 * `better-sqlite3`), not through Prisma: the CLI runs where the app's generated client is not at hand.
 */
export interface SqlConnection {
  readonly target: DatabaseTarget;
  readonly dialect: Dialect;
  /** Runs one statement. Parameters are written `?` (the PostgreSQL connection renumbers them `$1`, `$2`, …). */
  query<T = Row>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Runs a script of one or more statements, without parameters (a migration file). */
  exec(script: string): Promise<void>;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** SQLite: create the file (and its folder) when it does not exist. Otherwise a missing file is an error. */
  create?: boolean;
}

const CONNECT_TIMEOUT_MS = 10_000;

/** Opens a connection, loading only the driver the dialect needs; expected failures become one clear line (exit code 2). */
export async function openConnection(target: DatabaseTarget, options: OpenOptions = {}): Promise<SqlConnection> {
  if (target.dialect === 'postgresql') return openPostgres(target);
  if (target.dialect === 'mysql') return openMariadb(target);
  return openSqlite(target, options);
}

/**
 * Loads a driver package from the app (next to doctor-job, or the current directory's project).
 * A missing package is reported with the command that installs it.
 */
export function loadDriver<T>(name: string, dialect: Dialect): T {
  const bases = [__filename, join(process.cwd(), 'package.json')];
  for (const base of bases) {
    try {
      return createRequire(base)(name) as T;
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      const missing = e.code === 'MODULE_NOT_FOUND' && e.message.includes(`'${name}'`);
      if (!missing) {
        throw usageError(`the "${name}" package (the ${DIALECT_LABEL[dialect]} driver) is installed but does not load: ${firstLine(e.message)}`);
      }
    }
  }
  throw usageError(`${DIALECT_LABEL[dialect]} needs the "${name}" package, which is not installed: run npm install ${name}`);
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL (pg)

/** What pg answers to a statement (a script of several statements: one of these each, in an array). */
export interface PgResult {
  rows: Row[];
  rowCount: number | null;
}

export interface PgClient {
  connect(): Promise<void>;
  query(sql: string, params?: unknown[]): Promise<PgResult | PgResult[]>;
  end(): Promise<void>;
  on(event: 'error', listener: (error: Error) => void): void;
}

/**
 * One PostgreSQL connection of the CLI's (`pg` driver) with `options` over the target's settings,
 * on the target's schema when it names one; a failure to connect becomes one clear line.
 */
export async function connectPostgres(target: Extract<DatabaseTarget, { dialect: 'postgresql' }>, options: object = {}): Promise<PgClient> {
  const pg = loadDriver<{ Client: new (config: object) => PgClient }>('pg', 'postgresql');
  const client = new pg.Client({ connectionString: target.connectionString, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, ...options });
  // A connection lost between queries surfaces on the next query; do not crash on the event.
  client.on('error', () => undefined);
  try {
    await client.connect();
    if (target.schema) await client.query(`SET search_path TO ${quotePg(target.schema)}`);
  } catch (error) {
    await client.end().catch(() => undefined);
    throw connectError(target, error);
  }
  return client;
}

async function openPostgres(target: Extract<DatabaseTarget, { dialect: 'postgresql' }>): Promise<SqlConnection> {
  const client = await connectPostgres(target);
  return {
    target,
    dialect: 'postgresql',
    async query<T>(sql: string, params: unknown[] = []) {
      let n = 0;
      const result = await client.query(
        sql.replace(/\?/g, () => `$${++n}`),
        params,
      );
      return (Array.isArray(result) ? (result.at(-1)?.rows ?? []) : result.rows) as T[];
    },
    async exec(script: string) {
      await client.query(script);
    },
    close: () => client.end(),
  };
}

export const quotePg = (identifier: string) => `"${identifier.replace(/"/g, '""')}"`;

// ---------------------------------------------------------------------------------------------
// MariaDB (mariadb)

export interface MariadbConnection {
  query(sql: string, params?: unknown[]): Promise<unknown>;
  end(): Promise<void>;
  on(event: 'error', listener: (error: Error) => void): void;
}

/**
 * One MariaDB connection of the CLI's (`mariadb` driver) with `options` over the target's settings;
 * a failure to connect becomes one clear line.
 */
export async function connectMariadb(target: Extract<DatabaseTarget, { dialect: 'mysql' }>, options: object): Promise<MariadbConnection> {
  const mariadb = loadDriver<{ createConnection(options: object): Promise<MariadbConnection> }>('mariadb', 'mysql');
  let connection: MariadbConnection;
  try {
    connection = await mariadb.createConnection({
      host: target.host,
      port: target.port,
      user: target.user,
      password: target.password,
      database: target.database,
      ssl: target.ssl,
      connectTimeout: CONNECT_TIMEOUT_MS,
      bigIntAsNumber: true,
      insertIdAsNumber: true,
      ...options,
    });
  } catch (error) {
    throw connectError(target, error);
  }
  connection.on('error', () => undefined);
  return connection;
}

async function openMariadb(target: Extract<DatabaseTarget, { dialect: 'mysql' }>): Promise<SqlConnection> {
  const connection = await connectMariadb(target, {
    // A migration file holds several statements.
    multipleStatements: true,
    // DATETIME values as the text MariaDB holds (UTC here), not Dates read in the local time zone.
    dateStrings: true,
  });
  return {
    target,
    dialect: 'mysql',
    async query<T>(sql: string, params: unknown[] = []) {
      const result = await connection.query(sql, params);
      return (Array.isArray(result) ? result : []) as T[];
    },
    async exec(script: string) {
      await connection.query(script);
    },
    close: () => connection.end(),
  };
}

export const quoteMysql = (identifier: string) => `\`${identifier.replace(/`/g, '``')}\``;

// ---------------------------------------------------------------------------------------------
// SQLite (better-sqlite3)

export interface SqliteStatement {
  readonly reader: boolean;
  all(...params: unknown[]): unknown[];
  run(...params: unknown[]): unknown;
}
export interface SqliteDatabase {
  prepare(sql: string): SqliteStatement;
  exec(sql: string): unknown;
  close(): unknown;
}
type SqliteConstructor = new (file: string, options?: { timeout?: number; fileMustExist?: boolean }) => SqliteDatabase;

/** Opens a SQLite database with better-sqlite3: a file, or `:memory:`. */
export function openSqliteDatabase(file: string, options: { create?: boolean } = {}): SqliteDatabase {
  const Database = loadDriver<SqliteConstructor>('better-sqlite3', 'sqlite');
  if (file !== ':memory:' && !existsSync(file)) {
    if (!options.create) throw usageError(`no SQLite database at ${file}: check the file: URL (a relative path is taken from the current directory)`);
    mkdirSync(dirname(file), { recursive: true });
  }
  try {
    return new Database(file, { timeout: CONNECT_TIMEOUT_MS });
  } catch (error) {
    throw usageError(`cannot open the SQLite database ${file}: ${firstLine((error as Error).message)}`);
  }
}

async function openSqlite(target: Extract<DatabaseTarget, { dialect: 'sqlite' }>, options: OpenOptions): Promise<SqlConnection> {
  const db = openSqliteDatabase(target.file, options);
  return sqliteConnection(target, db);
}

export function sqliteConnection(target: DatabaseTarget, db: SqliteDatabase): SqlConnection {
  return {
    target,
    dialect: 'sqlite',
    async query<T>(sql: string, params: unknown[] = []) {
      const statement = db.prepare(sql);
      if (statement.reader) return statement.all(...params) as T[];
      statement.run(...params);
      return [];
    },
    async exec(script: string) {
      db.exec(script);
    },
    async close() {
      db.close();
    },
  };
}

// ---------------------------------------------------------------------------------------------

/** Turns a driver's connection failure into one line that says what was wrong and what to check. */
export function connectError(target: DatabaseTarget, error: unknown): Error {
  const e = error as { code?: string; errno?: number; message?: string; sqlMessage?: string };
  const label = DIALECT_LABEL[target.dialect];
  const where = target.dialect === 'sqlite' ? target.file : `${target.host}:${target.port}`;
  const message = firstLine(e.sqlMessage ?? e.message ?? String(error));
  const code = e.code ?? '';
  const text = `${code} ${message}`;
  if (/ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|ETIMEDOUT|ECONNRESET|timeout|timed out|Connection terminated/i.test(text)) {
    const why = /ENOTFOUND|EAI_AGAIN/.test(text) ? 'the host name does not resolve' : code || message;
    return usageError(`cannot reach ${label} at ${where} (${why}): is the server running, and are the host and port in the URL right?`);
  }
  if (code === '28P01' || code === '28000' || code === 'ER_ACCESS_DENIED_ERROR' || /password authentication|Access denied/i.test(message)) {
    return usageError(`${label} at ${where} refused the login: ${message}. Check the user and password in the URL`);
  }
  if (code === '3D000' || code === 'ER_BAD_DB_ERROR') {
    const database = target.dialect === 'sqlite' ? '' : target.database;
    return usageError(`the database "${database}" does not exist on ${label} at ${where}: create it first, or fix the URL`);
  }
  return usageError(`cannot connect to ${label} at ${where}: ${message}`);
}

export const firstLine = (text: string) => text.split('\n')[0].trim();
