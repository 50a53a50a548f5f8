/**
 * PostgreSQL: the text of every statement Doctor Job runs, one export per JobStore method it
 * serves (parameters $1, $2, ...; postgresql.store.ts binds them and decodes the rows). Claims
 * use FOR UPDATE SKIP LOCKED, so workers claim concurrently without blocking each other; every
 * time comes from the server's now().
 */
import { doubleQuoted as q, due } from '../sql-clauses';
import { IDS } from './postgresql.runner.sql';

/** The advisory lock of an ordering key (64-bit hash, namespaced so it does not meet the app's own advisory locks by design). */
const KEY_LOCK = (key: string) => `pg_advisory_xact_lock(hashtextextended('doctor_job:' || ${key}, 0))`;

/** The notification channel: a wake-up call with no payload. */
const CHANNEL = 'doctor_job';
const NOTIFY = `pg_notify('${CHANNEL}', '')`;
export const NOTIFIED = `LATERAL (SELECT ${NOTIFY}) AS notified`;

// Ids leave as text (bigint would arrive as BigInt). The alias shadows the column in ORDER BY, so
// ordering always names the table: ORDER BY "doctor_job"."id", never ORDER BY "id".
// Payloads leave as JSON text, parsed in rows.ts: a top-level string payload arrives intact.
const JOB_COLUMNS = `"id"::text AS "id", "type", "payload"::text AS "payload", "attempts", "max_attempts", "priority", "created_at"`;
const DEAD_LETTER_COLUMNS = `"id"::text AS "id", "job_id"::text AS "job_id", "type", "payload"::text AS "payload", "attempts", "max_attempts", "error_message", "error_stack", "created_at", "failed_at", "reason", "replay_of"::text AS "replay_of"`;
/** Which dead letters (DeadLetterFilter), from parameter $n: type, reason, failed before, failed after (each NULL for any). */
export const DEAD_LETTER_FILTER = (n: number) =>
  `($${n}::text IS NULL OR "type" = $${n}::text) AND ($${n + 1}::text IS NULL OR "reason" = $${n + 1}::text)
         AND ($${n + 2}::timestamptz IS NULL OR "failed_at" < $${n + 2}::timestamptz) AND ($${n + 3}::timestamptz IS NULL OR "failed_at" >= $${n + 3}::timestamptz)`;
/** The runner's statements (claim, settle, lease) are in postgresql.runner.sql.ts; every statement is an export of this module. */
export * from './postgresql.runner.sql';

/**
 * `insert` (an INSERT without RETURNING) returning `columns` (the id as text), with pg_notify in
 * the same statement when `notify`.
 */
function insertReturning(notify: boolean, insert: string, columns: string[]): string {
  const list = (from: string) => columns.map((c) => (c === 'id' ? `${from}"id"::text AS "id"` : `${from}"${c}"`)).join(', ');
  if (!notify) return `${insert} RETURNING ${list('')}`;
  return `WITH inserted AS (${insert} RETURNING ${columns.map((c) => `"${c}"`).join(', ')})
    SELECT ${list('inserted.')} FROM inserted, ${NOTIFIED}`;
}

const INSERT_BATCH = `INSERT INTO "doctor_job" ("type", "payload", "max_attempts", "priority", "ordering_key", "dedup_key", "run_at", "trace_context")
         SELECT e.j->>'type', e.j->'payload', (e.j->>'maxAttempts')::int, (e.j->>'priority')::int,
                e.j->>'orderingKey', e.j->>'dedupKey',
                COALESCE((e.j->>'runAt')::timestamptz, now() + (e.j->>'delayMs')::bigint * interval '1 millisecond'),
                e.j->>'traceContext'
         FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e(j, ord)
         ORDER BY e.ord
         ON CONFLICT ("dedup_key") DO NOTHING`;

/** The optional columns of a single-job insert, in parameter order: [column, value with ? for its parameter]. */
const SINGLE_INSERT_COLUMNS = {
  priority: ['"priority"', '?::int'],
  orderingKey: ['"ordering_key"', '?'],
  runAt: ['"run_at"', '?::timestamptz'],
  delayMs: ['"run_at"', "now() + ?::bigint * interval '1 millisecond'"],
  traceContext: ['"trace_context"', '?'],
  dedupKey: ['"dedup_key"', '?'],
} as const satisfies Record<string, readonly [string, string]>;
export const SINGLE_INSERT_OPTIONAL = Object.keys(SINGLE_INSERT_COLUMNS) as (keyof typeof SINGLE_INSERT_COLUMNS)[];
/** Which optional columns a single-job insert sends (runAt and delayMs never both), and whether it wakes the runners. */
export type SingleInsertShape = { -readonly [name in keyof typeof SINGLE_INSERT_COLUMNS]?: boolean } & { notify?: boolean; notifyFrom?: boolean };

