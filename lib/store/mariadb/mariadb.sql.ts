/**
 * MariaDB 10.6+ (the `mysql` dialect option; MySQL lacks INSERT/DELETE ... RETURNING): the text of
 * every statement Doctor Job runs, one export per JobStore method it serves (parameters `?`, bound
 * in mariadb.store.ts). Times are UTC: every "now" is UTC_TIMESTAMP(3), whatever the session's zone.
 */
import { backticked as q, claimOrder, due, headOfOrderingKey, jobState } from '../sql-clauses';

const NOW = 'UTC_TIMESTAMP(3)';
const nowPlusMs = (param: string) => `DATE_ADD(${NOW}, INTERVAL (${param}) * 1000 MICROSECOND)`;
const DUE = due(q, NOW, 'j');

// Payloads leave as JSON text (parsed in rows.ts), whatever the driver does with JSON columns.
const JOB_COLUMNS = 'CAST(`id` AS CHAR) AS `id`, `type`, CAST(`payload` AS CHAR) AS `payload`, `attempts`, `max_attempts`, `priority`, `created_at`';
const DEAD_LETTER_COLUMNS =
  'CAST(`id` AS CHAR) AS `id`, CAST(`job_id` AS CHAR) AS `job_id`, `type`, CAST(`payload` AS CHAR) AS `payload`, `attempts`, `max_attempts`, `error_message`, `error_stack`, `created_at`, `failed_at`, ' +
  '`reason`, CAST(`replay_of` AS CHAR) AS `replay_of`';
/** Which dead letters (DeadLetterFilter): type, reason, failed before, failed after, each bound twice (NULL for any; times as DATETIME literals). */
const DEAD_LETTER_FILTER = `(? IS NULL OR \`type\` = ?) AND (? IS NULL OR \`reason\` = ?)
         AND (? IS NULL OR \`failed_at\` < CAST(? AS DATETIME(3))) AND (? IS NULL OR \`failed_at\` >= CAST(? AS DATETIME(3)))`;
// Ids travel as a JSON array: one parameter for any count.
const ID_LIST = "(SELECT CAST(ids.`id` AS UNSIGNED) FROM JSON_TABLE(?, '$[*]' COLUMNS (`id` VARCHAR(20) PATH '$')) AS ids)";
/**
 * One parameter per id, for the runner's writes to the queue: MariaDB runs a single-table UPDATE or
 * DELETE with `id IN (subquery)` as a scan that locks every row it reads, so it waited behind any
 * open transaction that had enqueued a job; a list of ids is a primary-key lookup of just those rows.
 */
export const idParams = (count: number) => `(${Array(count).fill('?').join(', ')})`;
// JSON_TABLE columns take the connection's collation; the tables' is utf8mb4_unicode_ci.
const TEXT = 'CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci';

const KEYS = `(SELECT k.\`key\` FROM JSON_TABLE(?, '$[*]' COLUMNS (\`key\` VARCHAR(255) ${TEXT} PATH '$')) AS k)`;

/**
 * Serialises the producers of an ordering key (keys as a JSON array): the enqueuing transaction
 * locks the key's row of doctor_job_key_lock, in key order, until it ends. So a key's jobs get
 * their ids in commit order, and an uncommitted (or rolled-back) earlier job never lets a later one
 * of its key run first. A key's row is created once, outside the transaction (`create`), so two
 * first producers of a key never deadlock upgrading a lock on a row they both inserted; whether it
 * exists is read first without a lock (`known`): a locking read of a missing key would take a gap
 * lock that the insert on the other connection then waits for.
 */
export const lockKeys = {
  known: `SELECT \`ordering_key\` FROM \`doctor_job_key_lock\` WHERE \`ordering_key\` IN ${KEYS}`,
  /** One parameter per key: primary-key lookups lock just those rows (a JSON_TABLE subquery would scan, and lock, the gaps between them). */
  lock: (count: number) =>
    `SELECT \`ordering_key\` FROM \`doctor_job_key_lock\` WHERE \`ordering_key\` IN (${Array(count).fill('?').join(', ')}) ORDER BY \`ordering_key\` FOR UPDATE`,
  create: `INSERT IGNORE INTO \`doctor_job_key_lock\` (\`ordering_key\`) SELECT \`key\` FROM ${KEYS} AS new_keys`,
};

