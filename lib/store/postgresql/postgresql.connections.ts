/**
 * PostgreSQL's connections besides the app's Prisma client: where the runner's statements go
 * (a small pg pool of the store's own, or Prisma's raw queries) and the reconnecting LISTEN client.
 * The NOTIFYs after outbox.transaction's commits are announcer.ts's.
 */
import type { ListenerEvents } from '../job-store.interface';
import type { PrismaClientLike } from '../prisma-client.interface';
import { CATCH_UP_AFTER_MS } from './other-listeners';

/** pg connection settings: a connection string, or the pool settings of the app's adapter. */
export type PgConnectionConfig = import('pg').PoolConfig;

let pgModule: typeof import('pg') | undefined;

/**
 * The pg driver, loaded on first use (it is needed only with PostgreSQL) and kept: the store loads
 * it when it is made, at the app's boot, so that no require() runs when the runner starts. One
 * there (the rebuilds' or the listener's connection) made V8 optimise Node's module lookup, hot
 * from the boot, in the middle of the first drain: 10-37 ms of the optimising compiler's time
 * (node --trace-opt) on the cores the database shares.
 */
export function pgDriver(): typeof import('pg') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (pgModule ??= require('pg') as typeof import('pg'));
}

/** The first reconnection of the listener waits this long, each later one twice as long as the one before... */
const LISTEN_RETRY_BASE_MS = 100;
/** ...but never longer than this. */
const LISTEN_RETRY_MAX_MS = 5_000;

/**
 * Statements that the runner's own pg pool prepares once per connection (a named statement):
 * the text → its name. Parsing and planning took about 0.25-0.35 ms of a claim of one job
 * (bench/claim-prepared.ts: 0.37-0.39 ms prepared against 0.63-0.75 one-off, round trip
 * included), which is what a runner woken for one job waits for before its handler starts. The
 * statements named here are the ones run per job or per batch. Names must differ for different
 * texts (they are per connection). A statement whose plan no longer fits the table (a migration
 * changed a column it returns) fails once on each connection that prepared it: the pool drops a
 * connection whose query failed.
 */
const PREPARED = new Map<string, string>();

/** Names `text` for preparing (see PREPARED); returns it. */
export function prepared(text: string, name: string): string {
  const known = PREPARED.get(text);
  if (known !== undefined && known !== name) throw new Error(`Doctor Job bug: the statement "${name}" is already prepared as "${known}"`);
  PREPARED.set(text, name);
  return text;
}

/** The runner's statements, with positional parameters ($1, $2, ...). */
export interface RunnerSql {
  rows<T>(sql: string, params: unknown[]): Promise<T[]>;
  /** Rows as arrays of their column values, in the statement's column order (no object per row). */
  arrays(sql: string, params: unknown[]): Promise<unknown[][]>;
  /** Runs a statement without RETURNING; resolves to the number of rows it touched. */
  count(sql: string, params: unknown[]): Promise<number>;
  close(): Promise<void>;
}

/** The runner's statements through the app's Prisma client (runnerPool: false, or no pg/settings). */
export class PrismaSql implements RunnerSql {
  constructor(private readonly prisma: PrismaClientLike) {}

  async rows<T>(sql: string, params: unknown[]): Promise<T[]> {
    return this.prisma.$queryRawUnsafe<T[]>(sql, ...params);
  }

  async arrays(sql: string, params: unknown[]): Promise<unknown[][]> {
    // Prisma's rows keep the statement's column order.
    return (await this.prisma.$queryRawUnsafe<Record<string, unknown>[]>(sql, ...params)).map((row) => Object.values(row));
  }

  async count(sql: string, params: unknown[]): Promise<number> {
    return this.prisma.$executeRawUnsafe(sql, ...params);
  }

  async close(): Promise<void> {}
}

/**
 * A small pg pool of the store's own. The runner's statements skip Prisma's raw-query layer
 * (its request pipeline and per-row result handling), which is most of their CPU cost; they
 * need no transaction of the app's, so nothing is lost. Created on first use.
 */
export class PgPoolSql implements RunnerSql {
  private pool?: import('pg').Pool;

  /** @param prepare name the statements of PREPARED (off behind a pooler that cannot keep them, e.g. PgBouncer in transaction mode before 1.21). */
  constructor(
    private readonly config: PgConnectionConfig,
    private readonly prepare = true,
  ) {}

