import type { InjectionToken } from '@nestjs/common';
import { InvalidOptionsError } from './errors/invalid-options.error';
import { checkBackoff, MAX_TIMER_MS, nonNegativeInteger, positiveInteger, resolveReindex } from './doctor-job.options.checks';
import { definedOnly, describe } from './util/describe';
import type { PrismaClientLike } from './store/prisma-client.interface';

/** `mysql`: MariaDB 10.6+ through @prisma/adapter-mariadb (Prisma's provider name; MySQL 8 lacks the RETURNING the store uses). */
export type Dialect = 'postgresql' | 'sqlite' | 'mysql';
export const DIALECTS: readonly Dialect[] = ['postgresql', 'sqlite', 'mysql'];

/** Exponential backoff between attempts: `min(cap, base * 2^(attempt-1))`, then jittered. */
export interface BackoffOptions {
  /** Delay after the first failure, in ms. */
  baseMs?: number;
  /** Upper bound of any delay, in ms. */
  maxMs?: number;
  /**
   * Share of the delay that is randomised, 0..1. 0: exact delays; 1: anywhere between 0 and the
   * delay ("full jitter"). Spreads retries of jobs that failed together.
   */
  jitter?: number;
}

/** The runner's own pg pool (PostgreSQL), see DoctorJobOptions' `runnerPool`. */
export interface RunnerPoolOptions {
  /** Where it connects; by default the settings of the Prisma client's @prisma/adapter-pg. */
  connectionString?: string;
  /** Connections (default 2). */
  max?: number;
  /** Prepare the per-job statements once per connection (default true). */
  preparedStatements?: boolean;
}

export interface DoctorJobOptions {
  /**
   * The app's Prisma client: the DI token of its provider (e.g. `PrismaService`), or an instance.
   * The client must use a driver adapter (PostgreSQL: @prisma/adapter-pg; SQLite:
   * @prisma/adapter-better-sqlite3).
   */
  prisma: InjectionToken | PrismaClientLike;
  /** SQL dialect. Detected from the client's driver adapter when omitted. */
  dialect?: Dialect;
  /** How often the runner looks for due jobs when idle, in ms. */
  pollIntervalMs?: number;
  /** Most jobs claimed by one query. */
  batchSize?: number;
  /** Most handlers running at once in this app instance. */
  concurrency?: number;
  /**
   * How long a claimed job stays invisible to other workers, in ms. A job whose worker died
   * becomes due again when its lease ends; a handler running longer than this may run twice.
   */
  leaseMs?: number;
  /** Attempts before a job is dead-lettered, unless the handler or the enqueue call says otherwise. */
  maxAttempts?: number;
  backoff?: BackoffOptions;
  /** On shutdown, how long running handlers may finish before their jobs are released, in ms. */
  shutdownTimeoutMs?: number;
  /** Start the runner on application bootstrap. Turn off for producer-only app instances. */
  autoStart?: boolean;
  /**
   * PostgreSQL: wake the runner as soon as jobs are committed, through LISTEN/NOTIFY on a
   * connection of its own (polling stays as the fallback). The connection string is read from
   * the client's @prisma/adapter-pg; pass `{ connectionString }` when it cannot be (an adapter
   * built on a pg.Pool without one). SQLite and MariaDB: the runner is woken in-process by this
   * instance's own outbox.transaction commits and outbox.send calls. `false`: poll only.
   */
  notify?: boolean | { connectionString: string };
  /**
   * PostgreSQL: the runner claims and settles jobs through a small `pg` pool of its own (`max`
   * connections, 2 by default) instead of the Prisma client's raw queries, which costs less CPU
   * per job. The connection settings are read from the client's @prisma/adapter-pg, like
   * `notify`'s; pass `{ connectionString }` when they cannot be. Enqueues always go through your
   * Prisma client and transaction. `false`: everything through the Prisma client. Without the
   * `pg` package (or settings) the runner uses the Prisma client and says so at start-up.
   * Ignored on SQLite and MariaDB. The pool prepares its per-job statements (the claim, the
   * settling delete, `outbox.send`'s insert) once per connection, which takes their parsing and
   * planning off every call; behind a pooler that cannot keep prepared statements (PgBouncer in
   * transaction mode before 1.21, or without `max_prepared_statements`) pass
   * `preparedStatements: false`.
   */
  runnerPool?: boolean | RunnerPoolOptions;
  /**
   * PostgreSQL: the runner rebuilds the job table's indexes when they are far larger than their
   * rows need, with `REINDEX INDEX CONCURRENTLY` (reads and writes go on), one instance at a time.
   * A long transaction elsewhere in the database holds vacuum back; every finished job then leaves
   * its index entries behind, and PostgreSQL gives that space back only by a rebuild (SOAK.md). An
   * instance looks every `intervalMs` (30 s); an index is rebuilt when it is over `minBytes` (8 MiB)
   * and `factor` (4) times the size its live rows need, never while a transaction has been open for
   * a minute. Needs the table's owner (a permission error turns it off, with a warning) and the `pg`
   * connection settings of `notify` or `runnerPool`. `false`: never rebuild. Ignored on SQLite and MariaDB.
   */
  reindex?: boolean | ReindexOptions;
  /**
   * Write one `log`-level line per successful job (`Job 12 (send-email) succeeded in 31 ms`).
   * Off by default: failures, retries, dead letters and outages are always logged; successes are
   * counted by the metrics and told by the `job.succeeded` event.
   */
  logSuccesses?: boolean;
}