export const insert = {
  /**
   * Any batch, as one JSON array bound twice: JSON_EXTRACT keeps a payload's JSON (a bare string
   * stays quoted), JSON_TABLE the rest. A duplicate dedup key is skipped (the id is the only other
   * unique key, and it is generated).
   */
  batch: `INSERT IGNORE INTO \`doctor_job\` (\`type\`, \`payload\`, \`max_attempts\`, \`priority\`, \`ordering_key\`, \`dedup_key\`, \`run_at\`, \`created_at\`, \`trace_context\`)
       SELECT j.\`type\`, JSON_EXTRACT(?, CONCAT('$[', j.\`ord\` - 1, '].payload')), j.\`max_attempts\`, j.\`priority\`, j.\`ordering_key\`, j.\`dedup_key\`,
              COALESCE(STR_TO_DATE(j.\`run_at\`, '%Y-%m-%dT%H:%i:%s.%fZ'), ${nowPlusMs('j.`delay_ms`')}), ${NOW}, j.\`trace_context\`
       FROM JSON_TABLE(?, '$[*]' COLUMNS (
         \`ord\` FOR ORDINALITY,
         \`type\` VARCHAR(255) ${TEXT} PATH '$.type',
         \`max_attempts\` INT PATH '$.maxAttempts',
         \`priority\` INT PATH '$.priority',
         \`ordering_key\` VARCHAR(255) ${TEXT} PATH '$.orderingKey',
         \`dedup_key\` VARCHAR(255) ${TEXT} PATH '$.dedupKey',
         \`run_at\` VARCHAR(40) ${TEXT} PATH '$.runAt',
         \`delay_ms\` BIGINT PATH '$.delayMs',
         \`trace_context\` VARCHAR(1024) ${TEXT} PATH '$.traceContext')) AS j
       ORDER BY j.\`ord\`
       RETURNING CAST(\`id\` AS CHAR) AS \`id\`, \`dedup_key\``,
  /** The jobs holding the dedup keys that an insert skipped (a JSON array). */
  existing: `SELECT CAST(\`id\` AS CHAR) AS \`id\`, \`dedup_key\` FROM \`doctor_job\`
       WHERE \`dedup_key\` IN (SELECT k.\`key\` FROM JSON_TABLE(?, '$[*]' COLUMNS (\`key\` VARCHAR(255) ${TEXT} PATH '$')) AS k)`,
};

/** Three statements in one transaction (there is no UPDATE ... RETURNING): lock the due rows, stamp them, read them back. */
export const claim = {
  /** Excluded types (JSON array), limit. */
  lock: `SELECT CAST(j.\`id\` AS CHAR) AS \`id\` FROM \`doctor_job\` AS j
           WHERE ${DUE}
             AND j.\`type\` NOT IN (SELECT x.\`type\` FROM JSON_TABLE(?, '$[*]' COLUMNS (\`type\` VARCHAR(255) ${TEXT} PATH '$')) AS x)
             AND ${headOfOrderingKey(q, 'j')}
           ORDER BY ${claimOrder(q, 'j')}
           LIMIT ?
           FOR UPDATE SKIP LOCKED`,
  /** Lease ms, token, then one parameter per id. */
  stamp: (count: number) => `UPDATE \`doctor_job\` SET \`locked_until\` = ${nowPlusMs('?')}, \`attempts\` = \`attempts\` + 1, \`claim_token\` = ?
           WHERE \`id\` IN ${idParams(count)}`,
  /** Ids (JSON array). */
  read: `SELECT ${JOB_COLUMNS}, \`trace_context\` FROM \`doctor_job\` WHERE \`id\` IN ${ID_LIST} ORDER BY \`id\``,
};

/** Id, token: one job, in the transaction of a `transaction: true` handler. */
export const completeInTransaction = 'DELETE FROM `doctor_job` WHERE `id` = ? AND `claim_token` = ?';

