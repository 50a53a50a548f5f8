/**
 * The runner's tuning numbers, each named once. None is an option: they follow from `leaseMs`,
 * `pollIntervalMs`, `concurrency` and `batchSize`, and each is explained where it is used.
 */

/** The heartbeat extends the leases of running jobs every third of the lease: two beats may fail before a lease runs out. */
export const heartbeatIntervalMs = (leaseMs: number): number => Math.max(1, Math.floor(leaseMs / 3));

/**
 * A batch of successes whose leases all started less than this share of the lease ago is deleted by
 * the count-only statement: no other claim can hold these jobs, even if the database's clock jumps
 * by less than the rest of the lease.
 */
export const COUNT_ONLY_DELETE_LEASE_SHARE = 0.5;

/**
 * An outage ends when the database has answered with no failure for this long: right after a
 * restart, queries on pooled connections that died with it fail one by one among the first successes.
 */
export const outageQuietMs = (pollIntervalMs: number): number => Math.max(1_000, 2 * pollIntervalMs);

/** Claims in flight at once, at most; a second one only when `concurrency` has room for two whole batches. */
export const MAX_CLAIM_LANES = 2;
export const claimLanes = (concurrency: number, batchSize: number): number => (concurrency >= 2 * batchSize ? MAX_CLAIM_LANES : 1);

/**
 * Paused job types are read again when the last read is older than this: a type paused (or resumed)
 * in the database is left out of (or back in) every claim within one poll interval, at the cost of
 * one small read per poll interval per instance, not one per claim.
 */
export const pausedTypesMaxAgeMs = (pollIntervalMs: number): number => pollIntervalMs;

/**
 * How often an instance does its housekeeping: registers itself again (seen now), forgets
 * instances gone for a day, and deletes the attempt history left by jobs that succeeded after failing.
 */
export const HOUSEKEEPING_INTERVAL_MS = 5 * 60_000;
/** An instance not seen for this long is forgotten (its process is gone; jobs it held show no holder). */
export const INSTANCE_FORGOTTEN_AFTER_MS = 24 * 3_600_000;
/** Rows per prune statement, and statements per prune at most (the rest waits for the next one). */
export const HISTORY_PRUNE_BATCH = 1_000;
export const HISTORY_PRUNE_MAX_BATCHES = 10;
