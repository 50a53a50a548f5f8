import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { DoctorJobOptions } from './doctor-job.options';

export interface DoctorJobModuleExtras {
  /** Register OutboxService and DeadLetterService for the whole app (default true). */
  isGlobal?: boolean;
}

/** For `forRootAsync({ useClass })`: a provider that builds the options. */
export interface DoctorJobOptionsFactory {
  createDoctorJobOptions(): DoctorJobOptions | Promise<DoctorJobOptions>;
}

export const {
  ConfigurableModuleClass: DoctorJobConfigurableModule,
  MODULE_OPTIONS_TOKEN: DOCTOR_JOB_MODULE_OPTIONS,
  OPTIONS_TYPE: DOCTOR_JOB_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: DOCTOR_JOB_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<DoctorJobOptions>()
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createDoctorJobOptions')
  .setExtras<DoctorJobModuleExtras>({ isGlobal: true }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();

/** What `DoctorJobModule.forRootAsync()` takes. */
export type DoctorJobAsyncOptions = typeof DOCTOR_JOB_ASYNC_OPTIONS_TYPE;
