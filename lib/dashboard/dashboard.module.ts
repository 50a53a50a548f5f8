import { Controller, Module, UseFilters, UseGuards, type DynamicModule, type Provider, type Type } from '@nestjs/common';
import { DoctorJobAdminService } from '../admin/admin.service';
import { JobEvents } from '../events/job-events';
import { DashboardAccessGuard } from './dashboard-access.guard';
import { DashboardActivity } from './dashboard.activity';
import { DASHBOARD_OPTIONS, DASHBOARD_RAW_OPTIONS } from './dashboard.constants';
import { DashboardController } from './dashboard.controller';
import { DashboardCsrf } from './dashboard.csrf';
import { DashboardExceptionFilter } from './dashboard.filter';
import {
  InvalidDashboardOptionsError,
  normalizePath,
  resolveDashboardOptions,
  type DoctorJobDashboardAsyncOptions,
  type DoctorJobDashboardOptions,
} from './dashboard.options';

/**
 * The operator's console for Doctor Job: an overview per job type, the jobs and dead letters with
 * filters, detail views and actions, served as server-rendered pages under a path of the app's.
 * Needs DoctorJobModule in the app (it uses DoctorJobAdminService and JobEvents), and an access
 * decision: it refuses to start without `guards` or `authorize`.
 *
 * @example
 * DoctorJobDashboardModule.forRoot({ path: 'jobs', guards: [AdminGuard] })
 */
@Module({})
export class DoctorJobDashboardModule {
  static forRoot(options: DoctorJobDashboardOptions): DynamicModule {
    return this.build(routePath(options?.path), [{ provide: DASHBOARD_RAW_OPTIONS, useValue: options }], []);
  }

  /** The same options from a factory (e.g. from ConfigService); the mount path is given here, as routes exist before any factory runs. */
  static forRootAsync(options: DoctorJobDashboardAsyncOptions): DynamicModule {
    const path = routePath(options?.path);
    if (typeof options.useFactory !== 'function') throw new InvalidDashboardOptionsError(['forRootAsync needs useFactory: (...inject) => options']);
    return this.build(
      path,
      [
        {
          provide: DASHBOARD_RAW_OPTIONS,
          useFactory: async (...args: unknown[]) => ({ ...(await options.useFactory(...args)), path: options.path }),
          inject: options.inject ?? [],
        },
      ],
      options.imports ?? [],
    );
  }

  private static build(path: string, raw: Provider[], imports: DynamicModule['imports'] & unknown[]): DynamicModule {
    return {
      module: DoctorJobDashboardModule,
      imports,
      controllers: [mountController(path)],
      providers: [
        ...raw,
        {
          provide: DASHBOARD_OPTIONS,
          useFactory: (options: DoctorJobDashboardOptions, admin?: DoctorJobAdminService, events?: JobEvents) => {
            const resolved = resolveDashboardOptions(options);
            if (!admin || !events) {
              throw new InvalidDashboardOptionsError([
                'DoctorJobDashboardModule needs DoctorJobModule: import DoctorJobModule.forRoot(...) in the app (it is global by default; with isGlobal: false, pass it in forRootAsync imports)',
              ]);
            }
            return resolved;
          },
          inject: [DASHBOARD_RAW_OPTIONS, { token: DoctorJobAdminService, optional: true }, { token: JobEvents, optional: true }],
        },
        DashboardCsrf,
        DashboardActivity,
        DashboardAccessGuard,
        DashboardExceptionFilter,
      ],
    };
  }
}

function routePath(path: unknown): string {
  return normalizePath(path);
}

/** The routes at the app's path: a subclass per mount, so the shared class's metadata is never changed. */
function mountController(path: string): Type {
  @Controller(path)
  @UseGuards(DashboardAccessGuard)
  @UseFilters(DashboardExceptionFilter)
  class DoctorJobDashboardController extends DashboardController {}
  return DoctorJobDashboardController;
}
