import { ForbiddenException, Inject, Injectable, type CanActivate, type ExecutionContext, type Type } from '@nestjs/common';
import { HttpAdapterHost, ModuleRef, Reflector } from '@nestjs/core';
import { lastValueFrom, isObservable } from 'rxjs';
import { DASHBOARD_OPTIONS, PUBLIC_ASSET } from './dashboard.constants';
import { SECURITY_HEADERS } from './dashboard.headers';
import type { ResolvedDashboardOptions } from './dashboard.options';

/**
 * The console's one guard: sets the security headers on every response, then applies the app's
 * access decision (its `guards` in order, then `authorize`) to every route but the static assets.
 */
@Injectable()
export class DashboardAccessGuard implements CanActivate {
  private resolved?: Promise<CanActivate[]>;

  constructor(
    @Inject(DASHBOARD_OPTIONS) private readonly options: ResolvedDashboardOptions,
    private readonly moduleRef: ModuleRef,
    private readonly adapterHost: HttpAdapterHost,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const adapter = this.adapterHost.httpAdapter;
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) adapter.setHeader(http.getResponse(), name, value);
    if (this.reflector.get<boolean>(PUBLIC_ASSET, context.getHandler())) return true;
    for (const guard of await this.guards()) {
      const result = guard.canActivate(context);
      const allowed = isObservable(result) ? await lastValueFrom(result) : await result;
      if (!allowed) throw new ForbiddenException('Access to the Doctor Job console was refused by its guard');
    }
    if (this.options.authorize && !(await this.options.authorize(http.getRequest()))) {
      throw new ForbiddenException('Access to the Doctor Job console was refused (authorize returned false)');
    }
    return true;
  }

  /** Guard classes from the app's container when it provides them, else built here once (with their dependencies injected). */
  private guards(): Promise<CanActivate[]> {
    this.resolved ??= Promise.all(
      this.options.guards.map(async (guard) => {
        if (typeof guard !== 'function') return guard;
        try {
          return this.moduleRef.get(guard, { strict: false });
        } catch {
          return this.moduleRef.create(guard as Type<CanActivate>);
        }
      }),
    );
    return this.resolved;
  }
}