/** The `reindex` option's thresholds (see DoctorJobOptions.reindex). */
export interface ReindexOptions {
  /** An index smaller than this many bytes is never rebuilt. Default 8 MiB. */
  minBytes?: number;
  /** How many times larger than its live rows need an index must be to be rebuilt. Default 4. */
  factor?: number;
  /** How often an instance looks, in ms. Default 30,000. */
  intervalMs?: number;
}

export interface ResolvedDoctorJobOptions {
  prisma: InjectionToken | PrismaClientLike;
  dialect: Dialect | undefined;
  pollIntervalMs: number;
  batchSize: number;
  concurrency: number;
  leaseMs: number;
  maxAttempts: number;
  backoff: Required<BackoffOptions>;
  shutdownTimeoutMs: number;
  autoStart: boolean;
  notify: boolean | { connectionString: string };
  runnerPool: boolean | RunnerPoolOptions;
  reindex: false | Required<ReindexOptions>;
  logSuccesses: boolean;
}

/** Every default, in one place. */
export const DEFAULT_OPTIONS: Omit<ResolvedDoctorJobOptions, 'prisma' | 'dialect'> = {
  pollIntervalMs: 1_000,
  batchSize: 20,
  concurrency: 10,
  leaseMs: 60_000,
  maxAttempts: 5,
  backoff: { baseMs: 1_000, maxMs: 60 * 60_000, jitter: 0.5 },
  shutdownTimeoutMs: 10_000,
  autoStart: true,
  notify: true,
  runnerPool: true,
  reindex: { minBytes: 8 * 1_048_576, factor: 4, intervalMs: 30_000 },
  logSuccesses: false,
};

const KNOWN_KEYS = new Set(['prisma', 'dialect', ...Object.keys(DEFAULT_OPTIONS)]);
const KNOWN_BACKOFF_KEYS = new Set(Object.keys(DEFAULT_OPTIONS.backoff));