/** One parameter per id, then the claims as a JSON array of { id, token }; returns the rows deleted. */
export const complete = (count: number) => `DELETE FROM \`doctor_job\`
         WHERE \`id\` IN ${idParams(count)} AND (\`id\`, \`claim_token\`) IN (
           SELECT CAST(c.\`id\` AS UNSIGNED), c.\`token\` FROM JSON_TABLE(?, '$[*]' COLUMNS (\`id\` VARCHAR(20) PATH '$.id', \`token\` VARCHAR(36) ${TEXT} PATH '$.token')) AS c)
         RETURNING CAST(\`id\` AS CHAR) AS \`id\`, \`claim_token\``;

/** In one transaction: reschedule (delay ms, error message, id, token), then record the failed attempt (message, stack, id). */
export const retry = {
  update: `UPDATE \`doctor_job\` SET \`run_at\` = ${nowPlusMs('?')}, \`locked_until\` = NULL, \`claim_token\` = NULL, \`last_error\` = ?
           WHERE \`id\` = ? AND \`claim_token\` = ?`,
  history: `INSERT INTO \`doctor_job_attempt\` (\`job_id\`, \`run_job_id\`, \`attempt\`, \`error_message\`, \`error_stack\`, \`failed_at\`)
           SELECT \`id\`, \`id\`, \`attempts\`, ?, ?, ${NOW} FROM \`doctor_job\` WHERE \`id\` = ?`,
};

/** In one transaction: copy (message, stack, reason, id, token), record the failed attempt (message, stack, id, token), then remove (id, token). */
export const deadLetter = {
  copy: `INSERT INTO \`doctor_job_dead_letter\`
             (\`job_id\`, \`type\`, \`payload\`, \`attempts\`, \`max_attempts\`, \`priority\`, \`ordering_key\`, \`error_message\`, \`error_stack\`, \`created_at\`, \`failed_at\`, \`trace_context\`, \`reason\`, \`replay_of\`)
           SELECT \`id\`, \`type\`, \`payload\`, \`attempts\`, \`max_attempts\`, \`priority\`, \`ordering_key\`, ?, ?, \`created_at\`, ${NOW}, \`trace_context\`, ?, \`replay_of\`
           FROM \`doctor_job\` WHERE \`id\` = ? AND \`claim_token\` = ? FOR UPDATE`,
  history: `INSERT INTO \`doctor_job_attempt\` (\`job_id\`, \`run_job_id\`, \`attempt\`, \`error_message\`, \`error_stack\`, \`failed_at\`)
           SELECT \`id\`, \`id\`, \`attempts\`, ?, ?, ${NOW} FROM \`doctor_job\` WHERE \`id\` = ? AND \`claim_token\` = ?`,
  remove: 'DELETE FROM `doctor_job` WHERE `id` = ? AND `claim_token` = ?',
};

/** In one transaction: push the leases forward (lease ms, ids, token), then read which ids the token holds (ids, token). */
export const extend = {
  /** Lease ms, one parameter per id, token. */
  update: (count: number) => `UPDATE \`doctor_job\` SET \`locked_until\` = ${nowPlusMs('?')} WHERE \`id\` IN ${idParams(count)} AND \`claim_token\` = ?`,
  held: `SELECT CAST(\`id\` AS CHAR) AS \`id\` FROM \`doctor_job\` WHERE \`id\` IN ${ID_LIST} AND \`claim_token\` = ?`,
};

/** One parameter per id, token. */
export const release = (count: number) => `UPDATE \`doctor_job\` SET \`locked_until\` = NULL, \`attempts\` = GREATEST(\`attempts\` - 1, 0), \`claim_token\` = NULL
         WHERE \`id\` IN ${idParams(count)} AND \`claim_token\` = ?`;

/** The filter (8), cursor id twice, limit. */
export const listDeadLetters = `SELECT ${DEAD_LETTER_COLUMNS} FROM \`doctor_job_dead_letter\`
       WHERE ${DEAD_LETTER_FILTER} AND (? IS NULL OR \`id\` < CAST(? AS UNSIGNED))
       ORDER BY \`doctor_job_dead_letter\`.\`id\` DESC LIMIT ?`;

/** Id. */
export const getDeadLetter = `SELECT ${DEAD_LETTER_COLUMNS} FROM \`doctor_job_dead_letter\` WHERE \`id\` = ?`;

/**
 * In one transaction: copy to the queue (replay_of: the old job id), returning the new ids (ids as
 * a JSON array); move the history to the new jobs (the new ids); then remove (the same ids).
 */