export const insert = {
  /** Any batch, as one JSON array ($1); with pg_notify in the statement (`notify`) or without (`silent`). */
  batch: { notify: insertReturning(true, INSERT_BATCH, ['id', 'dedup_key']), silent: insertReturning(false, INSERT_BATCH, ['id', 'dedup_key']) },
  /**
   * One job, sending only the columns that differ from the table's defaults (`shape`: which of
   * the optional ones, in the order of SINGLE_INSERT_OPTIONAL, as $4, $5, ... after type, payload
   * and max_attempts). With an ordering key, the row is inserted only once the transaction holds
   * the key's lock (see `lockKeys`), in the same statement: in autocommit (outbox.send) the
   * statement is the whole transaction, so the lock is held until the job is committed. With a
   * dedup key, a taken key inserts nothing and returns no row. `notify`: pg_notify in the
   * RETURNING list (once per inserted row; no CTE around the insert to plan and run), with the
   * sender's token as its payload, the last parameter, when `notifyFrom`.
   */
  single: (shape: SingleInsertShape) => {
    const columns = ['"type"', '"payload"', '"max_attempts"'];
    const values = ['$1', '$2::jsonb', '$3::int'];
    let keyParam: string | undefined;
    for (const name of SINGLE_INSERT_OPTIONAL) {
      if (!shape[name]) continue;
      const [column, value] = SINGLE_INSERT_COLUMNS[name];
      columns.push(column);
      values.push(value.replace('?', `$${values.length + 1}`));
      if (name === 'orderingKey') keyParam = `$${values.length}`;
    }
    const insert = keyParam
      ? `INSERT INTO "doctor_job" (${columns.join(', ')}) SELECT ${values.join(', ')} FROM (SELECT ${KEY_LOCK(`${keyParam}::text`)}) AS key_lock`
      : `INSERT INTO "doctor_job" (${columns.join(', ')}) VALUES (${values.join(', ')})`;
    const notify = shape.notifyFrom ? `pg_notify('${CHANNEL}', $${values.length + 1}::text)` : NOTIFY;
    return `${insert}${shape.dedupKey ? ' ON CONFLICT ("dedup_key") DO NOTHING' : ''} RETURNING "id"::text AS "id"${shape.notify ? `, ${notify} IS NULL AS "notified"` : ''}`;
  },
  /**
   * Serialises the producers of an ordering key: a transaction-scoped advisory lock per key ($1, a
   * JSON array), taken in key order, held until the enqueuing transaction ends. So a key's jobs get
   * their ids in commit order, and an uncommitted (or rolled-back) earlier job never lets a later
   * one of its key run first.
   */
  lockKeys: `SELECT ${KEY_LOCK('k')} FROM (SELECT DISTINCT jsonb_array_elements_text($1::jsonb) AS k ORDER BY 1) AS keys`,
  /** The jobs holding the dedup keys that an insert skipped (a JSON array, $1). */
  existing: `SELECT "id"::text AS "id", "dedup_key" FROM "doctor_job" WHERE "dedup_key" IN (SELECT jsonb_array_elements_text($1::jsonb))`,
};

/** Wakes every listener; $1 the sender's token (its own listener, woken in-process already, skips it). */
export const announce = `SELECT pg_notify('${CHANNEL}', $1::text)`;

/**
 * Whether another instance's listener is connected to this database (other-listeners.ts): a
 * session named as listenForWakeUps names its connections, but this process's own ($1, their
 * process ids, comma-separated; '' for none).
 */
export const otherListeners = `SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE "datname" = current_database()
  AND "application_name" = 'doctor-job-listener' AND "pid"::text <> ALL (string_to_array($1::text, ','))) AS "present"`;

/** Subscribes the listener connection. */
export const listen = `LISTEN "${CHANNEL}"`;

/** $1..$4 the filter (DEAD_LETTER_FILTER), $5 cursor id or NULL, $6 limit. */
export const listDeadLetters = `SELECT ${DEAD_LETTER_COLUMNS} FROM "doctor_job_dead_letter"
       WHERE ${DEAD_LETTER_FILTER(1)} AND ($5::bigint IS NULL OR "id" < $5::bigint)
       ORDER BY "doctor_job_dead_letter"."id" DESC
       LIMIT $6::int`;

