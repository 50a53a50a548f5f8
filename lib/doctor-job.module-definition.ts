import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { DoctorJobOptions } from './doctor-job.options';

export interface DoctorJobModuleExtras {
  /** Register OutboxService and DeadLetterService for the whole app (default true). */
  isGlobal?: boolean;
}

export const {
  ConfigurableModuleClass: DoctorJobConfigurableModule,
  MODULE_OPTIONS_TOKEN: DOCTOR_JOB_MODULE_OPTIONS,
  OPTIONS_TYPE: DOCTOR_JOB_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: DOCTOR_JOB_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<DoctorJobOptions>()
  .setClassMethodName('forRoot')
  .setExtras<DoctorJobModuleExtras>({ isGlobal: true }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();