export const replayDeadLetters = {
  copy: `INSERT INTO \`doctor_job\` (\`type\`, \`payload\`, \`max_attempts\`, \`priority\`, \`ordering_key\`, \`run_at\`, \`created_at\`, \`trace_context\`, \`replay_of\`)
         SELECT \`type\`, \`payload\`, \`max_attempts\`, \`priority\`, \`ordering_key\`, ${NOW}, ${NOW}, \`trace_context\`, \`job_id\` FROM \`doctor_job_dead_letter\`
         WHERE \`id\` IN ${ID_LIST} ORDER BY \`id\`
         RETURNING CAST(\`id\` AS CHAR) AS \`id\``,
  history: `UPDATE \`doctor_job_attempt\` AS a JOIN \`doctor_job\` AS j ON j.\`replay_of\` = a.\`job_id\`
         SET a.\`job_id\` = j.\`id\` WHERE j.\`id\` IN ${ID_LIST}`,
  remove: `DELETE FROM \`doctor_job_dead_letter\` WHERE \`id\` IN ${ID_LIST}`,
};

/** In one transaction: delete the history (ids as a JSON array), then the dead letters (the same ids). */
export const deleteDeadLetters = {
  history: `DELETE FROM \`doctor_job_attempt\` WHERE \`job_id\` IN (SELECT \`job_id\` FROM \`doctor_job_dead_letter\` WHERE \`id\` IN ${ID_LIST})`,
  remove: `DELETE FROM \`doctor_job_dead_letter\` WHERE \`id\` IN ${ID_LIST}`,
};

export const stats = {
  types: `SELECT j.\`type\`,
         CAST(SUM(CASE WHEN ${DUE} THEN 1 ELSE 0 END) AS SIGNED) AS \`due\`,
         CAST(SUM(CASE WHEN j.\`locked_until\` > ${NOW} THEN 1 ELSE 0 END) AS SIGNED) AS \`running\`,
         COUNT(*) AS \`total\`,
         COALESCE(TIMESTAMPDIFF(MICROSECOND, MIN(CASE WHEN ${DUE} THEN j.\`run_at\` END), ${NOW}) / 1000, 0) AS \`oldest_due_ms\`
       FROM \`doctor_job\` AS j GROUP BY j.\`type\` ORDER BY j.\`type\``,
  deadLetters: 'SELECT `type`, COUNT(*) AS `count` FROM `doctor_job_dead_letter` GROUP BY `type` ORDER BY `type`',
};

export const lastTick = {
  /** Type, tick (DATETIME literal). */
  init: 'INSERT IGNORE INTO `doctor_job_schedule` (`type`, `last_tick`) VALUES (?, ?)',
  /** Type. */
  read: 'SELECT `last_tick` FROM `doctor_job_schedule` WHERE `type` = ?',
};

/** In one transaction: make sure the type has a row (type, epoch), move its tick forward (tick, type, tick), then insert the job. */
export const claimTick = {
  init: lastTick.init,
  advance: 'UPDATE `doctor_job_schedule` SET `last_tick` = ? WHERE `type` = ? AND `last_tick` < ?',
};

/** Type twice, limit. */
export const listJobs = `SELECT ${JOB_COLUMNS}, \`run_at\`, \`last_error\`, (\`locked_until\` > ${NOW}) AS \`claimed\` FROM \`doctor_job\`
       WHERE (? IS NULL OR \`type\` = ?) ORDER BY \`doctor_job\`.\`id\` LIMIT ?`;

// ---- the operator's console (DoctorJobAdminService) ----

const STATE = jobState(q, NOW, 'j');
/**
 * A queued job as the console shows it (alias j), its state on the database's clock, and the
 * instance its claim token names (see claim-token.ts), joined as i.
 */
const QUEUED_COLUMNS = `CAST(j.\`id\` AS CHAR) AS \`id\`, j.\`type\`, ${STATE} AS \`state\`, j.\`attempts\`, j.\`max_attempts\`, j.\`priority\`,
       j.\`ordering_key\`, j.\`dedup_key\`, j.\`run_at\`, j.\`last_error\`, j.\`locked_until\`, j.\`claim_token\`, i.\`name\` AS \`locked_by\`,
       CAST(j.\`replay_of\` AS CHAR) AS \`replay_of\`, j.\`created_at\``;
