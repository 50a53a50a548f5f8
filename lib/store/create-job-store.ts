/**
 * `createJobStore()`: the JobStore for a dialect, over the app's Prisma client. On PostgreSQL it
 * also works out the connection settings of the LISTEN client and of the runner's own pg pool
 * (from the options, or from the client's @prisma/adapter-pg). Used by the Nest provider and the tests.
 */
import { RUNNER_POOL_NO_PG, RUNNER_POOL_NO_SETTINGS } from '../doctor-job.messages';
import { DEFAULT_OPTIONS, type Dialect, type ReindexOptions, type RunnerPoolOptions } from '../doctor-job.options';
import type { JobStore } from './job-store.interface';
import { MariadbJobStore } from './mariadb/mariadb.store';
import type { PgConnectionConfig } from './postgresql/postgresql.connections';
import { PostgresqlJobStore } from './postgresql/postgresql.store';
import type { PrismaClientLike } from './prisma-client.interface';
import { SqliteJobStore } from './sqlite/sqlite.store';

/** Connections in the runner's own pg pool when `runnerPool.max` is not given. */
const RUNNER_POOL_SIZE = 2;
/** No index rebuild while another transaction has been open this long (it would keep what that one holds, and wait for it). */
const REINDEX_HOLDER_MAX_MS = 60_000;

export interface JobStoreOptions {
  /** PostgreSQL: as DoctorJobOptions' `notify` (default true). Decides whether the store can listen, and on which connection. */
  notify?: boolean | { connectionString: string };
  /** PostgreSQL: as DoctorJobOptions' `runnerPool` (default true). */
  runnerPool?: boolean | RunnerPoolOptions;
  /** PostgreSQL: as DoctorJobOptions' `reindex` once resolved (default: its defaults). */
  reindex?: false | Required<ReindexOptions>;
  /** Told when the runner pool was asked for but cannot be set up (the store then uses the Prisma client). */
  warn?: (message: string) => void;
}

/** The store for `dialect` (typed as that dialect's class when the dialect is a literal). */
export function createJobStore(dialect: 'postgresql', prisma: PrismaClientLike, options?: JobStoreOptions): PostgresqlJobStore;
export function createJobStore(dialect: 'mysql', prisma: PrismaClientLike, options?: JobStoreOptions): MariadbJobStore;
export function createJobStore(dialect: 'sqlite', prisma: PrismaClientLike, options?: JobStoreOptions): SqliteJobStore;
export function createJobStore(dialect: Dialect, prisma: PrismaClientLike, options?: JobStoreOptions): JobStore;
export function createJobStore(dialect: Dialect, prisma: PrismaClientLike, options: JobStoreOptions = {}): JobStore {
  if (dialect === 'postgresql') return postgresqlStore(prisma, options);
  if (dialect === 'mysql') return new MariadbJobStore(prisma);
  return new SqliteJobStore(prisma);
}

function postgresqlStore(prisma: PrismaClientLike, options: JobStoreOptions): PostgresqlJobStore {
  const { notify = DEFAULT_OPTIONS.notify, runnerPool = DEFAULT_OPTIONS.runnerPool, reindex = DEFAULT_OPTIONS.reindex, warn = () => undefined } = options;
  const adapter = adapterConnection(prisma);
  const listen = notify === false ? undefined : typeof notify === 'object' ? { connectionString: notify.connectionString } : adapter;
  let pool: (PgConnectionConfig & { max: number }) | undefined;
  let prepare = true;
  if (runnerPool !== false) {
    const own = typeof runnerPool === 'object' ? runnerPool : {};
    const settings = own.connectionString ? { connectionString: own.connectionString } : adapter;
    if (!settings) {
      warn(RUNNER_POOL_NO_SETTINGS);
    } else if (!pgInstalled()) {
      warn(RUNNER_POOL_NO_PG);
    } else {
      pool = { ...settings, max: own.max ?? RUNNER_POOL_SIZE };
      prepare = own.preparedStatements ?? true;
    }
  }
  // The index rebuilds need a connection of their own: the runner pool's settings, else the listener's.
  const { max: _max, ...poolConnection } = pool ?? { max: 0 };
  const rebuildConnection = pool ? poolConnection : listen && pgInstalled() ? listen : undefined;
  const rebuilds = reindex && rebuildConnection ? { ...reindex, connection: rebuildConnection, holderMaxMs: REINDEX_HOLDER_MAX_MS } : undefined;
  return new PostgresqlJobStore(prisma, listen, pool, rebuilds, prepare);
}

/**
 * The pg connection settings of the client's @prisma/adapter-pg: its connection string or pool
 * config, or the options of the pg.Pool it was given. Prisma does not expose them publicly.
 */
function adapterConnection(prisma: PrismaClientLike): PgConnectionConfig | undefined {
  const adapter = (prisma as { _engineConfig?: { adapter?: Record<string, unknown> } })._engineConfig?.adapter;
  const config = adapter?.config as string | PgConnectionConfig | undefined;
  const pool = adapter?.externalPool as { options?: PgConnectionConfig } | undefined;
  if (typeof config === 'string') return { connectionString: config };
  const settings = config ?? pool?.options;
  if (!settings || typeof settings !== 'object') return undefined;
  // The app's pool sizing and callbacks are its own; only the connection settings are shared.
  const { max: _max, min: _min, log: _log, onConnect: _onConnect, ...connection } = settings as PgConnectionConfig & Record<string, unknown>;
  return connection;
}

function pgInstalled(): boolean {
  try {
    require.resolve('pg');
    return true;
  } catch {
    return false;
  }
}