/** Applies the defaults and checks every option; throws one error listing every problem. */
export function resolveOptions(input: DoctorJobOptions): ResolvedDoctorJobOptions {
  const problems: string[] = [];
  if (input === null || typeof input !== 'object') {
    throw new InvalidOptionsError([`expected an options object, got ${describe(input)}`]);
  }
  for (const key of Object.keys(input)) {
    if (!KNOWN_KEYS.has(key)) problems.push(`"${key}" is not an option (known: ${[...KNOWN_KEYS].join(', ')})`);
  }
  if (input.prisma === undefined || input.prisma === null) {
    problems.push('"prisma" is required: pass the DI token of your Prisma client provider (e.g. PrismaService) or a PrismaClient instance');
  } else if (!['function', 'string', 'symbol', 'object'].includes(typeof input.prisma)) {
    problems.push(`"prisma" must be a DI token or a PrismaClient instance, got ${describe(input.prisma)}`);
  }
  if (input.dialect !== undefined && !DIALECTS.includes(input.dialect)) {
    problems.push(`"dialect" must be one of ${DIALECTS.join(', ')} (or omitted to detect it), got ${describe(input.dialect)}`);
  }
  const backoffIn = input.backoff ?? {};
  if (typeof backoffIn !== 'object') problems.push(`"backoff" must be an object, got ${describe(backoffIn)}`);
  else {
    for (const key of Object.keys(backoffIn)) {
      if (!KNOWN_BACKOFF_KEYS.has(key)) problems.push(`"backoff.${key}" is not an option (known: ${[...KNOWN_BACKOFF_KEYS].join(', ')})`);
    }
  }
  const backoff = { ...DEFAULT_OPTIONS.backoff, ...definedOnly(typeof backoffIn === 'object' ? backoffIn : {}) };
  const resolved: ResolvedDoctorJobOptions = {
    prisma: input.prisma,
    dialect: input.dialect,
    pollIntervalMs: input.pollIntervalMs ?? DEFAULT_OPTIONS.pollIntervalMs,
    batchSize: input.batchSize ?? DEFAULT_OPTIONS.batchSize,
    concurrency: input.concurrency ?? DEFAULT_OPTIONS.concurrency,
    leaseMs: input.leaseMs ?? DEFAULT_OPTIONS.leaseMs,
    maxAttempts: input.maxAttempts ?? DEFAULT_OPTIONS.maxAttempts,
    backoff,
    shutdownTimeoutMs: input.shutdownTimeoutMs ?? DEFAULT_OPTIONS.shutdownTimeoutMs,
    autoStart: input.autoStart ?? DEFAULT_OPTIONS.autoStart,
    notify: input.notify ?? DEFAULT_OPTIONS.notify,
    runnerPool: input.runnerPool ?? DEFAULT_OPTIONS.runnerPool,
    reindex: resolveReindex(problems, input.reindex, DEFAULT_OPTIONS.reindex as Required<ReindexOptions>),
    logSuccesses: input.logSuccesses ?? DEFAULT_OPTIONS.logSuccesses,
  };
  positiveInteger(problems, 'pollIntervalMs', resolved.pollIntervalMs, MAX_TIMER_MS);
  positiveInteger(problems, 'batchSize', resolved.batchSize);
  positiveInteger(problems, 'concurrency', resolved.concurrency);
  positiveInteger(problems, 'leaseMs', resolved.leaseMs, MAX_TIMER_MS);
  positiveInteger(problems, 'maxAttempts', resolved.maxAttempts);
  nonNegativeInteger(problems, 'shutdownTimeoutMs', resolved.shutdownTimeoutMs, MAX_TIMER_MS);
  problems.push(...checkBackoff(backoff, 'backoff.'));
  if (typeof resolved.logSuccesses !== 'boolean') problems.push(`"logSuccesses" must be true or false, got ${describe(resolved.logSuccesses)}`);
  if (typeof resolved.autoStart !== 'boolean') problems.push(`"autoStart" must be true or false, got ${describe(resolved.autoStart)}`);
  const notify = resolved.notify as unknown;
  if (
    typeof notify !== 'boolean' &&
    !(notify && typeof notify === 'object' && typeof (notify as { connectionString?: unknown }).connectionString === 'string')
  ) {
    problems.push(`"notify" must be true, false or { connectionString: string }, got ${describe(notify)}`);
  }
  const runnerPool = resolved.runnerPool as unknown;
  if (typeof runnerPool !== 'boolean') {
    const pool = runnerPool as { connectionString?: unknown; max?: unknown; preparedStatements?: unknown } | null;
    if (!pool || typeof pool !== 'object' || Array.isArray(pool)) {
      problems.push(`"runnerPool" must be true, false or { connectionString?: string, max?: number, preparedStatements?: boolean }, got ${describe(runnerPool)}`);
    } else {
      for (const key of Object.keys(pool)) {
        if (key !== 'connectionString' && key !== 'max' && key !== 'preparedStatements') {
          problems.push(`"runnerPool.${key}" is not an option (known: connectionString, max, preparedStatements)`);
        }
      }
      if (pool.preparedStatements !== undefined && typeof pool.preparedStatements !== 'boolean') {
        problems.push(`"runnerPool.preparedStatements" must be true or false, got ${describe(pool.preparedStatements)}`);
      }
      if (pool.connectionString !== undefined && typeof pool.connectionString !== 'string') {
        problems.push(`"runnerPool.connectionString" must be a string, got ${describe(pool.connectionString)}`);
      }
      if (pool.max !== undefined) positiveInteger(problems, 'runnerPool.max', pool.max as number);
    }
  }
  if (problems.length) throw new InvalidOptionsError(problems);
  return resolved;
}
