/**
 * MariaDB: the statements of the operator's console (DoctorJobAdminService, `doctor-job`
 * commands), one export per JobStore method they serve; the runner's and the outbox's are in
 * mariadb.sql.ts.
 */
import { backticked as q, jobState } from '../sql-clauses';
import { NOW, DEAD_LETTER_FILTER, ID_LIST, idParams } from './mariadb.sql';

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
