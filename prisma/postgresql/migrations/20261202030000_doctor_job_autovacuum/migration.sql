-- Doctor Job: autovacuum settings of doctor_job's own, so that its dead rows are cleaned up as
-- soon as autovacuum looks, whatever the table's size. Every job leaves two dead row versions
-- (the claim's HOT update, then the delete of its success), and the claim's index scan walks
-- past the dead entries until vacuum removes them. The stock trigger is 50 + 20 % of the
-- table's estimated rows: after a backlog of a million jobs that is 200,000 dead rows before a
-- vacuum starts, however few jobs are left. A fixed threshold of 1,000 dead rows does not depend
-- on the estimate. The vacuum of the queue table runs unthrottled (cost delay 0): the table is
-- small when it is healthy, and when it is not, a throttled vacuum only lets it grow for longer.
-- The same for the TOAST table (payloads over about 2 kB). Autovacuum still looks at most once
-- every autovacuum_naptime (a server setting, 1 min by default): see the README, "Operating".
ALTER TABLE "doctor_job" SET (
    autovacuum_vacuum_scale_factor = 0,
    autovacuum_vacuum_threshold = 1000,
    autovacuum_vacuum_cost_delay = 0,
    toast.autovacuum_vacuum_scale_factor = 0,
    toast.autovacuum_vacuum_threshold = 1000,
    toast.autovacuum_vacuum_cost_delay = 0
);
