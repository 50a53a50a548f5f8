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
