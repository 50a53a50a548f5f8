// Texts of the errors and warnings that users see, in one place.

export const DUPLICATE_HANDLER = (type: string, first: string, second: string) =>
  `Two @JobHandler methods handle job type "${type}": ${first} and ${second}. ` +
  `A job type has exactly one handler; rename one of the types or remove one handler.`;

export const REQUEST_SCOPED_HANDLER = (type: string, location: string) =>
  `@JobHandler("${type}") on ${location} is skipped: the provider is request-scoped (or depends on one), ` +
  `and jobs run outside any request. Move the handler to a singleton provider.`;

export const UNKNOWN_TYPE = (type: string, known: string[]) =>
  `Unknown job type ${JSON.stringify(type)}: no @JobHandler is registered for it. ` +
  (known.length ? `Registered types: ${known.map((t) => JSON.stringify(t)).join(', ')}.` : 'No handlers are registered in this app.');

export const NOT_A_TRANSACTION = (type: string) =>
  `enqueue("${type}") was given the root Prisma client, not a transaction client. ` +
  `Outbox writes belong inside the transaction that changes your data: ` +
  `call it as outbox.transaction(async (tx) => { ...; await outbox.enqueue(tx, ...) }) or inside prisma.$transaction(async (tx) => ...). ` +
  `For a job that belongs to no transaction of yours, call outbox.send("${type}", payload) instead.`;

export const NO_HANDLER_AT_RUN = (type: string) =>
  `No @JobHandler is registered for job type "${type}" in this app; the job was dead-lettered. ` +
  `Register a handler, then replay it from the dead letters.`;

export const LEASE_EXPIRED_ON_LAST_ATTEMPT = (attempts: number) =>
  `The job's lease expired during its last allowed attempt (${attempts}): the worker running it died or ` +
  `the handler outlived the lease. It was dead-lettered instead of being run again.`;

export const TIMED_OUT = (timeoutMs: number) =>
  `The handler did not finish within its timeout of ${timeoutMs} ms; the attempt failed (its signal was aborted).`;

export const LEASE_LOST = (id: string) =>
  `Job ${id}: its lease could not be extended because another worker holds it now (this process stalled past the lease). ` +
  `Its handler was aborted here and its outcome will not be written.`;

export const NO_SCHEDULE_MODULE =
  'DoctorJobModule schedules its runner with @nestjs/schedule, but no SchedulerRegistry is available. ' +
  'Add ScheduleModule.forRoot() to the imports of your AppModule (once per app).';

export const JOBS_GONE = (gone: number, of: number) =>
  `${gone} of ${of} jobs whose handlers succeeded were no longer in the queue when their success was written ` +
  '(deleted outside Doctor Job while their lease was live); each ran once.';

export const CLAIMS_UNKNOWN = (gone: number, of: number, leaseMs: number) =>
  `${gone} of ${of} jobs whose handlers succeeded were not deleted by their batch, which returned when some of its leases ` +
  `(${leaseMs} ms) could have run out: those jobs may have been claimed again by another worker. No job.succeeded events for this batch.`;

export const CLAIM_LOST = (id: string, type: string, what: string, leaseMs: number) =>
  `Job ${id} (${type}): ${what} skipped, its claim no longer holds ` +
  `(the lease of ${leaseMs} ms ran out and the job was claimed again, or it was released).`;

export const PAYLOAD_REJECTED = (dto: string, problems: string[]) => `The payload fails ${dto}:\n  - ${problems.join('\n  - ')}`;

export const UNEXPECTED_RUNNER_ERROR = (id: string, type: string, message: string) => `Job ${id} (${type}): unexpected runner error: ${message}`;

export const RUNNER_STOPPED = (finished: number, released: number) =>
  `Runner stopped: ${finished} running handler(s) finished, ${released} job(s) released.`;

export const SHUTDOWN_ABORT_REASON = 'Doctor Job is shutting down';

export const SHUTDOWN_RELEASED = (timeoutMs: number, running: number, released: number) =>
  `Shutdown timeout (${timeoutMs} ms) passed with ${running} handler(s) still running: ` +
  `aborted them and released ${released} job(s) for another worker, attempt not consumed.`;

export const DATABASE_ANSWERS_AGAIN = 'The database answers again; claiming resumed.';

export const DATABASE_FAILED = (what: string, message: string, pollIntervalMs: number) =>
  `Could not ${what}: ${message}. Retrying every ${pollIntervalMs} ms; ` +
  `further failures are not logged until the database answers again. Jobs not settled become due again when their lease ends.`;

export const LISTEN_RECONNECTED = 'LISTEN/NOTIFY wake-up reconnected.';

export const LISTEN_LOST = (message: string, pollIntervalMs: number) =>
  `LISTEN/NOTIFY wake-up lost its connection (${message}); reconnecting, polling every ${pollIntervalMs} ms meanwhile.`;

export const LISTEN_OFF = (message: string, pollIntervalMs: number) =>
  `LISTEN/NOTIFY wake-up is off (${message}); polling every ${pollIntervalMs} ms. Pass notify: { connectionString } to turn it on.`;

const MIGRATE_HINT =
  'run `npx doctor-job migrate` against this database (DATABASE_URL or --url), or apply the SQL of `npx doctor-job sql` with your own migration tool';

export const SCHEMA_TABLES_MISSING = (tables: string[]) =>
  `Doctor Job's table${tables.length === 1 ? '' : 's'} ${tables.join(', ')} ${tables.length === 1 ? 'is' : 'are'} missing from the database: ${MIGRATE_HINT}.`;

export const SCHEMA_MIGRATIONS_PENDING = (names: string[]) =>
  `Doctor Job's migration${names.length === 1 ? '' : 's'} ${names.join(', ')} ${names.length === 1 ? 'is' : 'are'} not applied to the database: ${MIGRATE_HINT}.`;

export const SCHEMA_JOB_TABLE_PARTITIONED =
  "Doctor Job's table doctor_job is partitioned. The runner claims jobs by their row address (ctid), which names a row only within one " +
  'partition, so on a partitioned table a claim could also take jobs of other partitions that it never locked (due or not, held by another ' +
  'runner or not). Keep doctor_job a plain table, as `npx doctor-job migrate` creates it: finished jobs are deleted, so it stays small.';

export const RUNNER_NOT_STARTED = (problem: string) => `${problem} The runner did not start.`;

export const RUNNER_POOL_NO_SETTINGS =
  "runnerPool: the connection settings of the Prisma client's adapter could not be read, so the runner claims jobs through the " +
  'Prisma client (more CPU per job). Pass runnerPool: { connectionString } to use a pool of its own, or runnerPool: false to silence this.';

export const RUNNER_POOL_NO_PG =
  'runnerPool: the "pg" package is not installed, so the runner claims jobs through the Prisma client (more CPU per job). ' +
  'Install pg (npm install pg) or set runnerPool: false to silence this.';

export const TRANSACTION_CLAIM_LOST = (id: string, type: string) =>
  `Job ${id} (${type}): its transaction was rolled back, nothing it wrote committed: its claim no longer holds ` +
  '(the lease ran out and the job was claimed again, or it was released).';

export const NO_HANDLER_TRANSACTIONS = (type: string) =>
  `@JobHandler("${type}", { transaction: true }) needs the app's Prisma client to open its transaction, and this runner was built without one.`;
