/**
 * PostgreSQL: the runner's statements, claim, settle and lease (re-exported by postgresql.sql.ts,
 * with every other statement). Parameters $1, $2, ...; postgresql.store.ts binds them and decodes
 * the rows. Claims use FOR UPDATE SKIP LOCKED, so workers claim concurrently without blocking each
 * other; every time comes from the server's now().
 */
import { claimOrder, doubleQuoted as q, due, headOfOrderingKey } from '../sql-clauses';

/** The ids of a JSON array parameter. */
export const IDS = (param: string) => `(SELECT jsonb_array_elements_text(${param}::jsonb)::bigint)`;

/**
 * $1 limit, $2 lease ms, $3 token, $4 excluded types (JSON array or NULL). The subquery locks the
 * due rows and hands their row addresses (ctid) to the UPDATE as an array, which it reads by a TID
 * scan: no index lookup per row (the id array cost 8.05 buffer accesses per job against 7.02 this
 * way, and 3.35 ms of execution per claim of 1,000 against 2.95: bench/db-cost-claim.ts), and no
 * join either (joined to the subquery, the planner hash-joined the claimed rows with a sequential
 * scan of the whole table, dead rows included). The ctid is the address of the version the
 * subquery locked, and nobody else can change a row we hold locked, so the UPDATE finds exactly
 * those rows. One case it passes over: a row another transaction changed and committed after this
 * statement began, but before the lock, and which is still due, is locked at its new version,
 * which this statement's snapshot cannot see; the UPDATE skips it, the lock ends with the
 * statement, and the job stays due for the next claim (a short claim is claimed again, see
 * claim-loop.ts). A ctid names a row within one table only: this needs the job table as the
 * migration makes it, not partitioned. `returning`: what it returns of each claimed row (both
 * forms below: id, type, payload, attempts, max_attempts, created_at, trace_context, NULL unless
 * the enqueue was traced). created_at as epoch ms through date_part (float8): extract() computes
 * in numeric, which made the claim about 7 % slower on the database.
 */
const claimUpdate = (returning: string) => `UPDATE "doctor_job" AS j
       SET "locked_until" = now() + $2::bigint * interval '1 millisecond',
           "attempts" = j."attempts" + 1,
           "claim_token" = $3::uuid
       WHERE j.ctid = ANY(ARRAY(
         SELECT d.ctid FROM "doctor_job" AS d
         WHERE ${due(q, 'now()', 'd')}
           AND ($4::jsonb IS NULL OR d."type" NOT IN (SELECT jsonb_array_elements_text($4::jsonb)))
           AND ${headOfOrderingKey(q, 'd')}
         ORDER BY ${claimOrder(q, 'd')}
         LIMIT $1::int
         FOR UPDATE SKIP LOCKED
       ))
       RETURNING ${returning}`;

/**
 * A small claim: one row per job, in claimUpdate's column order, the payload as JSON text (a
 * top-level string payload arrives intact).
 */
export const claimRows = claimUpdate(`j."id"::text AS "id", j."type", j."payload"::text AS "payload", j."attempts", j."max_attempts",
                 date_part('epoch', j."created_at") * 1000 AS "created_at", j."trace_context"`);

/**
 * A large claim: the batch in one row of two columns (NULLs when nothing was claimed): the ids,
 * joined by commas, and a JSON array of [type, payload, attempts, max_attempts, created_at,
 * trace_context] per job, in the same order (one aggregate pass computes both). Two values
 * instead of a DataRow message of seven fields per job: the driver's per-row, per-field parsing
 * was the largest part of the worker's CPU per drained job, and one JSON.parse of the batch
 * decodes the payloads with it. The ids stay out of the JSON: JSON.parse interns every string
 * value of up to 10 characters, so each id, a new string, was added to V8's string table
 * (measured in isolation: 0.3 µs per job more to decode a batch of 1,000 with the ids in it than
 * with them split from one string; on the server the second string_agg was within the noise:
 * bench/db-cost-claim.ts, five rounds, median 5.57 ms per claim of 1,000 against 5.37, buffers and
 * WAL the same). Each row's element is written as text by the UPDATE itself and
 * the elements joined by string_agg: json_agg(json_build_array(...)) of the same columns cost the
 * server 0.35-0.4 ms more per claim of 1,000 (bench/db-cost-claim.ts: 3.9-4.1 ms against 3.5-3.7;
 * the rows form 3.1-3.2). to_json quotes the strings (type, trace context) and writes the float
 * (whose text could be `Infinity`); jsonb's text is JSON already. Every part of an element is NOT
 * NULL or COALESCEd: a NULL element would be skipped by string_agg and pair the ids with the wrong
 * jobs (fromBatch refuses a batch whose counts differ). Worth it from CLAIM_AS_JSON_FROM jobs.
 */
