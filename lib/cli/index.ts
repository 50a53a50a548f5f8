// The `doctor-job` CLI's migration logic as a small programmatic API, free of Nest: a start-up
// schema check, a deploy script or a test can ask whether Doctor Job's migrations are applied,
// and apply them.
export { applyMigrations, migrationStatus, migrationsDir, pendingMigrations, shippedMigrations, DOCTOR_JOB_MIGRATION } from './migrations';
export type { MigrateOptions, MigrateOutcome, MigrationSource, MigrationState, MigrationStatus, MigrationStatusEntry, ShippedMigration } from './migrations';
export { DoctorJobCliError } from './errors';
export { dialectOfUrl, parseDatabaseUrl, type DatabaseTarget, type Dialect } from './database-url';
export { openConnection, type SqlConnection } from './connection';
export { checksumOf, matchesChecksum, HISTORY_TABLE, HISTORY_TABLE_DDL } from './history';
export { copyMigrations, migrationsSql } from './sql';
export { runCli } from './program';
