/** Metadata key under which @JobHandler stores its definition. Namespaced so it cannot collide. */
export const JOB_HANDLER_METADATA = 'doctor-job:handler';

/** Injection token of the resolved Doctor Job options (defaults applied, validated). */
export const DOCTOR_JOB_OPTIONS = Symbol('DOCTOR_JOB_OPTIONS');

/** Name of the runner's interval in @nestjs/schedule's SchedulerRegistry. */
export const DOCTOR_JOB_RUNNER_NAME = 'doctor-job.runner';

