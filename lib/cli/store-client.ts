/**
 * The app's JobStore in the CLI, without a generated Prisma client: createJobStore() over a small
 * Prisma-like client ($queryRawUnsafe, $executeRawUnsafe, $transaction) on one connection of the
 * dialect's plain driver. The stores' statements are sent as they are written (PostgreSQL $1, $2…;
 * MariaDB and SQLite ?), so the CLI runs exactly the SQL the app runs.
 */
import { createJobStore } from '../store/create-job-store';
import type { JobStore } from '../store/job-store.interface';
import type { PrismaClientLike, TransactionClientLike } from '../store/prisma-client.interface';
import { connectMariadb, connectPostgres, openSqliteDatabase, type PgResult, type Row } from './connection';
import type { DatabaseTarget, Dialect } from './database-url';

export interface StoreClient {
  readonly dialect: Dialect;
  readonly target: DatabaseTarget;
  /** The Prisma-like client the store runs its statements through. */
  readonly client: PrismaClientLike;
  /** The dialect's JobStore over it (no LISTEN, no runner pool: one connection). */
  readonly store: JobStore;
  close(): Promise<void>;
}

/** Runs one statement with positional parameters as the dialect writes them; rows, and the rows it touched. */
type Run = (sql: string, params: unknown[]) => Promise<{ rows: Row[]; count: number }>;

interface Driver {
  run: Run;
  begin: string;
  close(): Promise<void>;
}

/** Opens one connection to the database of `target` and builds the store on it. */
export async function openStoreClient(target: DatabaseTarget): Promise<StoreClient> {
  const driver = target.dialect === 'postgresql' ? await postgres(target) : target.dialect === 'mysql' ? await mariadb(target) : sqlite(target);
  const client = prismaLike(driver);
  const store = createJobStore(target.dialect, client, { notify: false, runnerPool: false });
  return { dialect: target.dialect, target, client, store, close: () => driver.close() };
}

/**
 * One connection for everything, so statements queue: a transaction holds the connection until it
 * ends, and statements sent meanwhile on the root client wait for it (as a pool of one would).
 */
function prismaLike(driver: Driver): PrismaClientLike {
  let queue: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(work: () => Promise<T>): Promise<T> => {
    const result = queue.then(work, work);
    queue = result.catch(() => undefined);
    return result;
  };
  const direct: TransactionClientLike = {
    $queryRawUnsafe: async <T>(sql: string, ...params: unknown[]) => (await driver.run(sql, params)).rows as T,
    $executeRawUnsafe: async (sql: string, ...params: unknown[]) => (await driver.run(sql, params)).count,
  };
  return {
    $queryRawUnsafe: <T>(sql: string, ...params: unknown[]) => exclusive(() => Promise.resolve(direct.$queryRawUnsafe<T>(sql, ...params))),
    $executeRawUnsafe: (sql: string, ...params: unknown[]) => exclusive(() => Promise.resolve(direct.$executeRawUnsafe(sql, ...params))),
    $transaction: (fn: unknown) => {
      if (typeof fn !== 'function') return Promise.reject(new Error('only interactive transactions ($transaction(async (tx) => ...)) are supported'));
      return exclusive(async () => {
        await driver.run(driver.begin, []);
        try {
          const result = await (fn as (tx: TransactionClientLike) => Promise<unknown>)(direct);
          await driver.run('COMMIT', []);
          return result;
        } catch (error) {
          await driver.run('ROLLBACK', []).catch(() => undefined);
          throw error;
        }
      });
    },
  };
}

async function postgres(target: Extract<DatabaseTarget, { dialect: 'postgresql' }>): Promise<Driver> {
  // pg's default parsers: timestamptz as Date, int4 as number, int8 and numeric as text (the stores convert).
  const client = await connectPostgres(target, { application_name: 'doctor-job-cli' });
  return {
    run: async (sql, params) => {
      // The stores' statements are one each: one result.
      const result = (await client.query(sql, params)) as PgResult;
      return { rows: result.rows ?? [], count: result.rowCount ?? 0 };
    },
    begin: 'BEGIN',
    close: () => client.end(),
  };
}

async function mariadb(target: Extract<DatabaseTarget, { dialect: 'mysql' }>): Promise<Driver> {
  const connection = await connectMariadb(target, {
    // Doctor Job's times are UTC: DATETIME values read as UTC Dates (and the session's zone is UTC).
    timezone: 'Z',
  });
  return {
    run: async (sql, params) => {
      const result = await connection.query(sql, params);
      if (Array.isArray(result)) return { rows: result as Row[], count: result.length };
      return { rows: [], count: Number((result as { affectedRows?: number }).affectedRows ?? 0) };
    },
    begin: 'START TRANSACTION',
    close: () => connection.end(),
  };
}

function sqlite(target: Extract<DatabaseTarget, { dialect: 'sqlite' }>): Driver {
  const db = openSqliteDatabase(target.file);
  return {
    run: async (sql, params) => {
      const statement = db.prepare(sql);
      if (statement.reader) {
        const rows = statement.all(...params) as Row[];
        return { rows, count: rows.length };
      }
      return { rows: [], count: Number((statement.run(...params) as { changes?: number }).changes ?? 0) };
    },
    // Takes the write lock at once: a transaction that reads then writes never finds another writer in between.
    begin: 'BEGIN IMMEDIATE',
    close: async () => void db.close(),
  };
}