export const claim = `WITH claimed AS (${claimUpdate(
  `j."id"::text AS "id", '[' || to_json(j."type") || ',' || j."payload" || ',' || j."attempts" || ',' || j."max_attempts" || ',' ||
                 to_json(date_part('epoch', j."created_at") * 1000) || ',' || COALESCE(to_json(j."trace_context")::text, 'null') || ']' AS "job"`,
)})
       SELECT string_agg(c."id", ',') AS "ids", '[' || string_agg(c."job", ',') || ']' AS "jobs" FROM claimed AS c`;

/**
 * $1 ids, $2 for each id the position of its token in $3 (the batch's tokens), as array literals.
 * `id = ANY(ids)` finds the rows by primary key whatever the planner guesses; the result lists
 * only the claims that did not hold.
 */
export const complete = `WITH c AS (
         SELECT x."id", ($3::uuid[])[x."at"] AS "token" FROM unnest($1::bigint[], $2::int[]) AS x("id", "at")
       ), d AS (
         DELETE FROM "doctor_job" AS j USING c
         WHERE j."id" = ANY($1::bigint[]) AND j."id" = c."id" AND j."claim_token" = c."token"
         RETURNING j."id", j."claim_token"
       )
       SELECT c."id"::text || ':' || c."token"::text AS "claim" FROM c
       WHERE NOT EXISTS (SELECT 1 FROM d WHERE d."id" = c."id" AND d."claim_token" = c."token")`;

/** Id, token: one job, in the transaction of a `transaction: true` handler. */
export const completeInTransaction = `DELETE FROM "doctor_job" WHERE "id" = $1::bigint AND "claim_token" = $2::uuid`;

/** $1 ids, $2 the batch's tokens (array literals). The token check is a fence: with live leases every row carries one of them. */
export const completeUnderLease = `DELETE FROM "doctor_job" WHERE "id" = ANY($1::bigint[]) AND "claim_token" = ANY($2::uuid[])`;

/**
 * $1 id, $2 token, $3 delay ms, $4 error message, $5 stack. One statement: the job is rescheduled
 * and the failed attempt joins its history together, or neither happens (the count is the attempt's row).
 */
export const retry = `WITH retried AS (
         UPDATE "doctor_job"
         SET "run_at" = now() + $3::bigint * interval '1 millisecond', "locked_until" = NULL, "claim_token" = NULL, "last_error" = $4
         WHERE "id" = $1::bigint AND "claim_token" = $2::uuid
         RETURNING "id", "attempts"
       )
       INSERT INTO "doctor_job_attempt" ("job_id", "run_job_id", "attempt", "error_message", "error_stack")
       SELECT "id", "id", "attempts", $4, $5 FROM retried`;

/**
 * $1 id, $2 token, $3 message, $4 stack, $5 reason. One statement: the delete, the dead letter and
 * the failed attempt's row of history commit together or not at all (the count is the attempt's row).
 */
export const deadLetter = `WITH moved AS (
         DELETE FROM "doctor_job" WHERE "id" = $1::bigint AND "claim_token" = $2::uuid
         RETURNING "id", "type", "payload", "attempts", "max_attempts", "priority", "ordering_key", "created_at", "trace_context", "replay_of"
       ), letter AS (
         INSERT INTO "doctor_job_dead_letter"
           ("job_id", "type", "payload", "attempts", "max_attempts", "priority", "ordering_key", "error_message", "error_stack", "created_at", "trace_context", "reason", "replay_of")
         SELECT "id", "type", "payload", "attempts", "max_attempts", "priority", "ordering_key", $3, $4, "created_at", "trace_context", $5::text, "replay_of" FROM moved
       )
       INSERT INTO "doctor_job_attempt" ("job_id", "run_job_id", "attempt", "error_message", "error_stack")
       SELECT "id", "id", "attempts", $3, $4 FROM moved`;

/** $1 ids (JSON array), $2 token, $3 lease ms. */
export const extend = `UPDATE "doctor_job" SET "locked_until" = now() + $3::bigint * interval '1 millisecond'
       WHERE "id" IN ${IDS('$1')} AND "claim_token" = $2::uuid
       RETURNING "id"::text AS "id"`;

/** $1 ids (JSON array), $2 token. */
export const release = `UPDATE "doctor_job"
       SET "locked_until" = NULL, "attempts" = GREATEST("attempts" - 1, 0), "claim_token" = NULL
       WHERE "id" IN ${IDS('$1')} AND "claim_token" = $2::uuid`;