const WITH_INSTANCE = `\`doctor_job\` AS j LEFT JOIN \`doctor_job_instance\` AS i
         ON i.\`instance_key\` = CONCAT(SUBSTRING(j.\`claim_token\`, 16, 3), SUBSTRING(j.\`claim_token\`, 21, 3), SUBSTRING(j.\`claim_token\`, 25, 2))`;

/** State, type, ordering key, dedup key, cursor id (jobs after it): each twice (NULL for any); limit. */
export const findJobs = `SELECT ${QUEUED_COLUMNS} FROM ${WITH_INSTANCE}
       WHERE (? IS NULL OR ${STATE} = ?) AND (? IS NULL OR j.\`type\` = ?)
         AND (? IS NULL OR j.\`ordering_key\` = ?) AND (? IS NULL OR j.\`dedup_key\` = ?)
         AND (? IS NULL OR j.\`id\` > CAST(? AS UNSIGNED))
       ORDER BY j.\`id\` LIMIT ?`;

/** Id. */
export const getJob = `SELECT ${QUEUED_COLUMNS}, CAST(j.\`payload\` AS CHAR) AS \`payload\` FROM ${WITH_INSTANCE} WHERE j.\`id\` = ?`;

/** Instance key, its name: registered at start, seen again at every housekeeping round. */
export const registerInstance = `INSERT INTO \`doctor_job_instance\` (\`instance_key\`, \`name\`, \`started_at\`, \`seen_at\`) VALUES (?, ?, ${NOW}, ${NOW})
       ON DUPLICATE KEY UPDATE \`name\` = VALUES(\`name\`), \`seen_at\` = ${NOW}`;

/** Ms: instances not seen for that long (their process is gone). */
export const pruneInstances = `DELETE FROM \`doctor_job_instance\` WHERE \`seen_at\` < DATE_SUB(${NOW}, INTERVAL (?) * 1000 MICROSECOND)`;

/** Job id (a queued job's, or a dead letter's job_id). */
export const listAttempts = `SELECT CAST(\`run_job_id\` AS CHAR) AS \`run_job_id\`, \`attempt\`, \`error_message\`, \`error_stack\`, \`failed_at\`
       FROM \`doctor_job_attempt\` WHERE \`job_id\` = ? ORDER BY \`doctor_job_attempt\`.\`id\``;

/** Ids (JSON array): the rows, locked (rows a claim or settle holds right now are skipped), and whether a live lease holds them. */
const lockQueued = `SELECT CAST(\`id\` AS CHAR) AS \`id\`, COALESCE(\`locked_until\` > ${NOW}, 0) AS \`running\`, (\`run_at\` <= ${NOW}) AS \`due\`
       FROM \`doctor_job\` WHERE \`id\` IN ${ID_LIST} FOR UPDATE SKIP LOCKED`;
/** Ids (JSON array): those in the queue. */
const existingJobs = `SELECT CAST(\`id\` AS CHAR) AS \`id\` FROM \`doctor_job\` WHERE \`id\` IN ${ID_LIST}`;

/**
 * In one transaction: lock, check, copy to the dead letters (message, ids as a JSON array), then
 * remove (one parameter per id: a DELETE with a subquery would scan the queue, locking every row).
 */
export const cancelJobs = {
  lock: lockQueued,
  existing: existingJobs,
  copy: `INSERT INTO \`doctor_job_dead_letter\`
             (\`job_id\`, \`type\`, \`payload\`, \`attempts\`, \`max_attempts\`, \`priority\`, \`ordering_key\`, \`error_message\`, \`error_stack\`, \`created_at\`, \`failed_at\`, \`trace_context\`, \`reason\`, \`replay_of\`)
           SELECT \`id\`, \`type\`, \`payload\`, \`attempts\`, \`max_attempts\`, \`priority\`, \`ordering_key\`, ?, NULL, \`created_at\`, ${NOW}, \`trace_context\`, 'cancelled', \`replay_of\`
           FROM \`doctor_job\` WHERE \`id\` IN ${ID_LIST} ORDER BY \`id\``,
  remove: (count: number) => `DELETE FROM \`doctor_job\` WHERE \`id\` IN ${idParams(count)}`,
};

