export { DoctorJobModule } from './doctor-job.module';
export type { DoctorJobAsyncOptions, DoctorJobModuleExtras, DoctorJobOptionsFactory } from './doctor-job.module-definition';
export { DEFAULT_OPTIONS, type BackoffOptions, type Dialect, type DoctorJobOptions, type ReindexOptions, type RunnerPoolOptions } from './doctor-job.options';
export { DOCTOR_JOB_RUNNER_NAME } from './doctor-job.constants';
export { JobHandler, type JobHandlerOptions } from './decorators/job-handler.decorator';
export type { JobContext, TransactionalJobContext } from './handlers/job-context.interface';
export { OutboxService } from './outbox/outbox.service';
export { DeadLetterService, type DeadLetterListOptions, type DeadLetterPage } from './outbox/dead-letter.service';
export { CANCELLED_MESSAGE, DoctorJobAdminService, type JobStoreSource } from './admin/admin.service';
export type {
  AdminStats,
  CancelResult,
  DeadLetterBulkMatch,
  DeadLetterDetail,
  DeadLetterListQuery,
  DeadLetterMatch,
  DeleteResult,
  JobDetail,
  JobListOptions,
  Page,
  PauseResult,
  ReplayResult,
  RunNowResult,
  TypeOverview,
} from './admin/admin.types';
export { DOCTOR_THRESHOLDS, type DoctorCheck, type DoctorReport, type Verdict } from './admin/doctor';
export type { DoctorJobs, EnqueueOptions, JobPayload, JobRequest, JobType } from './outbox/job-map';
export type { AmbientOptions } from './outbox/ambient-transaction';
export { OutboxRunner } from './runner/outbox.runner';
export * from './relay';
export { traceHeaders } from './tracing';
export {
  JobEvents,
  type JobDeadLetteredEvent,
  type JobEvent,
  type JobEventName,
  type JobFailedEvent,
  type JobStartedEvent,
  type JobSucceededEvent,
} from './events/job-events';
export type {
  DeadLetter,
  DeadLetterReason,
  HorizonHolder,
  IndexRebuild,
  IndexUpkeep,
  JobAttempt,
  JobState,
  PausedType,
  PendingJob,
  QueuedJob,
  QueuedJobWithPayload,
  QueueStats,
  StoreDiagnostics,
  TableDiagnostics,
  TypeStats,
} from './store/job-store.interface';
export type { PrismaClientLike, TransactionClientLike, TransactionOptions } from './store/prisma-client.interface';
export { EnqueueError } from './errors/enqueue.error';
export { HandlerRegistrationError } from './errors/handler-registration.error';
export { InvalidOptionsError } from './errors/invalid-options.error';
export { DeadLetterNotFoundError, InvalidArgumentError } from './errors/invalid-argument.error';
export { JobNotFoundError, JobRunningError } from './errors/job-not-found.error';
export { DEAD_LETTER_REASONS, JOB_STATES } from './store/job-store.interface';
export { JobTimeoutError } from './errors/job-timeout.error';
export { NonRetryableJobError } from './errors/non-retryable.error';
