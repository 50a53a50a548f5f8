/**
 * PostgreSQL: the statements of the operator's console (DoctorJobAdminService, `doctor-job`
 * commands), one export per JobStore method they serve; the runner's and the outbox's are in
 * postgresql.sql.ts.
 */
import { doubleQuoted as q, jobState } from '../sql-clauses';
import { DEAD_LETTER_FILTER, deleteWhere, IDS, NOTIFIED, replayWhere } from './postgresql.sql';

/**
 * A queued job as the console shows it (alias j), its state on the database's clock, and the
 * instance its claim token names (see claim-token.ts), joined as i.
 */
const QUEUED_COLUMNS = `j."id"::text AS "id", j."type", ${jobState(q, 'now()', 'j')} AS "state", j."attempts", j."max_attempts", j."priority",
       j."ordering_key", j."dedup_key", j."run_at", j."last_error", j."locked_until", j."claim_token"::text AS "claim_token", i."name" AS "locked_by",
       j."replay_of"::text AS "replay_of", j."created_at"`;
const WITH_INSTANCE = `"doctor_job" AS j LEFT JOIN "doctor_job_instance" AS i
         ON i."instance_key" = substr(j."claim_token"::text, 16, 3) || substr(j."claim_token"::text, 21, 3) || substr(j."claim_token"::text, 25, 2)`;

/** $1 state, $2 type, $3 ordering key, $4 dedup key (each NULL for any), $5 cursor id (jobs after it) or NULL, $6 limit. */
export const findJobs = `SELECT ${QUEUED_COLUMNS} FROM ${WITH_INSTANCE}
       WHERE ($1::text IS NULL OR ${jobState(q, 'now()', 'j')} = $1::text) AND ($2::text IS NULL OR j."type" = $2::text)
         AND ($3::text IS NULL OR j."ordering_key" = $3::text) AND ($4::text IS NULL OR j."dedup_key" = $4::text)
         AND ($5::bigint IS NULL OR j."id" > $5::bigint)
       ORDER BY j."id" LIMIT $6::int`;

/** $1 id. */
export const getJob = `SELECT ${QUEUED_COLUMNS}, j."payload"::text AS "payload" FROM ${WITH_INSTANCE} WHERE j."id" = $1::bigint`;

/** $1 instance key, $2 its name: registered at start, seen again at every housekeeping round. */
export const registerInstance = `INSERT INTO "doctor_job_instance" ("instance_key", "name") VALUES ($1::text, $2::text)
       ON CONFLICT ("instance_key") DO UPDATE SET "name" = EXCLUDED."name", "seen_at" = now()`;

/** $1 ms: instances not seen for that long (their process is gone). */
export const pruneInstances = `DELETE FROM "doctor_job_instance" WHERE "seen_at" < now() - $1::bigint * interval '1 millisecond'`;

/** $1 job id (a queued job's, or a dead letter's job_id). */
export const listAttempts = `SELECT "run_job_id"::text AS "run_job_id", "attempt", "error_message", "error_stack", "failed_at"
       FROM "doctor_job_attempt" WHERE "job_id" = $1::bigint ORDER BY "doctor_job_attempt"."id"`;

/**
 * $1 ids (JSON array): the rows, locked for the transaction, and whether a live lease holds them.
 * Rows a claim or a settle holds at this moment are skipped (SKIP LOCKED), not waited for.
 */
const lockQueued = `SELECT "id"::text AS "id", COALESCE("locked_until" > now(), false) AS "running", ("run_at" <= now()) AS "due"
       FROM "doctor_job" WHERE "id" IN ${IDS('$1')} FOR UPDATE SKIP LOCKED`;
/** $1 ids (JSON array): those in the queue. */
const existingJobs = `SELECT "id"::text AS "id" FROM "doctor_job" WHERE "id" IN ${IDS('$1')}`;

/** In one transaction: lock, check, then move ($1 ids, $2 message): one statement, the jobs leave and the dead letters arrive together. */
export const cancelJobs = {
  lock: lockQueued,
  existing: existingJobs,
  move: `WITH moved AS (
         DELETE FROM "doctor_job" WHERE "id" IN ${IDS('$1')}
         RETURNING "id", "type", "payload", "attempts", "max_attempts", "priority", "ordering_key", "created_at", "trace_context", "replay_of"
       )
       INSERT INTO "doctor_job_dead_letter"
         ("job_id", "type", "payload", "attempts", "max_attempts", "priority", "ordering_key", "error_message", "error_stack", "created_at", "trace_context", "reason", "replay_of")
       SELECT "id", "type", "payload", "attempts", "max_attempts", "priority", "ordering_key", $2, NULL, "created_at", "trace_context", 'cancelled', "replay_of" FROM moved
       RETURNING "job_id"::text AS "id"`,
};

/** In one transaction: lock, check, then make due now ($1 ids), waking the runners at commit. */
export const runJobsNow = {
  lock: lockQueued,
  existing: existingJobs,
  update: `WITH moved AS (
         UPDATE "doctor_job" SET "run_at" = now() WHERE "id" IN ${IDS('$1')} RETURNING "id"
       )
       SELECT moved."id"::text AS "id" FROM moved, ${NOTIFIED}`,
};