/** In one transaction: lock, check, then make due now (one parameter per id). */
export const runJobsNow = {
  lock: lockQueued,
  existing: existingJobs,
  update: (count: number) => `UPDATE \`doctor_job\` SET \`run_at\` = ${NOW} WHERE \`id\` IN ${idParams(count)}`,
};

/** The filter (8): the matching dead letters' ids, locked, for a bulk action in the same transaction. */
export const selectDeadLetters = `SELECT CAST(\`id\` AS CHAR) AS \`id\` FROM \`doctor_job_dead_letter\` WHERE ${DEAD_LETTER_FILTER} ORDER BY \`id\` FOR UPDATE`;

/** The filter (8). */
export const countDeadLetters = `SELECT COUNT(*) AS \`count\` FROM \`doctor_job_dead_letter\` WHERE ${DEAD_LETTER_FILTER}`;

/** Type. */
export const pauseType = 'INSERT IGNORE INTO `doctor_job_paused_type` (`type`, `paused_at`) VALUES (?, UTC_TIMESTAMP(3))';

/** Type. */
export const resumeType = 'DELETE FROM `doctor_job_paused_type` WHERE `type` = ?';

export const listPausedTypes = 'SELECT `type`, `paused_at` FROM `doctor_job_paused_type` ORDER BY `type`';

/** Limit. History rows whose job is neither in the queue nor a dead letter (the job succeeded after failed attempts). */
export const pruneAttempts = `DELETE FROM \`doctor_job_attempt\`
       WHERE NOT EXISTS (SELECT 1 FROM \`doctor_job\` AS j WHERE j.\`id\` = \`doctor_job_attempt\`.\`job_id\`)
         AND NOT EXISTS (SELECT 1 FROM \`doctor_job_dead_letter\` AS d WHERE d.\`job_id\` = \`doctor_job_attempt\`.\`job_id\`)
       LIMIT ?`;

/** What `doctor-job doctor` judges: sizes and free space per table, the oldest open transaction, the purge backlog. */
export const diagnose = {
  tables: `SELECT \`table_name\` AS \`table\`, \`table_rows\` AS \`rows\`, \`data_length\` AS \`table_bytes\`, \`index_length\` AS \`index_bytes\`, \`data_free\` AS \`free_bytes\`
       FROM information_schema.\`tables\` WHERE \`table_schema\` = DATABASE() AND \`table_name\` LIKE 'doctor\\\\_job%' ORDER BY 1`,
  indexes: `SELECT \`table_name\` AS \`table\`, \`index_name\` AS \`name\`, \`stat_value\` * @@innodb_page_size AS \`bytes\`
       FROM mysql.\`innodb_index_stats\` WHERE \`database_name\` = DATABASE() AND \`table_name\` LIKE 'doctor\\\\_job%' AND \`stat_name\` = 'size' ORDER BY 1, 2`,
  /** Times computed on the server (trx_started is in its session time zone). */
  transaction: `SELECT CAST(t.\`trx_mysql_thread_id\` AS CHAR) AS \`id\`, t.\`trx_state\` AS \`state\`,
         TIMESTAMPDIFF(MICROSECOND, t.\`trx_started\`, NOW(6)) / 1000 AS \`age_ms\`,
         DATE_SUB(UTC_TIMESTAMP(3), INTERVAL TIMESTAMPDIFF(MICROSECOND, t.\`trx_started\`, NOW(6)) MICROSECOND) AS \`started_at\`,
         LEFT(t.\`trx_query\`, 200) AS \`query\`, p.\`USER\` AS \`user_name\`, p.\`DB\` AS \`database_name\`
       FROM information_schema.\`innodb_trx\` AS t LEFT JOIN information_schema.\`processlist\` AS p ON p.\`ID\` = t.\`trx_mysql_thread_id\`
       WHERE t.\`trx_mysql_thread_id\` <> CONNECTION_ID() ORDER BY t.\`trx_started\` LIMIT 1`,
  purge: `SELECT \`count\` AS \`count\` FROM information_schema.\`innodb_metrics\` WHERE \`name\` = 'trx_rseg_history_len'`,
};
