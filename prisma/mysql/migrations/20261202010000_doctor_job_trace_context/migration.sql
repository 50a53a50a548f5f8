-- Doctor Job: the trace context of each job's enqueue, for OpenTelemetry tracing: the W3C
-- traceparent of the enqueue's span, then a space and its tracestate when it has one. NULL when
-- the enqueue was not traced (no @opentelemetry/api, no tracer provider, a cron tick). A dead
-- letter keeps it, so a replayed job continues the trace. MariaDB adds a nullable column instantly.
ALTER TABLE `doctor_job` ADD COLUMN `trace_context` TEXT NULL;
ALTER TABLE `doctor_job_dead_letter` ADD COLUMN `trace_context` TEXT NULL;
