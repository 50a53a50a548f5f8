import { DOCTOR_JOB_OPTIONS } from '../doctor-job.constants';
import { DOCTOR_JOB_MODULE_OPTIONS } from '../doctor-job.module-definition';
import { resolveOptions, type DoctorJobOptions } from '../doctor-job.options';

/** The part of @nestjs/testing's TestingModuleBuilder this needs (so the kit does not load it). */
export interface OverridableBuilder {
  overrideProvider(token: unknown): { useFactory(options: { factory: (...args: any[]) => unknown; inject?: unknown[] }): any };
}

/**
 * Makes the app's DoctorJobModule start without its runner: jobs stay queued until the test
 * calls `JobTester.drain()` (or starts `OutboxRunner` itself). Every other option is the app's own.
 *
 *   const moduleRef = await withoutRunner(Test.createTestingModule({ imports: [AppModule] })).compile();
 */
export function withoutRunner<B extends OverridableBuilder>(builder: B): B {
  builder.overrideProvider(DOCTOR_JOB_OPTIONS).useFactory({
    factory: (options: DoctorJobOptions) => resolveOptions({ ...options, autoStart: false }),
    inject: [DOCTOR_JOB_MODULE_OPTIONS],
  });
  return builder;
}