/** $1 id. */
export const getDeadLetter = `SELECT ${DEAD_LETTER_COLUMNS} FROM "doctor_job_dead_letter" WHERE "id" = $1::bigint`;

/**
 * The dead letters `where` selects, back in the queue. One statement: the dead letters leave, the
 * new jobs arrive (replay_of: the old job id), and their attempt history moves to the new job ids, together.
 */
export const replayWhere = (where: string) => `WITH moved AS (
         DELETE FROM "doctor_job_dead_letter"
         WHERE ${where}
         RETURNING "id", "job_id", "type", "payload", "max_attempts", "priority", "ordering_key", "trace_context"
       )
       , inserted AS (
         INSERT INTO "doctor_job" ("type", "payload", "max_attempts", "priority", "ordering_key", "run_at", "trace_context", "replay_of")
         SELECT "type", "payload", "max_attempts", "priority", "ordering_key", now(), "trace_context", "job_id" FROM moved ORDER BY "id"
         RETURNING "id", "replay_of"
       )
       , history AS (
         UPDATE "doctor_job_attempt" AS a SET "job_id" = inserted."id" FROM inserted WHERE a."job_id" = inserted."replay_of"
       )
       SELECT inserted."id"::text AS "id" FROM inserted, ${NOTIFIED}`;

/** $1 ids (JSON array). */
export const replayDeadLetters = replayWhere(`"id" IN ${IDS('$1')}`);

/** The dead letters `where` selects, deleted with their attempt history, in one statement; one row: their count. */
export const deleteWhere = (where: string) => `WITH deleted AS (
         DELETE FROM "doctor_job_dead_letter" WHERE ${where} RETURNING "job_id"
       ), history AS (
         DELETE FROM "doctor_job_attempt" AS a USING deleted WHERE a."job_id" = deleted."job_id"
       )
       SELECT COUNT(*)::int AS "count" FROM deleted`;

/** $1 ids (JSON array). */
export const deleteDeadLetters = deleteWhere(`"id" IN ${IDS('$1')}`);

const DUE = due(q, 'now()');
export const stats = {
  types: `SELECT "type",
         COUNT(*) FILTER (WHERE ${DUE})::int AS "due",
         COUNT(*) FILTER (WHERE "locked_until" > now())::int AS "running",
         COUNT(*)::int AS "total",
         COALESCE(EXTRACT(EPOCH FROM now() - MIN("run_at") FILTER (
           WHERE ${DUE})) * 1000, 0)::float8 AS "oldest_due_ms"
       FROM "doctor_job" GROUP BY "type" ORDER BY "type"`,
  deadLetters: `SELECT "type", COUNT(*)::int AS "count" FROM "doctor_job_dead_letter" GROUP BY "type" ORDER BY "type"`,
};

export const lastTick = {
  /** $1 type, $2 tick (ISO text). */
  init: `INSERT INTO "doctor_job_schedule" ("type", "last_tick") VALUES ($1, $2::timestamptz) ON CONFLICT ("type") DO NOTHING`,
  /** $1 type. */
  read: `SELECT "last_tick" FROM "doctor_job_schedule" WHERE "type" = $1`,
};

/**
 * $1 type, $2 tick (ISO text), $3 payload, $4 max attempts, $5 priority. One statement: the tick
 * moves forward only if no instance took it, and the job is inserted only then.
 */
export const claimTick = `WITH won AS (
         INSERT INTO "doctor_job_schedule" ("type", "last_tick") VALUES ($1, $2::timestamptz)
         ON CONFLICT ("type") DO UPDATE SET "last_tick" = EXCLUDED."last_tick"
           WHERE "doctor_job_schedule"."last_tick" < EXCLUDED."last_tick"
         RETURNING 1
       ), inserted AS (
         INSERT INTO "doctor_job" ("type", "payload", "max_attempts", "priority", "run_at")
         SELECT $1, $3::jsonb, $4::int, $5::int, now() FROM won
         RETURNING "id"
       )
       SELECT inserted."id"::text AS "id" FROM inserted, ${NOTIFIED}`;

/** $1 type or NULL, $2 limit. */
export const listJobs = `SELECT ${JOB_COLUMNS}, "run_at", "last_error", ("locked_until" > now()) AS "claimed" FROM "doctor_job"
       WHERE ($1::text IS NULL OR "type" = $1::text)
       ORDER BY "doctor_job"."id" LIMIT $2::int`;
