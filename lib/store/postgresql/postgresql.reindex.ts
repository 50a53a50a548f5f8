/**
 * Rebuilds the job table's bloated indexes. While a long transaction holds the vacuum horizon
 * back, every finished job leaves its index entries behind; once it ends, vacuum removes them and
 * the emptied pages are reused, but PostgreSQL gives index space back only by a rebuild (the soak
 * measured it: SOAK.md). So every `intervalMs` one runner looks at the job table's
 * indexes and rebuilds, with `REINDEX INDEX CONCURRENTLY` (reads and writes go on), those far
 * larger than their rows need:
 * - on a connection of its own (REINDEX CONCURRENTLY cannot run in a transaction, and the
 *   advisory lock that makes it one instance at a time is held by the session);
 * - never while another transaction of this database has been open for `holderMaxMs`: a rebuild
 *   then keeps every entry that transaction may still see, and would wait for it;
 * - an index is bloated when it is over `minBytes` and over `factor` times the size its rows need
 *   (estimated from the live rows and the key columns' widths) and over `factor` times its size
 *   after this instance last rebuilt it (so a wrong estimate cannot make it rebuild again and again);
 * - a rebuild that fails (a lock not granted within lock_timeout, no permission) leaves the index
 *   as it was; the invalid copy it may leave is dropped then, or at the next look if its connection
 *   died; a permission error turns the rebuilds off.
 */
import { INDEX_REBUILDS_OFF, type IndexRebuild, type IndexUpkeep } from '../job-store.admin';
import { pgDriver, type PgConnectionConfig } from './postgresql.connections';

export interface ReindexSettings {
  /** Where the rebuilds' own connection goes. */
  connection: PgConnectionConfig;
  /** An index smaller than this is never rebuilt. */
  minBytes: number;
  /** How many times larger than its rows need (and than after its last rebuild) an index must be. */
  factor: number;
  /** No rebuild while another transaction has been open this long. */
  holderMaxMs: number;
  /** An instance looks at most this often (run() in between resolves at once). */
  intervalMs: number;
}

/** The session-level advisory lock key that makes the rebuilds one instance at a time ('DJREINDX' as a number). */
const REBUILD_LOCK_KEY = '4922450894806411352';
/** How long a rebuild waits for a table or index lock before it gives up (until the next look). */
const LOCK_TIMEOUT = '10s';
/** An index entry's bytes besides its key: the tuple header (8), the line pointer (4), alignment (4). */
const ENTRY_OVERHEAD_BYTES = 16;
/** A rebuilt btree's leaf pages are 90 % full (the default fillfactor). */
const LEAF_FILL = 0.9;
const PAGE_BYTES = 8192;

/** The job table's valid indexes: size, the table's live rows, and the average width of each index's key. */
const INDEXES = `SELECT i."relname" AS "name", pg_relation_size(i."oid")::float8 AS "bytes", COALESCE(s."n_live_tup", 0)::float8 AS "rows",
         (SELECT COALESCE(SUM(COALESCE(st."avg_width", CASE WHEN a."attlen" > 0 THEN a."attlen" ELSE 32 END)), 0)::float8
            FROM unnest(x."indkey"::int2[]) AS k("attnum")
            JOIN pg_attribute AS a ON a."attrelid" = x."indrelid" AND a."attnum" = k."attnum"
            LEFT JOIN pg_stats AS st ON st."schemaname" = n."nspname" AND st."tablename" = c."relname" AND st."attname" = a."attname") AS "key_width"
       FROM pg_index AS x JOIN pg_class AS i ON i."oid" = x."indexrelid" JOIN pg_class AS c ON c."oid" = x."indrelid"
       JOIN pg_namespace AS n ON n."oid" = c."relnamespace" LEFT JOIN pg_stat_user_tables AS s ON s."relid" = c."oid"
       WHERE n."nspname" = current_schema() AND c."relname" = 'doctor_job' AND x."indisvalid"
       ORDER BY i."relname"`;

/** How long the oldest other transaction of this database that holds the horizon (by snapshot or xid) has been open, in ms. */
const OLDEST_HOLDER_MS = `SELECT COALESCE(MAX(EXTRACT(EPOCH FROM now() - "xact_start") * 1000), 0)::float8 AS "ms" FROM pg_stat_activity
       WHERE "pid" <> pg_backend_pid() AND "datname" = current_database() AND "xact_start" IS NOT NULL
         AND ("backend_xid" IS NOT NULL OR "backend_xmin" IS NOT NULL)`;

/**
 * Invalid copies that a REINDEX CONCURRENTLY of the job table's indexes left behind when it failed
 * or its connection died (named <index>_ccnew, _ccnew1, ...), while no index of the table is being
 * built (an operator's REINDEX under way has one too).
 */
const LEFTOVERS = `SELECT i."relname" AS "name" FROM pg_index AS x JOIN pg_class AS i ON i."oid" = x."indexrelid"
       JOIN pg_class AS c ON c."oid" = x."indrelid" JOIN pg_namespace AS n ON n."oid" = c."relnamespace"
       WHERE n."nspname" = current_schema() AND c."relname" = 'doctor_job' AND NOT x."indisvalid" AND i."relname" LIKE '%\\_ccnew%'
         AND NOT EXISTS (SELECT 1 FROM pg_stat_progress_create_index AS p WHERE p."relid" = x."indrelid")`;

interface IndexRow {
  name: string;
  bytes: number;
  rows: number;
  key_width: number;
}

