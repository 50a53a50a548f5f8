import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { DOCTOR_JOB_OPTIONS } from './doctor-job.constants';
import { DOCTOR_JOB_MODULE_OPTIONS, DoctorJobConfigurableModule } from './doctor-job.module-definition';
import { resolveOptions, type DoctorJobOptions } from './doctor-job.options';
import { JobHandlerExplorer } from './handlers/job-handler.explorer';
import { JobHandlerRegistry } from './handlers/job-handler.registry';
import { DoctorJobAdminService } from './admin/admin.service';
import { DeadLetterService } from './outbox/dead-letter.service';
import { OutboxService } from './outbox/outbox.service';
import { SchemaCheck } from './outbox/schema-check';
import { JobEventLogger } from './events/job-event.logger';
import { JobEvents } from './events/job-events';
import { CronScheduler } from './runner/cron.scheduler';
import { OutboxRunner } from './runner/outbox.runner';
import { JobStoreHost } from './store/job-store.host';

/**
 * The transactional outbox. `DoctorJobModule.forRoot({ prisma: PrismaService })` or
 * `forRootAsync({ useFactory, inject })`; global unless `isGlobal: false`. Needs
 * `ScheduleModule.forRoot()` in the app (the runner is an interval of its SchedulerRegistry).
 */
@Module({
  // The app imports ScheduleModule.forRoot() once; importing it here too would run its
  // explorer twice and fire every @Interval/@Cron/@Timeout of the app twice.
  imports: [DiscoveryModule],
  providers: [
    {
      provide: DOCTOR_JOB_OPTIONS,
      useFactory: (options: DoctorJobOptions) => resolveOptions(options),
      inject: [DOCTOR_JOB_MODULE_OPTIONS],
    },
    JobStoreHost,
    JobHandlerRegistry,
    JobHandlerExplorer,
    SchemaCheck,
    OutboxService,
    DeadLetterService,
    // A plain class (the CLI builds one over a store of its own): the module gives it the app's store.
    { provide: DoctorJobAdminService, useFactory: (host: JobStoreHost) => new DoctorJobAdminService(host), inject: [JobStoreHost] },
    JobEvents,
    JobEventLogger,
    OutboxRunner,
    CronScheduler,
  ],
  exports: [OutboxService, DeadLetterService, DoctorJobAdminService, OutboxRunner, JobEvents],
})
export class DoctorJobModule extends DoctorJobConfigurableModule {}