/** $1..$4 the filter. */
export const countDeadLetters = `SELECT COUNT(*)::int AS "count" FROM "doctor_job_dead_letter" WHERE ${DEAD_LETTER_FILTER(1)}`;

/** $1..$4 the filter. */
export const replayDeadLettersMatching = replayWhere(DEAD_LETTER_FILTER(1));

/** $1..$4 the filter. */
export const deleteDeadLettersMatching = deleteWhere(DEAD_LETTER_FILTER(1));

/** $1 type. */
export const pauseType = `INSERT INTO "doctor_job_paused_type" ("type") VALUES ($1::text) ON CONFLICT ("type") DO NOTHING`;

/** $1 type. */
export const resumeType = `DELETE FROM "doctor_job_paused_type" WHERE "type" = $1::text`;

export const listPausedTypes = `SELECT "type", "paused_at" FROM "doctor_job_paused_type" ORDER BY "type"`;

/**
 * $1 limit. History rows whose job is neither in the queue nor a dead letter: the job succeeded
 * after failed attempts (a replay moves a dead letter's history to its new job in the same statement).
 */
export const pruneAttempts = `DELETE FROM "doctor_job_attempt" WHERE "id" IN (
         SELECT a."id" FROM "doctor_job_attempt" AS a
         WHERE NOT EXISTS (SELECT 1 FROM "doctor_job" AS j WHERE j."id" = a."job_id")
           AND NOT EXISTS (SELECT 1 FROM "doctor_job_dead_letter" AS d WHERE d."job_id" = a."job_id")
         LIMIT $1::int)`;

/** Doctor Job's tables in the current schema. */
const OUR_TABLES = `n."nspname" = current_schema() AND c."relname" LIKE 'doctor\\_job%'`;

/** What `doctor-job doctor` judges: sizes, dead rows and vacuum per table; whatever holds the vacuum horizon back. */
export const diagnose = {
  tables: `SELECT c."relname" AS "table", s."n_live_tup" AS "rows", s."n_dead_tup" AS "dead_rows",
         pg_relation_size(c."oid") AS "table_bytes", pg_indexes_size(c."oid") AS "index_bytes",
         s."last_vacuum", s."last_autovacuum", c."relkind" = 'p' AS "partitioned"
       FROM pg_class AS c JOIN pg_namespace AS n ON n."oid" = c."relnamespace"
       LEFT JOIN pg_stat_user_tables AS s ON s."relid" = c."oid"
       WHERE c."relkind" IN ('r', 'p') AND NOT c."relispartition" AND ${OUR_TABLES} ORDER BY c."relname"`,
  indexes: `SELECT c."relname" AS "table", i."relname" AS "name", pg_relation_size(i."oid") AS "bytes"
       FROM pg_index AS x JOIN pg_class AS i ON i."oid" = x."indexrelid" JOIN pg_class AS c ON c."oid" = x."indrelid"
       JOIN pg_namespace AS n ON n."oid" = c."relnamespace"
       WHERE ${OUR_TABLES} ORDER BY c."relname", i."relname"`,
  /**
   * The session that holds the horizon furthest back, in this database (or none: walsenders): by
   * its snapshot (backend_xmin) or by its own transaction id (backend_xid). A transaction that
   * wrote and then sits idle holds no snapshot in READ COMMITTED, only its xid, and holds the
   * horizon back all the same (the soak's holder, `BEGIN; SELECT txid_current()`, is one).
   */
  session: `SELECT "pid"::text AS "id", "datname" AS "database_name", "usename" AS "user_name", "application_name" AS "application", "state",
         "xact_start" AS "started_at", GREATEST(age("backend_xmin"), age("backend_xid")) AS "xmin_age",
         (EXTRACT(EPOCH FROM now() - COALESCE("xact_start", "query_start")) * 1000)::float8 AS "age_ms", left("query", 200) AS "query"
       FROM pg_stat_activity
       WHERE ("backend_xmin" IS NOT NULL OR "backend_xid" IS NOT NULL) AND "pid" <> pg_backend_pid() AND ("datname" = current_database() OR "datname" IS NULL)
       ORDER BY GREATEST(age("backend_xmin"), age("backend_xid")) DESC LIMIT 1`,
  slot: `SELECT "slot_name"::text AS "id", "database" AS "database_name", CASE WHEN "active" THEN 'active' ELSE 'inactive' END AS "state",
         age("xmin") AS "xmin_age"
       FROM pg_replication_slots WHERE "xmin" IS NOT NULL ORDER BY age("xmin") DESC LIMIT 1`,
  prepared: `SELECT "gid" AS "id", "database" AS "database_name", "owner" AS "user_name", "prepared" AS "started_at", age("transaction") AS "xmin_age",
         (EXTRACT(EPOCH FROM now() - "prepared") * 1000)::float8 AS "age_ms"
       FROM pg_prepared_xacts ORDER BY age("transaction") DESC LIMIT 1`,
};