/** The size an index of `rows` entries of `keyWidth` bytes has right after a rebuild. */
export function neededIndexBytes(rows: number, keyWidth: number): number {
  const perPage = Math.max(1, Math.floor((PAGE_BYTES * LEAF_FILL) / (keyWidth + ENTRY_OVERHEAD_BYTES)));
  return (Math.ceil(rows / perPage) + 2) * PAGE_BYTES; // + the meta page and a root
}

const quoted = (name: string) => `"${name.replace(/"/g, '""')}"`;

export class IndexRebuilder {
  /** Each index's size right after this instance last rebuilt it. */
  private readonly rebuiltTo = new Map<string, number>();
  private running?: Promise<IndexUpkeep>;
  private client?: import('pg').Client;
  private disabled?: string;
  private closed = false;
  private lastLookAt = -Infinity;

  constructor(
    private readonly settings: ReindexSettings,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** One look, when `intervalMs` has passed since the last one began (at most one at a time; a call during one shares it). */
  run(): Promise<IndexUpkeep> {
    if (this.closed) return Promise.resolve({ rebuilt: [], skipped: 'the store is closed' });
    if (this.disabled) return Promise.resolve({ rebuilt: [], skipped: this.disabled });
    if (this.running) return this.running;
    if (this.now() - this.lastLookAt < this.settings.intervalMs) return Promise.resolve({ rebuilt: [], skipped: 'looked less than the interval ago' });
    this.lastLookAt = this.now();
    this.running = this.look().finally(() => (this.running = undefined));
    return this.running;
  }

  /** Stops: a rebuild under way is cancelled (PostgreSQL drops its unfinished copy) and its connection closed. */
  async close(): Promise<void> {
    this.closed = true;
    const client = this.client;
    if (!client) return;
    await this.cancel(client).catch(() => undefined);
    await this.running?.catch(() => undefined);
  }

  private async look(): Promise<IndexUpkeep> {
    const client = this.newClient(10_000);
    this.client = client;
    try {
      await client.connect();
      const [{ locked }] = (await client.query<{ locked: boolean }>(`SELECT pg_try_advisory_lock(${REBUILD_LOCK_KEY}::bigint) AS "locked"`)).rows;
      if (!locked) return { rebuilt: [], skipped: 'another instance is looking' };
      const [{ ms }] = (await client.query<{ ms: number }>(OLDEST_HOLDER_MS)).rows;
      if (ms >= this.settings.holderMaxMs) {
        return { rebuilt: [], skipped: `a transaction has been open for ${Math.round(ms / 1000)} s: a rebuild now would keep what it holds` };
      }
      await this.dropLeftovers(client);
      const bloated = (await client.query<IndexRow>(INDEXES)).rows.filter((row) => this.isBloated(row));
      if (!bloated.length) return { rebuilt: [] };
      await client.query(`SET lock_timeout = '${LOCK_TIMEOUT}'`);
      const rebuilt: IndexRebuild[] = [];
      for (const index of bloated) {
        if (this.closed) break;
        rebuilt.push(await this.rebuild(client, index));
        if (this.disabled) break;
      }
      return { rebuilt };
    } finally {
      this.client = undefined;
      // Ending the session releases the advisory lock.
      await client.end().catch(() => undefined);
    }
  }

  private isBloated({ name, bytes, rows, key_width }: IndexRow): boolean {
    const { minBytes, factor } = this.settings;
    return bytes > minBytes && bytes > factor * neededIndexBytes(rows, key_width) && bytes > factor * (this.rebuiltTo.get(name) ?? 0);
  }

  private async rebuild(client: import('pg').Client, index: IndexRow): Promise<IndexRebuild> {
    const started = performance.now();
    try {
      await client.query(`REINDEX INDEX CONCURRENTLY ${quoted(index.name)}`);
      const [{ bytes }] = (await client.query<{ bytes: number }>('SELECT pg_relation_size($1::regclass)::float8 AS "bytes"', [quoted(index.name)])).rows;
      this.rebuiltTo.set(index.name, bytes);
      return { index: index.name, bytesBefore: index.bytes, bytesAfter: bytes, ms: Math.round(performance.now() - started) };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if ((error as { code?: string }).code === '42501') {
        this.disabled = `${INDEX_REBUILDS_OFF} ${message} (REINDEX needs the owner of the table; pass reindex: false to not try)`;
      }
      await this.dropLeftovers(client).catch(() => undefined);
      return { index: index.name, bytesBefore: index.bytes, bytesAfter: index.bytes, ms: Math.round(performance.now() - started), error: message };
    }
  }

  private async dropLeftovers(client: import('pg').Client): Promise<void> {
    for (const { name: leftover } of (await client.query<{ name: string }>(LEFTOVERS)).rows) {
      await client.query(`DROP INDEX CONCURRENTLY IF EXISTS ${quoted(leftover)}`);
    }
  }

  /** A connection of the rebuilds' own (not connected yet). A dropped one fails the statement under way, which is enough. */
  private newClient(connectionTimeoutMillis: number): import('pg').Client {
    const { Client } = pgDriver();
    const client = new Client({ connectionTimeoutMillis, ...this.settings.connection, application_name: 'doctor-job-reindex' });
    client.on('error', () => undefined);
    return client;
  }

  /** Cancels the statement `client` runs, from a second connection. */
  private async cancel(client: import('pg').Client): Promise<void> {
    const pid = (client as unknown as { processID?: number }).processID;
    if (!pid) return;
    const other = this.newClient(5_000);
    try {
      await other.connect();
      await other.query('SELECT pg_cancel_backend($1::int)', [pid]);
    } finally {
      await other.end().catch(() => undefined);
    }
  }
}