  /** The query config of `sql`: named when it is one of PREPARED. */
  private queryOf(text: string, values: unknown[]): import('pg').QueryConfig {
    const name = this.prepare ? PREPARED.get(text) : undefined;
    return name === undefined ? { text, values } : { name, text, values };
  }

  private get(): import('pg').Pool {
    if (!this.pool) {
      const { Pool } = pgDriver();
      // pg's default parsers give what Prisma gives for these statements' columns: int4 as
      // number, timestamptz as Date, text as string (every id leaves as ::text).
      this.pool = new Pool({ connectionTimeoutMillis: 10_000, ...this.config, application_name: 'doctor-job-runner', allowExitOnIdle: true });
      // An idle connection that dies (server restart) is dropped by the pool; the next query
      // opens another one. Without a listener the error would crash the process.
      this.pool.on('error', () => undefined);
    }
    return this.pool;
  }

  async rows<T>(sql: string, params: unknown[]): Promise<T[]> {
    return (await this.get().query(this.queryOf(sql, params))).rows as T[];
  }

  async arrays(sql: string, params: unknown[]): Promise<unknown[][]> {
    return (await this.get().query({ ...this.queryOf(sql, params), rowMode: 'array' })).rows as unknown[][];
  }

  async count(sql: string, params: unknown[]): Promise<number> {
    return (await this.get().query(this.queryOf(sql, params))).rowCount ?? 0;
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.end();
  }
}

/** This process's listener connections, by their server process ids (which other-listeners.ts leaves out). */
export type ListenerPids = Set<number>;

/**
 * LISTEN (the `listen` statement) on a connection of its own (a pg Client), re-established with
 * backoff when it drops; calls `wake` on every notification (but those whose payload is `own`:
 * this process's announcer, which has woken it already), after every (re)connection, and once
 * more CATCH_UP_AFTER_MS later (other-listeners.ts: an instance that believed itself alone may
 * have sent no NOTIFY until then). Keeps the connection's server process id in `pids` while it is
 * up. Resolves, once the first attempt is over, to a function that stops listening.
 */
export async function listenForWakeUps(
  connection: PgConnectionConfig,
  listen: string,
  wake: () => void,
  events: ListenerEvents,
  own?: string,
  pids: ListenerPids = new Set(),
): Promise<() => Promise<void>> {
  const { Client } = pgDriver();
  let client: import('pg').Client | undefined;
  let stopped = false;
  let retries = 0;
  let timer: NodeJS.Timeout | undefined;
  let catchUp: NodeJS.Timeout | undefined;
  const reconnect = (error: unknown) => {
    if (stopped || timer) return;
    events.lost(error);
    timer = setTimeout(() => {
      timer = undefined;
      void connect();
    }, Math.min(LISTEN_RETRY_MAX_MS, LISTEN_RETRY_BASE_MS * 2 ** retries++));
  };
  const connect = async () => {
    const candidate = new Client({ ...connection, application_name: 'doctor-job-listener' });
    candidate.on('notification', (message) => {
      if (own === undefined || message.payload !== own) wake();
    });
    candidate.on('error', (error) => reconnect(error));
    candidate.on('end', () => {
      pids.delete(pidOf(candidate));
      reconnect(new Error('the listener connection ended'));
    });
    try {
      await candidate.connect();
      pids.add(pidOf(candidate));
      await candidate.query(listen);
      if (stopped) return void (await candidate.end());
      client = candidate;
      retries = 0;
      events.connected();
      wake(); // jobs may have been enqueued while it was down
      clearTimeout(catchUp);
      catchUp = setTimeout(wake, CATCH_UP_AFTER_MS);
      catchUp.unref();
    } catch (error) {
      pids.delete(pidOf(candidate));
      candidate.removeAllListeners('end');
      void candidate.end().catch(() => undefined);
      reconnect(error);
    }
  };
  await connect();
  return async () => {
    stopped = true;
    clearTimeout(timer);
    clearTimeout(catchUp);
    if (client) pids.delete(pidOf(client));
    await client?.end().catch(() => undefined);
  };
}

/** A pg client's server process id (pg keeps it from the connection's BackendKeyData; 0 before). */
function pidOf(client: import('pg').Client): number {
  return (client as unknown as { processID?: number }).processID ?? 0;
}
